//! Reading vector tiles back for the tests, independently of the encoder: a protobuf decode
//! (geozero's generated types), then the geometry commands decoded here by the spec, and the
//! fidelity check of the map against the lookup API.

#![allow(dead_code)]

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use geozero::mvt::{Message, Tile};
use serde_json::{json, Value};
use tower::ServiceExt;

/// One decoded feature: its properties as text and its rings (polygons) or points.
#[derive(Debug, Clone)]
pub struct Feature {
    pub id: Option<u64>,
    pub props: HashMap<String, String>,
    pub rings: Vec<Vec<(f64, f64)>>,
}

pub type Layers = HashMap<String, (u32, Vec<Feature>)>;

/// Decodes a tile's layers (name → (extent, features)).
pub fn decode(bytes: &[u8]) -> Layers {
    let tile = Tile::decode(bytes).expect("a tile is a valid protobuf");
    let mut out = HashMap::new();
    for layer in tile.layers {
        assert_eq!(layer.version, 2, "layer {}", layer.name);
        let value = |i: u32| {
            let v = &layer.values[i as usize];
            v.string_value
                .clone()
                .or(v.uint_value.map(|u| u.to_string()))
                .or(v.int_value.map(|u| u.to_string()))
                .unwrap_or_default()
        };
        let features = layer
            .features
            .iter()
            .map(|f| Feature {
                id: f.id,
                props: f
                    .tags
                    .chunks(2)
                    .map(|kv| (layer.keys[kv[0] as usize].clone(), value(kv[1])))
                    .collect(),
                rings: geometry(&f.geometry),
            })
            .collect();
        out.insert(layer.name.clone(), (layer.extent.unwrap_or(4096), features));
    }
    out
}

/// Geometry commands → rings (each MoveTo starts one; ClosePath ends it).
fn geometry(cmds: &[u32]) -> Vec<Vec<(f64, f64)>> {
    let (mut x, mut y) = (0i64, 0i64);
    let mut rings: Vec<Vec<(f64, f64)>> = Vec::new();
    let zigzag = |v: u32| ((v >> 1) as i64) ^ -((v & 1) as i64);
    let mut i = 0;
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 7, cmds[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    x += zigzag(cmds[i]);
                    y += zigzag(cmds[i + 1]);
                    i += 2;
                    if id == 1 {
                        rings.push(Vec::new());
                    }
                    rings.last_mut().expect("MoveTo first").push((x as f64, y as f64));
                }
            }
            7 => {}
            other => panic!("unknown command {other}"),
        }
    }
    rings
}

/// Whether `p` is inside the feature's polygons (even–odd over all its rings: exteriors and
/// holes alike, as valid polygons fill).
pub fn contains(f: &Feature, p: (f64, f64)) -> bool {
    let mut inside = false;
    for ring in &f.rings {
        let n = ring.len();
        for i in 0..n {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            if (a.1 > p.1) != (b.1 > p.1) && p.0 < a.0 + (p.1 - a.1) / (b.1 - a.1) * (b.0 - a.0) {
                inside = !inside;
            }
        }
    }
    inside
}

/// Distance from `p` to the nearest ring edge of any of `features`, in tile units.
pub fn border_distance(features: &[Feature], p: (f64, f64)) -> f64 {
    let mut best = f64::INFINITY;
    for ring in features.iter().flat_map(|f| &f.rings) {
        let n = ring.len();
        for i in 0..n {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            best = best.min(segment_distance(p, a, b));
        }
    }
    best
}

fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    ((p.0 - a.0 - t * dx).powi(2) + (p.1 - a.1 - t * dy).powi(2)).sqrt()
}

pub async fn get_bytes(app: &Router, path: &str) -> (StatusCode, HashMap<String, String>, Vec<u8>) {
    let r = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap().to_vec();
    (status, headers, body)
}

fn world(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.to_radians();
    (
        (lon + 180.0) / 360.0,
        (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0,
    )
}

fn lonlat(x: f64, y: f64) -> (f64, f64) {
    let n = std::f64::consts::PI * (1.0 - 2.0 * y);
    (x * 360.0 - 180.0, n.sinh().atan().to_degrees())
}

/// What a view of the map agreed and disagreed on.
#[derive(Debug, Default)]
pub struct Fidelity {
    /// Samples more than `margin_px` from any drawn border.
    pub checked: usize,
    /// Of those, drawn in an alliance other than the lookup's (or drawn where the lookup
    /// finds none, or the reverse).
    pub wrong: Vec<String>,
    /// Samples within the margin (not judged).
    pub near_border: usize,
}

/// Samples a `size_px`² view at zoom `view_zoom` centred on (lon, lat) every `step_px`,
/// reading the tiles the page would draw (from `max_zoom` when deeper, as MapLibre
/// over-zooms) and asking the lookup API (POST, in one batch) for each sample.
#[allow(clippy::too_many_arguments)]
pub async fn check_view(
    app: &Router,
    date: &str,
    lon: f64,
    lat: f64,
    view_zoom: u8,
    max_zoom: u8,
    size_px: f64,
    step_px: f64,
    margin_px: f64,
) -> Fidelity {
    let tile_zoom = view_zoom.min(max_zoom);
    let (cx, cy) = world(lon, lat);
    let view_scale = 256.0 * (1u64 << view_zoom) as f64; // world → view pixels
    let mut tiles: HashMap<(u32, u32), Vec<Feature>> = HashMap::new();
    let mut samples = Vec::new();
    let n = (size_px / step_px) as i64;
    for i in 0..=n {
        for j in 0..=n {
            let (px, py) = (i as f64 * step_px - size_px / 2.0, j as f64 * step_px - size_px / 2.0);
            let (wx, wy) = (cx + px / view_scale, cy + py / view_scale);
            let t = 1u64 << tile_zoom;
            let (tx, ty) = ((wx * t as f64).floor() as u32, (wy * t as f64).floor() as u32);
            if let std::collections::hash_map::Entry::Vacant(slot) = tiles.entry((tx, ty)) {
                let (status, _, body) =
                    get_bytes(app, &format!("/api/v1/tiles/{tile_zoom}/{tx}/{ty}.mvt?date={date}")).await;
                assert_eq!(status, StatusCode::OK);
                slot.insert(decode(&body).remove("alliances").map(|l| l.1).unwrap_or_default());
            }
            let local = (
                (wx * t as f64 - tx as f64) * 4096.0,
                (wy * t as f64 - ty as f64) * 4096.0,
            );
            samples.push(((tx, ty), local, lonlat(wx, wy)));
        }
    }
    // Tile units to view pixels.
    let px_per_unit = (1u64 << (view_zoom - tile_zoom)) as f64 * 256.0 / 4096.0;
    let mut out = Fidelity::default();
    for chunk in samples.chunks(1000) {
        let points: Vec<Value> = chunk
            .iter()
            .map(|(_, _, (lo, la))| json!({"lon": lo, "lat": la}))
            .collect();
        let body = json!({ "points": points }).to_string();
        let r = app
            .clone()
            .oneshot(
                Request::post(format!("/api/v1/lookup?date={date}"))
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let answers: Value =
            serde_json::from_slice(&axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap()).unwrap();
        let answers = answers["results"]
            .as_array()
            .or(answers.as_array())
            .cloned()
            .expect("an array of answers");
        for ((tile, local, (lo, la)), answer) in chunk.iter().zip(answers) {
            let features = &tiles[tile];
            if border_distance(features, *local) * px_per_unit <= margin_px {
                out.near_border += 1;
                continue;
            }
            out.checked += 1;
            let drawn: Vec<&str> = features
                .iter()
                .filter(|f| contains(f, *local))
                .map(|f| f.props["code"].as_str())
                .collect();
            let code = answer["alliance"]["code"].as_str();
            // Off the drawn coast the lookup may still name the nearest area (its tolerance):
            // drawing nothing there is right too.
            let ok = match (answer["match"].as_str(), code) {
                (Some("contains"), Some(code)) => drawn == [code],
                (Some("nearest"), Some(code)) => drawn.is_empty() || drawn == [code],
                _ => drawn.is_empty(),
            };
            if !ok {
                out.wrong.push(format!(
                    "{lo:.6},{la:.6} at zoom {view_zoom}: drawn {drawn:?}, lookup {} {}",
                    answer["match"], answer["alliance"]["code"]
                ));
            }
        }
    }
    out
}

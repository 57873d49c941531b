//! Measures the vector tiles of one period: preparing every zoom, cutting every tile with
//! content from zoom 0 to the deepest generated (time per tile, p50/p99/max), the bytes and the
//! memory it all takes, then cached tiles through the in-process router (brotli, as a browser
//! asks). Run: `cargo run --release --example tile_timing [-- DATE]`.

use std::time::Instant;

use alliance_map::api::{app, AppState};
use alliance_map::atlas::Atlas;
use alliance_map::tiles::{TileId, MAX_ZOOM};
use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let dir = std::env::var_os("ALLIANCE_MAP_DATA").map_or_else(|| "../shared/data".into(), std::path::PathBuf::from);
    let date = std::env::args().nth(1).unwrap_or_else(|| "2017-04-01".into());
    let atlas = Atlas::load_boundaries(&dir, 2000.0).expect("data loads");
    let when = atlas
        .data
        .when(Some(date.parse().expect("a date")))
        .expect("a held date");
    let colours = atlas.map_layers_at(when.period).colours.clone();
    alliance_map::atlas::release_free_memory();
    let before = rss_kb("VmRSS:");
    let started = Instant::now();
    atlas.tiles.prepare(&atlas.data, &colours, when.period);
    let prepared_ms = started.elapsed().as_millis();
    alliance_map::atlas::release_free_memory();
    let after_prepare = rss_kb("VmRSS:");
    let b = atlas.tiles.bounds(&atlas.data, &colours, when.period).expect("bounds");
    let mut times = Vec::new();
    let mut per_zoom = Vec::new();
    let started = Instant::now();
    let mut ids = Vec::new();
    for z in 0..=MAX_ZOOM {
        let nw = alliance_map::tiles::project::to_world(b[0], b[3]);
        let se = alliance_map::tiles::project::to_world(b[2], b[1]);
        let (a, c) = (TileId::containing(z, nw.0, nw.1), TileId::containing(z, se.0, se.1));
        let zs = Instant::now();
        let mut n = 0;
        for x in a.x..=c.x {
            for y in a.y..=c.y {
                let id = TileId { z, x, y };
                let t = Instant::now();
                let tile = atlas
                    .tiles
                    .tile(&atlas.data, &colours, when.period, id)
                    .expect("a tile");
                times.push(t.elapsed().as_secs_f64() * 1e3);
                if !tile.is_empty() {
                    n += 1;
                    ids.push(id);
                }
            }
        }
        per_zoom.push((z, n, zs.elapsed().as_millis()));
    }
    let cut_ms = started.elapsed().as_millis();
    alliance_map::atlas::release_free_memory();
    let after_cut = rss_kb("VmRSS:");
    let (count, bytes) = atlas.tiles.cached();
    println!(
        "period {} ({date}): prepared zooms 0-{MAX_ZOOM} in {prepared_ms} ms",
        atlas.data.periods[when.period].from
    );
    for (z, n, ms) in per_zoom {
        println!("  zoom {z:2}: {n:5} tiles with content, cut in {ms} ms");
    }
    println!(
        "cut {} tiles ({} with content, {count} kept) in {cut_ms} ms: per tile p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.1} MB uncompressed",
        times.len(),
        ids.len(),
        percentile(&mut times.clone(), 0.5),
        percentile(&mut times.clone(), 0.99),
        percentile(&mut times, 1.0),
        bytes as f64 / 1e6
    );
    println!(
        "memory (RSS): {} MB loaded, +{} MB prepared geometry, +{} MB tiles; peak {} MB",
        before / 1024,
        (after_prepare.saturating_sub(before)) / 1024,
        (after_cut.saturating_sub(after_prepare)) / 1024,
        rss_kb("VmHWM:") / 1024
    );
    // Cached, through the router, as the page asks (brotli).
    let router = app(AppState::new(atlas));
    let get = |id: TileId| {
        let r = router.clone();
        let path = format!("/api/v1/tiles/{}/{}/{}.mvt?date={date}", id.z, id.x, id.y);
        async move {
            let req = Request::get(path)
                .header("accept-encoding", "gzip, deflate, br")
                .body(Body::empty())
                .unwrap();
            let t = Instant::now();
            let resp = r.oneshot(req).await.unwrap();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
            (t.elapsed().as_secs_f64() * 1e3, body.len())
        }
    };
    let mut first = Vec::new();
    let mut wire = 0;
    for &id in &ids {
        let (ms, len) = get(id).await;
        first.push(ms);
        wire += len;
    }
    let mut cached = Vec::new();
    for _ in 0..3 {
        for &id in &ids {
            cached.push(get(id).await.0);
        }
    }
    println!(
        "through the router, brotli: first (compressing) p99 {:.2} ms; cached p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {} requests; {:.1} MB brotli in all",
        percentile(&mut first, 0.99),
        percentile(&mut cached.clone(), 0.5),
        percentile(&mut cached.clone(), 0.99),
        percentile(&mut cached, 1.0),
        ids.len() * 3,
        wire as f64 / 1e6
    );
}

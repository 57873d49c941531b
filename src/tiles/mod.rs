//! Mapbox Vector Tiles of every period's editions, cut from the full-detail boundaries: the
//! map draws exactly what the lookup answers, at every zoom.
//!
//! - [`prepared`]: per zoom, the period's alliances, footprints and sub-areas simplified
//!   *together* (shared borders stay shared: no slivers, no gaps), projected;
//! - [`clip`]: a tile's polygons clipped to the tile and a buffer, on the tile's integer grid,
//!   spikes removed, wound as the spec asks;
//! - [`encode`]: the tile written with geozero's MVT writer;
//! - [`context`]: district outlines and labels and place names to orient by.
//!
//! Zooms 0 to [`MAX_ZOOM`] are generated; deeper requests are cut from the deepest zoom's
//! geometry (the page lets MapLibre over-zoom instead). Each period's zoom levels are prepared
//! on first use (the default period's in the background at start) and each tile is cut once
//! and kept, with its ETag and compressed variants ([`Asset`]).

pub mod clip;
pub mod context;
pub mod encode;
pub mod glyphs;
pub mod prepared;
pub mod project;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use geo::{Area, BoundingRect, InteriorPoint, MultiPolygon};
use geozero::mvt::TileValue;

use crate::maplayers::asset::Asset;
use crate::maplayers::simplify::simplify_together;
use crate::model::Dataset;
use context::{Context, Label, DISTRICT_MINZOOM};
use encode::{LayerBuilder, PolygonRings, EXTENT};
use prepared::{tolerance, Prepared};
pub use project::TileId;

/// The deepest zoom generated: a tile unit there is a pixel at zoom 16 (about 1.5 m in England).
pub const MAX_ZOOM: u8 = 12;
/// The deepest zoom a tile may be asked for.
pub const MAX_REQUEST_ZOOM: u8 = 22;
/// Buffer around a tile, in tile units (4 px): lines along tile edges join without seams.
pub const BUFFER: f64 = 64.0;
/// The first zoom sub-area polygons are in the tiles (they are too fine to see before).
pub const SUB_AREA_MINZOOM: u8 = 6;

pub const CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";
const CACHE: &str = "public, max-age=3600, must-revalidate";

/// The tiles of one atlas: per period, and the context shared by every period.
pub struct Tiles {
    periods: Vec<OnceLock<PeriodTiles>>,
    context: OnceLock<ContextTiles>,
    /// An empty tile (outside the data), shared.
    empty: OnceLock<Arc<Asset>>,
}

/// One period's alliances, footprints and sub-areas.
pub struct PeriodTiles {
    /// Per layer (alliances, footprints, sub-areas): each area's properties.
    props: [Vec<Props>; 3],
    /// The editions (indexes into `Dataset::editions`) of the three layers, whose full
    /// geometry is simplified per zoom on first use (read from the dataset, not copied).
    editions: [Option<usize>; 3],
    zooms: Vec<OnceLock<[Prepared; 3]>>,
    alliance_labels: Vec<Label>,
    /// The world box of all areas, where tiles can have content.
    bounds: [f64; 4],
    cache: Mutex<HashMap<TileId, Arc<Asset>>>,
}

struct ContextTiles {
    context: Context,
    zooms: Vec<OnceLock<Prepared>>,
    bounds: [f64; 4],
    /// The district outlines indexed for point tests (the answer names a point's district),
    /// built on first use.
    district_index: OnceLock<crate::spatial::LayerIndex>,
}

/// An area's properties in the tiles.
#[derive(Clone)]
struct Props {
    code: String,
    name: String,
    colour: Option<&'static str>,
}

/// The layers of a tile, in drawing order.
pub const LAYERS: [&str; 7] = [
    "alliances",
    "footprints",
    "sub_areas",
    "districts",
    "alliance_labels",
    "district_labels",
    "places",
];

impl Tiles {
    pub fn new(periods: usize) -> Self {
        Tiles {
            periods: (0..periods).map(|_| OnceLock::new()).collect(),
            context: OnceLock::new(),
            empty: OnceLock::new(),
        }
    }

    /// Tile `id` of period `period`; `colours` are the alliances' map colours.
    pub fn tile(&self, data: &Dataset, colours: &[&'static str], period: usize, id: TileId) -> Option<Arc<Asset>> {
        let tiles = self.period(data, colours, period)?;
        let context = self.context(data);
        let cached = id.z <= MAX_ZOOM;
        if cached {
            if let Some(hit) = tiles.cache.lock().ok()?.get(&id) {
                return Some(hit.clone());
            }
        }
        if !meets(tile_box(id, 0.0), tiles.bounds) && !meets(tile_box(id, 0.0), context.bounds) {
            return Some(self.empty.get_or_init(|| Arc::new(tile_asset(Vec::new()))).clone());
        }
        let asset = Arc::new(tile_asset(tiles.cut(data, id, context)));
        if cached {
            let mut cache = tiles.cache.lock().ok()?;
            return Some(cache.entry(id).or_insert(asset).clone());
        }
        Some(asset)
    }

    /// Period `period`'s tiles (`None`: no such period).
    pub fn period(&self, data: &Dataset, colours: &[&'static str], period: usize) -> Option<&PeriodTiles> {
        let cell = self.periods.get(period)?;
        Some(cell.get_or_init(|| PeriodTiles::new(data, colours, period)))
    }

    /// Prepares every zoom of a period (and the context) now: what the background warm-up and
    /// the whole-edition measurement run.
    pub fn prepare(&self, data: &Dataset, colours: &[&'static str], period: usize) {
        let Some(tiles) = self.period(data, colours, period) else {
            return;
        };
        let context = self.context(data);
        for z in 0..=MAX_ZOOM {
            tiles.zoom(data, z);
            context.zoom(z);
        }
    }

    fn context(&self, data: &Dataset) -> &ContextTiles {
        self.context.get_or_init(|| {
            let context = Context::load(&data.source, &data.manifest).unwrap_or_else(|e| {
                // Context is decoration: the map still answers without it.
                tracing::warn!(error = %e, "map context files could not be read: tiles without them");
                Context::default()
            });
            let mut bounds = EMPTY_BOX;
            for l in context.places.iter().chain(&context.district_labels) {
                bounds = grow(bounds, [l.at.0, l.at.1, l.at.0, l.at.1]);
            }
            for r in context.district_geometry.iter().filter_map(|g| g.bounding_rect()) {
                let (w, n) = project::to_world(r.min().x, r.max().y);
                let (e, s) = project::to_world(r.max().x, r.min().y);
                bounds = grow(bounds, [w, n, e, s]);
            }
            let zooms = (0..=MAX_ZOOM).map(|_| OnceLock::new()).collect();
            ContextTiles {
                context,
                zooms,
                bounds,
                district_index: OnceLock::new(),
            }
        })
    }

    /// The local-authority district (code, name) covering a point, from the map's context
    /// files; `None` where no district covers it or the data has none. On a border between two
    /// districts, the lower-indexed one (file order) answers.
    pub fn district_at(&self, data: &Dataset, lon: f64, lat: f64) -> Option<(&str, &str)> {
        let context = self.context(data);
        let index = context
            .district_index
            .get_or_init(|| crate::spatial::LayerIndex::new(context.context.district_geometry.iter().cloned()));
        let i = index.covering(lon, lat).first()?;
        let (code, name) = context.context.districts.get(i as usize)?;
        Some((code.as_str(), name.as_str()))
    }

    /// The TileJSON layer list: every layer with content, with its fields and zooms.
    pub fn vector_layers(&self, data: &Dataset) -> Vec<serde_json::Value> {
        let context = &self.context(data).context;
        let present = [
            true,
            true,
            true,
            !context.districts.is_empty(),
            true,
            !context.district_labels.is_empty(),
            !context.places.is_empty(),
        ];
        let minzoom = [0, 0, SUB_AREA_MINZOOM, DISTRICT_MINZOOM, 0, DISTRICT_MINZOOM, 4];
        let description = [
            "Cancer Alliances (code, name, colour)",
            "STPs or ICBs (code, name)",
            "CCGs or Sub-ICB Locations (code, name)",
            "Local authority districts, 2017 (code, name)",
            "A label point per alliance (code, name, colour)",
            "A label point per district (code, name)",
            "Towns and cities, GeoNames (code: geonameid, name, population, rank: lower first)",
        ];
        let fields = [
            serde_json::json!({"code": "String", "name": "String", "colour": "String"}),
            serde_json::json!({"code": "String", "name": "String"}),
            serde_json::json!({"code": "String", "name": "String"}),
            serde_json::json!({"code": "String", "name": "String"}),
            serde_json::json!({"code": "String", "name": "String", "colour": "String"}),
            serde_json::json!({"code": "String", "name": "String"}),
            serde_json::json!({"code": "String", "name": "String", "population": "Number", "rank": "Number"}),
        ];
        (0..LAYERS.len())
            .filter(|&i| present[i])
            .map(|i| {
                serde_json::json!({"id": LAYERS[i], "description": description[i], "fields": fields[i],
                                   "minzoom": minzoom[i], "maxzoom": MAX_ZOOM})
            })
            .collect()
    }

    /// `[west, south, east, north]` of everything in the tiles of `period`.
    pub fn bounds(&self, data: &Dataset, colours: &[&'static str], period: usize) -> Option<[f64; 4]> {
        let b = self.period(data, colours, period)?.bounds;
        let (w, n) = project::to_lonlat(b[0], b[1]);
        let (e, s) = project::to_lonlat(b[2], b[3]);
        Some([w, s, e, n])
    }

    /// Number of tiles cut and kept so far, and their bytes (uncompressed), for measurements.
    pub fn cached(&self) -> (usize, usize) {
        let mut n = (0, 0);
        for p in self.periods.iter().filter_map(OnceLock::get) {
            if let Ok(cache) = p.cache.lock() {
                n.0 += cache.len();
                n.1 += cache.values().map(|a| a.len()).sum::<usize>();
            }
        }
        n
    }
}

const EMPTY_BOX: [f64; 4] = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];

fn grow(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]
}

fn meets(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] <= b[2] && a[2] >= b[0] && a[1] <= b[3] && a[3] >= b[1]
}

/// Tile `id`'s world box grown by `buffer` tile units.
fn tile_box(id: TileId, buffer: f64) -> [f64; 4] {
    let (x, y) = id.origin();
    let s = id.size();
    let b = buffer / f64::from(EXTENT) * s;
    [x - b, y - b, x + s + b, y + s + b]
}

fn tile_asset(bytes: Vec<u8>) -> Asset {
    Asset::new(bytes, CONTENT_TYPE, CACHE)
}

impl PeriodTiles {
    fn new(data: &Dataset, colours: &[&'static str], period: usize) -> Self {
        let p = &data.periods[period];
        let areas = |e: Option<usize>| e.map_or(&[][..], |e| &data.editions[e].areas[..]);
        let layers = [areas(p.alliance), areas(p.footprint), areas(p.sub_area)];
        let props: [Vec<Props>; 3] = std::array::from_fn(|l| {
            layers[l]
                .iter()
                .enumerate()
                .map(|(i, a)| Props {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    // Only alliances carry a colour.
                    colour: if l == 0 { colours.get(i).copied() } else { None },
                })
                .collect()
        });
        let alliance_labels = layers[0]
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                // The largest part's interior point: on the alliance's main land, not an island.
                let largest = a
                    .geometry
                    .0
                    .iter()
                    .max_by(|x, y| x.unsigned_area().total_cmp(&y.unsigned_area()))?;
                let at = largest.interior_point()?;
                Some(Label {
                    at: project::to_world(at.x(), at.y()),
                    code: props[0][i].code.clone(),
                    name: props[0][i].name.clone(),
                    minzoom: 0,
                    population: 0,
                    rank: i as u32,
                })
            })
            .collect();
        let editions = [p.alliance, p.footprint, p.sub_area];
        let mut bounds = EMPTY_BOX;
        for a in layers.iter().flat_map(|l| l.iter()) {
            let (w, n) = project::to_world(a.bbox.min().x, a.bbox.max().y);
            let (e, s) = project::to_world(a.bbox.max().x, a.bbox.min().y);
            bounds = grow(bounds, [w, n, e, s]);
        }
        PeriodTiles {
            props,
            editions,
            zooms: (0..=MAX_ZOOM).map(|_| OnceLock::new()).collect(),
            alliance_labels,
            bounds,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The three layers simplified for zoom `z` (at most [`MAX_ZOOM`]).
    fn zoom(&self, data: &Dataset, z: u8) -> &[Prepared; 3] {
        let z = z.min(MAX_ZOOM);
        self.zooms[z as usize].get_or_init(|| {
            let started = Instant::now();
            let refs: Vec<Vec<&MultiPolygon<f64>>> = self
                .editions
                .iter()
                .map(|e| {
                    e.and_then(|e| data.editions.get(e))
                        .map_or_else(Vec::new, |e| e.areas.iter().map(|a| &*a.geometry).collect())
                })
                .collect();
            let simplified = simplify_together(&refs, tolerance(z, MAX_ZOOM));
            let mut layers = simplified.layers.into_iter();
            let mut next = || Prepared::new(&layers.next().unwrap_or_default());
            let prepared = [next(), next(), next()];
            tracing::debug!(
                zoom = z,
                vertices = prepared.iter().map(Prepared::vertices).sum::<usize>(),
                ms = started.elapsed().as_millis() as u64,
                "tile geometry prepared"
            );
            prepared
        })
    }

    /// Cuts tile `id`.
    fn cut(&self, data: &Dataset, id: TileId, context: &ContextTiles) -> Vec<u8> {
        let mut layers = Vec::with_capacity(LAYERS.len());
        let prepared = self.zoom(data, id.z);
        for (l, name) in LAYERS[..3].iter().enumerate() {
            let mut builder = LayerBuilder::new(name);
            if l < 2 || id.z >= SUB_AREA_MINZOOM {
                polygons_into(&mut builder, &prepared[l], id, |f| {
                    let p = &self.props[l][f];
                    let mut v = vec![
                        ("code", TileValue::Str(p.code.clone())),
                        ("name", TileValue::Str(p.name.clone())),
                    ];
                    if let Some(c) = p.colour {
                        v.push(("colour", TileValue::Str(c.to_string())));
                    }
                    v
                });
            }
            layers.push(builder);
        }
        let mut districts = LayerBuilder::new(LAYERS[3]);
        if id.z >= DISTRICT_MINZOOM {
            polygons_into(&mut districts, context.zoom(id.z), id, |f| {
                let (code, name) = &context.context.districts[f];
                vec![
                    ("code", TileValue::Str(code.clone())),
                    ("name", TileValue::Str(name.clone())),
                ]
            });
        }
        layers.push(districts);
        let labels = [
            (LAYERS[4], &self.alliance_labels),
            (LAYERS[5], &context.context.district_labels),
            (LAYERS[6], &context.context.places),
        ];
        for (l, (name, points)) in labels.into_iter().enumerate() {
            let mut builder = LayerBuilder::new(name);
            points_into(&mut builder, points, id, |p| {
                let mut v = vec![
                    ("code", TileValue::Str(p.code.clone())),
                    ("name", TileValue::Str(p.name.clone())),
                ];
                match l {
                    0 => {
                        if let Some(c) = self.props[0].get(p.rank as usize).and_then(|a| a.colour) {
                            v.push(("colour", TileValue::Str(c.to_string())));
                        }
                    }
                    2 => {
                        v.push(("population", TileValue::Uint(p.population)));
                        v.push(("rank", TileValue::Uint(u64::from(p.rank))));
                    }
                    _ => {}
                }
                v
            });
            layers.push(builder);
        }
        encode::tile(layers)
    }
}

impl ContextTiles {
    fn zoom(&self, z: u8) -> &Prepared {
        let z = z.min(MAX_ZOOM);
        self.zooms[z as usize].get_or_init(|| {
            if z < DISTRICT_MINZOOM || self.context.district_geometry.is_empty() {
                return Prepared::default();
            }
            let refs: Vec<&MultiPolygon<f64>> = self.context.district_geometry.iter().map(|g| &**g).collect();
            let simplified = simplify_together(&[refs], tolerance(z, MAX_ZOOM));
            Prepared::new(simplified.layers.first().map_or(&[][..], |l| &l[..]))
        })
    }
}

/// Clips every polygon of `layer` meeting tile `id` into `builder`, one feature per area.
fn polygons_into(
    builder: &mut LayerBuilder,
    layer: &Prepared,
    id: TileId,
    props: impl Fn(usize) -> Vec<(&'static str, TileValue)>,
) {
    let (ox, oy) = id.origin();
    let scale = f64::from(EXTENT) / id.size();
    let (lo, hi) = (-BUFFER, f64::from(EXTENT) + BUFFER);
    // Features in area order, each with its clipped polygons.
    let mut features: Vec<(u32, Vec<PolygonRings>)> = Vec::new();
    for part in layer.meeting(tile_box(id, BUFFER)) {
        let mut polygon: PolygonRings = Vec::with_capacity(part.rings.len());
        for (r, ring) in part.rings.iter().enumerate() {
            let local: Vec<clip::P> = ring
                .iter()
                .map(|&w| {
                    let (x, y) = prepared::from_fixed(w);
                    ((x - ox) * scale, (y - oy) * scale)
                })
                .collect();
            match clip::to_grid(&clip::clip_ring(&local, lo, hi)) {
                Some(mut g) => {
                    clip::wind(&mut g, r == 0);
                    polygon.push(g);
                }
                None if r == 0 => break,
                None => {}
            }
        }
        if polygon.is_empty() {
            continue;
        }
        match features.last_mut() {
            Some((f, polygons)) if *f == part.feature => polygons.push(polygon),
            _ => features.push((part.feature, vec![polygon])),
        }
    }
    for (f, polygons) in features {
        builder.polygons(u64::from(f), polygons, &props(f as usize));
    }
}

/// Adds every label of `points` inside tile `id` and shown at its zoom.
fn points_into(
    builder: &mut LayerBuilder,
    points: &[Label],
    id: TileId,
    props: impl Fn(&Label) -> Vec<(&'static str, TileValue)>,
) {
    let (ox, oy) = id.origin();
    let scale = f64::from(EXTENT) / id.size();
    for (i, p) in points.iter().enumerate() {
        if p.minzoom > id.z {
            continue;
        }
        let (x, y) = ((p.at.0 - ox) * scale, (p.at.1 - oy) * scale);
        // Each label in one tile only: MapLibre would draw it once per tile holding it.
        if (0.0..f64::from(EXTENT)).contains(&x) && (0.0..f64::from(EXTENT)).contains(&y) {
            builder.point(i as u64, (x.floor() as i32, y.floor() as i32), &props(p));
        }
    }
}

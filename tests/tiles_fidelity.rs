//! The map draws what the lookup answers: vector tiles decoded and sampled around the places
//! where it matters (alliance borders, a split STP, a coast), at every zoom from 6 to 16,
//! compared point by point with `POST /api/v1/lookup`. A sample more than 2 px from any drawn
//! border must be drawn in exactly the alliance the lookup names (or in none where the lookup
//! finds no area containing it). Real data; in process, no socket.

#[path = "common/mod.rs"]
mod common;
#[path = "tiles_support/mod.rs"]
mod tiles_support;

use std::collections::HashSet;
use std::sync::OnceLock;

use alliance_map::api::{app, AppState};
use alliance_map::atlas::{Atlas, Options};
use alliance_map::tiles::MAX_ZOOM;
use axum::Router;
use serde_json::Value;

fn state() -> &'static AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE.get_or_init(|| {
        let source = alliance_map::model::DataSource::Dir(common::data_dir());
        AppState::new(Atlas::load(&source, &Options::default()).expect("real data loads"))
    })
}

fn router() -> Router {
    app(state().clone())
}

/// The alliance the lookup names at a point on `date`.
fn alliance_at(lon: f64, lat: f64, date: &str) -> String {
    let atlas = state().atlas();
    let when = atlas
        .data
        .when(Some(date.parse().expect("a date")))
        .expect("a held date");
    let r = atlas.lookup_at(lon, lat, &when);
    r.alliance.expect("an alliance").get().code.to_string()
}

/// A vertex the two alliances share (a point on their border), the nearest to `near`.
fn border_point(a: &str, b: &str, date: &str, near: (f64, f64)) -> (f64, f64) {
    let atlas = state().atlas();
    let when = atlas
        .data
        .when(Some(date.parse().expect("a date")))
        .expect("a held date");
    let edition = &atlas.data.editions[atlas.data.periods[when.period].alliance.expect("alliances held")];
    let area = |code: &str| &edition.areas[edition.find(code).expect("the alliance") as usize].geometry;
    let key = |x: f64, y: f64| ((x * 1e6).round() as i64, (y * 1e6).round() as i64);
    let theirs: HashSet<(i64, i64)> = area(b)
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.0.iter().map(|c| key(c.x, c.y)))
        .collect();
    area(a)
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.0.iter())
        .filter(|c| theirs.contains(&key(c.x, c.y)))
        .map(|c| (c.x, c.y))
        .min_by(|p, q| {
            let d = |p: &(f64, f64)| (p.0 - near.0).powi(2) + (p.1 - near.1).powi(2);
            d(p).total_cmp(&d(q))
        })
        .expect("the alliances share a border")
}

/// Checks the view at every zoom from 6 to 16 around the border of the alliances at `place`
/// and at `other`, nearest `place`; panics listing disagreements.
async fn check_border(name: &str, place: (f64, f64), other: (f64, f64), date: &str) {
    let (a, b) = (alliance_at(place.0, place.1, date), alliance_at(other.0, other.1, date));
    assert_ne!(a, b, "{name}: the two places are in different alliances on {date}");
    let at = border_point(&a, &b, date, place);
    let app = router();
    let mut report = Vec::new();
    let mut checked = 0;
    for zoom in 6..=16 {
        let f = tiles_support::check_view(&app, date, at.0, at.1, zoom, MAX_ZOOM, 512.0, 16.0, 2.0).await;
        checked += f.checked;
        assert!(
            f.checked > 100,
            "{name} zoom {zoom}: only {} samples off the borders",
            f.checked
        );
        report.extend(f.wrong.into_iter().take(5));
    }
    assert!(
        report.is_empty(),
        "{name} ({a}/{b} border at {at:?}): map and lookup disagree:\n{}",
        report.join("\n")
    );
    eprintln!("{name}: {checked} samples agree (zooms 6–16)");
}

const BARNSLEY: (f64, f64) = (-1.48333, 53.55000);
const LEEDS: (f64, f64) = (-1.54785, 53.79648);
const CHESTERFIELD: (f64, f64) = (-1.41667, 53.25000);
const DERBY: (f64, f64) = (-1.47663, 52.92277);
const LAMBETH: (f64, f64) = (-0.11152, 51.49635);
const WANDSWORTH: (f64, f64) = (-0.20784, 51.45770);
const STOCKPORT: (f64, f64) = (-2.15761, 53.40979);
const MACCLESFIELD: (f64, f64) = (-2.12564, 53.26023);
const KINGS_LYNN: (f64, f64) = (0.39516, 52.75172);
const BOSTON: (f64, f64) = (-0.02664, 52.97633);

#[tokio::test]
async fn barnsley_south_yorkshire_border() {
    check_border("Barnsley", BARNSLEY, LEEDS, "2017-04-01").await;
}

#[tokio::test]
async fn derbyshire_split() {
    check_border("Derbyshire split", CHESTERFIELD, DERBY, "2017-04-01").await;
    // The same border in the 2023 editions (Derbyshire wholly in East Midlands then).
    check_border("Chesterfield 2023", CHESTERFIELD, BARNSLEY, "2023-07-01").await;
}

#[tokio::test]
async fn lambeth() {
    check_border("Lambeth", LAMBETH, WANDSWORTH, "2017-04-01").await;
}

#[tokio::test]
async fn stockport() {
    check_border("Stockport", STOCKPORT, MACCLESFIELD, "2017-04-01").await;
}

#[tokio::test]
async fn the_wash_coast() {
    check_border("The Wash", KINGS_LYNN, BOSTON, "2017-04-01").await;
}

/// Every tile of a coarse zoom decodes, and shared borders stay shared: no sample off the
/// borders is drawn in two alliances, over the whole of England at zoom 6.
#[tokio::test]
async fn england_at_zoom_6_has_no_overlaps_or_gaps_off_the_borders() {
    let app = router();
    let f = tiles_support::check_view(&app, "2017-04-01", -1.5, 52.8, 6, MAX_ZOOM, 1024.0, 8.0, 2.0).await;
    assert!(f.checked > 5000, "{f:?}");
    assert!(f.wrong.is_empty(), "{}", f.wrong.join("\n"));
}

#[tokio::test]
async fn tilejson_names_the_layers_and_credits_geonames() {
    let app = router();
    let (status, _, body) = tiles_support::get_bytes(&app, "/api/v1/tiles.json?date=latest").await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let ids: Vec<&str> = doc["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    for id in [
        "alliances",
        "footprints",
        "sub_areas",
        "districts",
        "places",
        "district_labels",
        "alliance_labels",
    ] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    assert!(doc["attribution"].as_str().unwrap().contains("GeoNames"));
    assert!(doc["tiles"][0].as_str().unwrap().ends_with("?date=2023-07-01"), "{doc}");
    // Places at zoom 8 around Leeds: cities, no neighbourhoods.
    let (status, _, body) = tiles_support::get_bytes(&app, "/api/v1/tiles/8/126/82.mvt").await;
    assert_eq!(status, 200);
    let layers = tiles_support::decode(&body);
    let names: Vec<&str> = layers["places"].1.iter().map(|f| f.props["name"].as_str()).collect();
    assert!(names.contains(&"Leeds"), "{names:?}");
    assert!(!layers["districts"].1.is_empty());
}

//! Vector tiles and TileJSON over the synthetic data, in process: the documents, caching
//! (ETags, compression), every bad input as a problem naming the field, and the map agreeing
//! with the lookup at every zoom.

#[path = "support/mod.rs"]
mod support;
#[path = "tiles_support/mod.rs"]
mod tiles_support;

use serde_json::Value;
use support::{api, assert_problem, get, get_with, Names};

#[tokio::test]
async fn tilejson_points_at_the_period_of_the_date() {
    let r = get("/api/v1/tiles.json").await;
    assert_eq!(r.status, 200);
    let doc: &Value = r.ok_json();
    assert_eq!(doc["tilejson"], "3.0.0");
    assert_eq!(doc["tiles"][0], "/api/v1/tiles/{z}/{x}/{y}.mvt?date=2017-04-01");
    assert_eq!(doc["maxzoom"], alliance_map::tiles::MAX_ZOOM);
    let ids: Vec<&str> = doc["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["alliances", "footprints", "sub_areas", "alliance_labels"],
        "no context files here"
    );
    // Any date of a period gives that period's tiles.
    let r = get("/api/v1/tiles.json?date=2021-01-01").await;
    assert_eq!(r.ok_json()["tiles"][0], "/api/v1/tiles/{z}/{x}/{y}.mvt?date=2020-04-01");
    assert_problem(
        &get("/api/v1/tiles.json?date=1999-01-01").await,
        400,
        Names::Parameter("date"),
    );
    assert_problem(&get("/api/v1/tiles.json?zoom=3").await, 400, Names::Parameter("zoom"));
}

#[tokio::test]
async fn tiles_carry_codes_and_names_and_are_cached_with_etags() {
    // Zoom 0: the whole synthetic country in one tile.
    let r = get("/api/v1/tiles/0/0/0.mvt").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "application/vnd.mapbox-vector-tile");
    let layers = tiles_support::decode(&r.body);
    let codes: Vec<&str> = layers["alliances"].1.iter().map(|f| f.props["code"].as_str()).collect();
    assert_eq!(codes, ["E56900001", "E56900002", "E57900001"]);
    assert!(layers["alliances"].1.iter().all(|f| f.props["colour"].starts_with('#')));
    assert_eq!(layers["footprints"].1.len(), 4);
    assert_eq!(layers["alliance_labels"].1.len(), 3);
    assert!(!layers.contains_key("sub_areas"), "sub-areas only from zoom 6");
    let etag = r.header("etag").to_string();
    let again = get_with("/api/v1/tiles/0/0/0.mvt", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    let gz = get_with("/api/v1/tiles/0/0/0.mvt", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    assert!(gz.body.len() < r.body.len());
    // Sub-areas from zoom 6; a tile at sea is empty; over-zoomed tiles are cut too.
    let r = get("/api/v1/tiles/6/33/21.mvt").await;
    assert!(tiles_support::decode(&r.body).contains_key("sub_areas"));
    let r = get("/api/v1/tiles/6/0/0.mvt").await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let r = get("/api/v1/tiles/15/17385/10969").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn bad_tile_addresses_are_problems_naming_the_field() {
    for (path, field) in [
        ("/api/v1/tiles/23/0/0.mvt", "z"),
        ("/api/v1/tiles/x/0/0.mvt", "z"),
        ("/api/v1/tiles/2/4/0.mvt", "x"),
        ("/api/v1/tiles/2/-1/0.mvt", "x"),
        ("/api/v1/tiles/2/0/4.mvt", "y"),
        ("/api/v1/tiles/2/0/a.mvt", "y"),
        ("/api/v1/tiles/2/0/1.png", "y"),
        ("/api/v1/tiles/2/0/+1.mvt", "y"),
    ] {
        assert_problem(&get(path).await, 400, Names::Parameter(field));
    }
    assert_problem(
        &get("/api/v1/tiles/2/0/0.mvt?date=2030-01-01").await,
        400,
        Names::Parameter("date"),
    );
    assert_problem(&get("/api/v1/tiles/2/0/0.mvt?x=1").await, 400, Names::Parameter("x"));
}

/// The synthetic split STP's border (lon 10.75) and the coastal gap (lon 12.99), at zooms 6
/// to 16: the map draws what the lookup answers.
#[tokio::test]
async fn the_map_agrees_with_the_lookup_at_every_zoom() {
    let app = api();
    for (lon, lat) in [(10.75, 50.5), (12.99, 51.0), (11.0, 51.0)] {
        for zoom in 6..=16 {
            let f = tiles_support::check_view(
                &app,
                "2017-04-01",
                lon,
                lat,
                zoom,
                alliance_map::tiles::MAX_ZOOM,
                256.0,
                16.0,
                2.0,
            )
            .await;
            assert!(f.checked > 0, "{lon},{lat} zoom {zoom}: {f:?}");
            assert!(f.wrong.is_empty(), "{}", f.wrong.join("\n"));
        }
    }
}

#[tokio::test]
async fn glyphs_are_served_from_here() {
    let r = get("/api/v1/fonts/DejaVu%20Sans%20Book/0-255.pbf").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "application/x-protobuf");
    assert!(r.body.len() > 10_000);
    assert!(!r.header("etag").is_empty());
    let r = get("/api/v1/fonts/Open%20Sans%20Regular,DejaVu%20Sans%20Bold/8192-8447.pbf").await;
    assert_eq!(r.status, 200);
    assert!(!r.body.is_empty());
    assert_problem(&get("/api/v1/fonts/Comic%20Sans/0-255.pbf").await, 404, Names::Nothing);
    assert_problem(
        &get("/api/v1/fonts/DejaVu%20Sans%20Book/0-99.pbf").await,
        404,
        Names::Nothing,
    );
}

//! In-process API tier: every route of `api::app` and every error it can answer, driven with
//! `tower::ServiceExt::oneshot` on the synthetic dataset in `tests/synthetic/` (no socket, no
//! real data, a few seconds in all). The loopback tests (`api_*.rs`, `hardening.rs`) cover
//! the same behaviours on the real data through a running server.
//!
//! The synthetic layout (see `tests/synthetic/make-synthetic.py`): alliances West E56900001,
//! South E56900002 and Vanguard East E57900001; STPs E54900001–E54900004, E54900003 split
//! between West and South at lon 10.75; England lon 10–13 lat 50–52, Scotland lat 52–53; areas
//! end at lon 12.99 (a coastal gap), sea beyond lon 13; a lake in E54900001 at lon 10.4–10.6,
//! lat 51.4–51.6.

#[path = "support/mod.rs"]
mod support;

use alliance_map::api::app;
use alliance_map::api::AppState;
use alliance_map::atlas::Atlas;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use support::{
    assert_problem, assert_problem_says, call, get, get_with, post, post_json, send, Names, Reply, SYNTHETIC_POSTCODES,
};

const WEST: &str = "E56900001";
const SOUTH: &str = "E56900002";
const VANGUARD: &str = "E57900001";

// ---------------------------------------------------------------------------------------------
// Pages, assets, readiness, config

#[tokio::test]
async fn pages_are_html_with_etags_and_take_only_their_own_parameters() {
    for path in ["/", "/?postcode=ZZ1%201AA", "/?lon=11&lat=50.5", "/docs"] {
        let r = get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.content_type(), "text/html; charset=utf-8", "{path}");
        assert!(r.text().to_lowercase().contains("<html"), "{path}");
        assert!(r.header("etag").starts_with('"'), "{path}");
        assert_eq!(r.header("cache-control"), "no-cache", "{path}");
        // The licence attribution comes from the data's manifest, filled into the page.
        let text = r.text();
        assert!(text.contains("Synthetic test data: no real geography"), "{path}");
        assert!(!text.contains("<!--attribution-->"), "{path}");
    }
    assert_problem(&get("/?foo=bar").await, 400, Names::Parameter("foo"));
    assert_problem(&get("/docs?x=1").await, 400, Names::Parameter("x"));
}

#[tokio::test]
async fn assets_are_served_from_the_table_only() {
    for (name, content_type, file) in [
        ("app.js", "text/javascript; charset=utf-8", "web/app.js"),
        ("style.css", "text/css; charset=utf-8", "web/style.css"),
        ("favicon.svg", "image/svg+xml", "web/favicon.svg"),
    ] {
        let r = get(&format!("/assets/{name}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert_eq!(r.content_type(), content_type, "{name}");
        let on_disk = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        assert_eq!(r.body.as_ref(), on_disk.as_slice(), "{name} is the embedded file");
        // Revalidation.
        let etag = r.header("etag").to_string();
        let again = get_with(&format!("/assets/{name}"), &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{name}");
        assert!(again.body.is_empty());
    }
    for path in [
        "/assets/nope.js",
        "/assets/APP.JS",
        "/assets/..%2F..%2FCargo.toml",
        "/assets/..%2Fsrc%2Fmain.rs",
        "/assets/%2e%2e%2fCargo.toml",
        "/assets/..%5c..%5cCargo.toml",
        "/assets/app.js%00",
        "/assets/%00",
        "/assets/../Cargo.toml",
        "/assets/",
    ] {
        let r = get(path).await;
        assert_problem(&r, 404, Names::Nothing);
        assert!(!r.text().contains("[package]"), "{path} must not reach the file system");
    }
}

#[tokio::test]
async fn health_and_readiness() {
    let r = get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "ok\n");
    assert!(r.content_type().starts_with("text/plain"), "{}", r.content_type());

    let r = get("/readyz").await;
    assert_eq!(
        r.ok_json(),
        &json!({"ready": true, "data_version": 1, "postcodes": SYNTHETIC_POSTCODES})
    );
    assert_problem(&get("/readyz?verbose=1").await, 400, Names::Parameter("verbose"));
}

#[tokio::test]
async fn config_carries_the_manifests_attribution() {
    let r = get("/api/v1/config").await;
    let v = r.ok_json();
    assert_eq!(
        v["attribution"],
        "Synthetic test data: no real geography, no licence terms."
    );
    assert_eq!(
        v["attribution"].as_str(),
        Some(support::manifest().attribution.as_str())
    );
    assert!(v.as_object().unwrap().contains_key("basemap"), "{v}");
    assert_problem(&get("/api/v1/config?x=1").await, 400, Names::Parameter("x"));
}

// ---------------------------------------------------------------------------------------------
// Boundary documents

fn feature_codes(doc: &Value) -> Vec<&str> {
    doc["features"]
        .as_array()
        .expect("a FeatureCollection")
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap())
        .collect()
}

/// Each feature's distinct vertices, sorted, in millionths of a degree.
fn corners(doc: &Value) -> Vec<Vec<(i64, i64)>> {
    let micro = |v: &Value| (v.as_f64().unwrap() * 1e6).round() as i64;
    doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut points: Vec<(i64, i64)> = f["geometry"]["coordinates"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|polygon| polygon.as_array().unwrap())
                .flat_map(|ring| ring.as_array().unwrap())
                .map(|p| (micro(&p[0]), micro(&p[1])))
                .collect();
            points.sort_unstable();
            points.dedup();
            points
        })
        .collect()
}

async fn geojson(path: &str) -> Reply {
    let r = get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    assert_eq!(r.content_type(), "application/geo+json", "{path}");
    assert_eq!(r.json["type"], "FeatureCollection", "{path}");
    assert!(r.header("etag").starts_with('"'), "{path}: a strong ETag");
    assert!(r.header("cache-control").contains("max-age"), "{path}");
    assert_eq!(r.header("vary"), "accept-encoding", "{path}");
    r
}

#[tokio::test]
async fn boundary_layers_at_both_levels_of_detail() {
    for detail in ["", "?detail=overview", "?detail=full"] {
        let a = geojson(&format!("/api/v1/boundaries/alliances.geojson{detail}")).await;
        assert_eq!(feature_codes(&a.json), [WEST, SOUTH, VANGUARD], "{detail}");
        for f in a.json["features"].as_array().unwrap() {
            assert!(f["properties"]["colour"].as_str().unwrap().starts_with('#'), "{f}");
            assert_eq!(f["geometry"]["type"], "MultiPolygon");
        }
        let s = geojson(&format!("/api/v1/boundaries/stps.geojson{detail}")).await;
        assert_eq!(
            feature_codes(&s.json),
            ["E54900001", "E54900002", "E54900003", "E54900004"],
            "{detail}"
        );
        assert_eq!(s.json["features"][2]["properties"]["alliances"], json!([WEST, SOUTH]));
        let c = geojson(&format!("/api/v1/boundaries/countries.geojson{detail}")).await;
        assert_eq!(feature_codes(&c.json), ["E92000001", "S92000003"], "{detail}");
        assert_eq!(c.json["features"][1]["properties"]["name"], "Scotland");
    }
    // The default is the overview; full is a different document.
    let default = geojson("/api/v1/boundaries/stps.geojson").await;
    let overview = geojson("/api/v1/boundaries/stps.geojson?detail=overview").await;
    let full = geojson("/api/v1/boundaries/stps.geojson?detail=full").await;
    assert_eq!(default.header("etag"), overview.header("etag"));
    assert_eq!(default.body, overview.body);
    // Boxes have nothing to simplify: both levels keep every corner (the overview may start
    // a ring elsewhere), and the same bytes have the same ETag.
    assert_eq!(overview.json, full.json);
    assert_eq!(overview.header("etag"), full.header("etag"));
    for layer in ["alliances", "stps", "countries"] {
        let overview = geojson(&format!("/api/v1/boundaries/{layer}.geojson")).await;
        let full = geojson(&format!("/api/v1/boundaries/{layer}.geojson?detail=full")).await;
        assert_eq!(corners(&overview.json), corners(&full.json), "{layer}");
        assert_eq!(
            overview.header("etag") == full.header("etag"),
            overview.body == full.body,
            "{layer}: one ETag per representation"
        );
    }
    // The West alliance keeps its lake: two polygons, the first with a hole, at full detail.
    let west = &geojson("/api/v1/boundaries/alliances.geojson?detail=full").await.json["features"][0];
    let polygons = west["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(polygons.len(), 2, "{west}");
    assert_eq!(polygons[0].as_array().unwrap().len(), 2, "exterior and lake");
}

#[tokio::test]
async fn boundary_errors() {
    for query in ["detail=simple", "detail=", "detail=FULL", "detail=full&detail=full"] {
        let r = get(&format!("/api/v1/boundaries/alliances.geojson?{query}")).await;
        assert_problem(&r, 400, Names::Parameter("detail"));
    }
    assert_problem(
        &get("/api/v1/boundaries/alliances.geojson?zoom=3").await,
        400,
        Names::Parameter("zoom"),
    );
    for layer in ["ccgs.geojson", "alliances", "alliances.json", "..%2Falliances.geojson"] {
        assert_problem(&get(&format!("/api/v1/boundaries/{layer}")).await, 404, Names::Nothing);
    }
}

#[tokio::test]
async fn boundary_documents_revalidate_and_compress() {
    let path = "/api/v1/boundaries/alliances.geojson?detail=full";
    let plain = geojson(path).await;
    assert_eq!(plain.header("content-encoding"), "");
    let etag = plain.header("etag").to_string();

    for if_none_match in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".into(),
    ] {
        let r = get_with(path, &[("if-none-match", &if_none_match)]).await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{if_none_match}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), etag);
    }
    let r = get_with(path, &[("if-none-match", "\"stale\"")]).await;
    assert_eq!((r.status, r.body.len()), (StatusCode::OK, plain.body.len()));

    let gz = get_with(path, &[("accept-encoding", "gzip")]).await;
    assert_eq!((gz.status, gz.header("content-encoding")), (StatusCode::OK, "gzip"));
    assert_ne!(
        gz.header("etag"),
        etag,
        "each encoding is a representation with its own ETag"
    );
    let gz_again = get_with(
        path,
        &[("accept-encoding", "gzip"), ("if-none-match", gz.header("etag"))],
    )
    .await;
    assert_eq!(gz_again.status, StatusCode::NOT_MODIFIED);
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.body.as_ref()), &mut unzipped).unwrap();
    assert_eq!(unzipped, plain.body.as_ref());

    let br = get_with(path, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!((br.status, br.header("content-encoding")), (StatusCode::OK, "br"));
    let mut unbrotli = Vec::new();
    brotli::BrotliDecompress(&mut br.body.as_ref(), &mut unbrotli).unwrap();
    assert_eq!(unbrotli, plain.body.as_ref());

    let refused = get_with(path, &[("accept-encoding", "br;q=0, gzip")]).await;
    assert_eq!(refused.header("content-encoding"), "gzip");
    let identity = get_with(path, &[("accept-encoding", "identity")]).await;
    assert_eq!(identity.header("content-encoding"), "");
    assert_eq!(identity.body, plain.body);
}

// ---------------------------------------------------------------------------------------------
// Point lookups

async fn lookup(lon: f64, lat: f64) -> Value {
    let r = get(&format!("/api/v1/lookup?lon={lon}&lat={lat}")).await;
    r.ok_json().clone()
}

/// (match, alliance code, STP code, country), "-" for null.
fn summary(v: &Value) -> (&str, &str, &str, &str) {
    (
        v["match"].as_str().unwrap(),
        v["alliance"]["code"].as_str().unwrap_or("-"),
        v["stp"]["code"].as_str().unwrap_or("-"),
        v["country"].as_str().unwrap_or("-"),
    )
}

#[tokio::test]
async fn a_point_in_each_area_gets_its_alliance_and_stp() {
    for (place, lon, lat, alliance, stp) in [
        ("North West", 10.2, 51.5, WEST, "E54900001"),
        ("North East (vanguard)", 12.0, 51.5, VANGUARD, "E54900002"),
        ("split STP, western CCG", 10.3, 50.5, WEST, "E54900003"),
        ("split STP, southern CCG", 11.0, 50.5, SOUTH, "E54900003"),
        ("South East", 12.0, 50.5, SOUTH, "E54900004"),
        ("north-east coast CCG", 12.8, 51.9, VANGUARD, "E54900002"),
    ] {
        let v = lookup(lon, lat).await;
        assert_eq!(summary(&v), ("contains", alliance, stp, "England"), "{place}: {v}");
        assert_eq!(v["distance_m"], 0.0, "{place}");
        assert_eq!((v["lon"].as_f64(), v["lat"].as_f64()), (Some(lon), Some(lat)));
    }
}

#[tokio::test]
async fn the_answer_has_the_documented_shape() {
    assert_eq!(
        lookup(12.0, 51.5).await,
        json!({"lon": 12.0, "lat": 51.5, "match": "contains", "distance_m": 0.0,
               "alliance": {"code": VANGUARD, "name": "Synthetic Vanguard East", "kind": "national_cancer_vanguard", "edition": "SYNAL"},
               "stp": {"code": "E54900002", "name": "Synthetic North East"},
               "footprint": {"code": "E54900002", "name": "Synthetic North East", "kind": "stp", "edition": "SYNFP"},
               "sub_area": {"code": "E38900002", "name": "NHS Synthetic North East Inland CCG", "kind": "ccg", "edition": "SYNSUB"},
               "country": "England", "as_of": "2017-04-01"})
    );
    assert_eq!(
        lookup(11.0, 50.5).await["alliance"],
        json!({"code": SOUTH, "name": "Synthetic Alliance South", "kind": "cancer_alliance", "edition": "SYNAL"})
    );
}

#[tokio::test]
async fn a_point_on_a_shared_border_gets_the_lowest_stp_code_and_one_of_its_alliances() {
    // (lon, lat, the STPs meeting there, the answer)
    for (lon, lat, meeting, alliance) in [
        (11.5, 50.5, ["E54900003", "E54900004"], SOUTH),
        (11.5, 51.5, ["E54900001", "E54900002"], WEST),
        (11.0, 51.0, ["E54900001", "E54900003"], WEST),
    ] {
        let first = lookup(lon, lat).await;
        assert_eq!(
            summary(&first),
            ("contains", alliance, meeting[0], "England"),
            "{first}"
        );
        // Consistent: the alliance is one the STP belongs to.
        let stp = get(&format!("/api/v1/stps/{}", meeting[0])).await;
        let members: Vec<&str> = stp.ok_json()["alliances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap())
            .collect();
        assert!(members.contains(&alliance), "{alliance} in {members:?}");
        // Deterministic: the same answer every time, by GET or POST.
        for _ in 0..3 {
            assert_eq!(lookup(lon, lat).await, first);
        }
        let r = post_json(
            "/api/v1/lookup",
            json!({"points": [{"lon": lon, "lat": lat}]}).to_string(),
        )
        .await;
        assert_eq!(r.ok_json()["results"][0], first);
    }
    // The four STPs' corner: still the lowest code.
    assert_eq!(summary(&lookup(11.5, 51.0).await).2, "E54900001");
}

#[tokio::test]
async fn a_point_in_the_coastal_gap_gets_the_nearest_area() {
    let v = lookup(12.995, 51.5).await;
    assert_eq!(summary(&v), ("nearest", VANGUARD, "E54900002", "England"), "{v}");
    let d = v["distance_m"].as_f64().unwrap();
    // 0.005 degrees of longitude at 51.5 N: about 346 m.
    assert!((300.0..400.0).contains(&d), "{d}");
    let v = lookup(12.995, 50.5).await;
    assert_eq!(summary(&v), ("nearest", SOUTH, "E54900004", "England"), "{v}");
}

#[tokio::test]
async fn at_sea_beyond_the_tolerance_is_outside_with_no_country() {
    for (lon, lat) in [(13.5, 51.0), (14.0, 50.5), (0.0, 0.0)] {
        let v = lookup(lon, lat).await;
        assert_eq!(summary(&v), ("outside", "-", "-", "-"), "{v}");
        assert!(v["alliance"].is_null() && v["stp"].is_null() && v["country"].is_null());
        assert_eq!(v["distance_m"], 0.0);
    }
}

#[tokio::test]
async fn scotland_is_outside_and_named_even_next_to_england() {
    // 52.0045 N is 500 m north of England, well within the 2 km tolerance.
    for (lon, lat) in [(11.0, 52.5), (11.0, 52.0045), (12.98, 52.001)] {
        let v = lookup(lon, lat).await;
        assert_eq!(summary(&v), ("outside", "-", "-", "Scotland"), "{lon} {lat}: {v}");
    }
}

#[tokio::test]
async fn the_lake_falls_back_to_the_shore_within_the_tolerance() {
    // 0.01 degrees from the western shore (about 690 m): the area around it.
    let v = lookup(10.41, 51.5).await;
    assert_eq!(summary(&v), ("nearest", WEST, "E54900001", "England"), "{v}");
    let d = v["distance_m"].as_f64().unwrap();
    assert!((600.0..800.0).contains(&d), "{d}");
    // Its middle is farther than 2 km from any shore: in England, but in no area.
    let v = lookup(10.5, 51.5).await;
    assert_eq!(summary(&v), ("outside", "-", "-", "England"), "{v}");
}

#[tokio::test]
async fn bad_lookup_queries_are_400_naming_the_parameter() {
    let long = format!("lon=11&lat=50.5&{}", "pad=1&".repeat(400));
    for (query, parameter) in [
        ("", "lon"),
        ("lat=50.5", "lon"),
        ("lon=11", "lat"),
        ("lon=&lat=50.5", "lon"),
        ("lon=11&lat=", "lat"),
        ("lon=abc&lat=50.5", "lon"),
        ("lon=11&lat=1%2C5", "lat"),
        ("lon=0x10&lat=50.5", "lon"),
        ("lon=NaN&lat=50.5", "lon"),
        ("lon=11&lat=nan", "lat"),
        ("lon=inf&lat=50.5", "lon"),
        ("lon=-infinity&lat=50.5", "lon"),
        ("lon=1e999&lat=50.5", "lon"),
        ("lon=11&lat=-1e400", "lat"),
        ("lon=180.0001&lat=50.5", "lon"),
        ("lon=-181&lat=50.5", "lon"),
        ("lon=11&lat=90.5", "lat"),
        ("lon=11&lat=-91", "lat"),
        ("lng=11&lat=50.5", "lng"),
        ("lon=11&lat=50.5&lng=11", "lng"),
        ("LON=11&LAT=50.5", "LON"),
        ("lon=11&lon=11&lat=50.5", "lon"),
        ("lon=11&lat=50.5&lat=50.5", "lat"),
        ("=1&lon=11&lat=50.5", "(query)"),
        (long.as_str(), "(query)"),
    ] {
        let r = get(&format!("/api/v1/lookup?{query}")).await;
        assert_problem(&r, 400, Names::Parameter(parameter));
    }
    // Wording, loosely.
    for (query, words) in [
        ("lat=50.5", "required"),
        ("lon=abc&lat=50.5", "decimal"),
        ("lon=1e999&lat=50.5", "finite"),
        ("lon=11&lat=95", "between -90 and 90"),
        ("lng=11&lat=50.5", "unknown"),
        ("lon=11&lon=11&lat=50.5", "more than once"),
        (long.as_str(), "2048"),
    ] {
        let r = get(&format!("/api/v1/lookup?{query}")).await;
        assert!(r.detail().contains(words), "{query}: {}", r.detail());
    }
}

#[tokio::test]
async fn bulk_lookup_keeps_order_and_echoes_ids() {
    let body = json!({"points": [
        {"lon": 12.0, "lat": 51.5, "id": "east"},
        {"lon": 13.5, "lat": 51.0, "id": 7},
        {"lon": 10.3, "lat": 50.5},
        {"lon": 11.0, "lat": 50.5, "id": 2.5},
        {"lon": 12.995, "lat": 51.5, "id": ""},
    ]});
    let r = post_json("/api/v1/lookup", body.to_string()).await;
    let results = r.ok_json()["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["id"], "east");
    assert_eq!(results[1]["id"], 7);
    assert!(results[2].get("id").is_none(), "no id, none echoed: {}", results[2]);
    assert_eq!(results[3]["id"], 2.5);
    assert_eq!(results[4]["id"], "");
    let expected = [
        ("contains", VANGUARD, "E54900002", "England"),
        ("outside", "-", "-", "-"),
        ("contains", WEST, "E54900003", "England"),
        ("contains", SOUTH, "E54900003", "England"),
        ("nearest", VANGUARD, "E54900002", "England"),
    ];
    for (result, expected) in results.iter().zip(expected) {
        assert_eq!(summary(result), expected, "{result}");
    }
    // Each result is the GET answer, plus the id.
    let mut first = results[0].clone();
    first.as_object_mut().unwrap().remove("id");
    assert_eq!(first, lookup(12.0, 51.5).await);
    // A charset parameter and a missing content type are both JSON.
    let one = json!({"points": [{"lon": 10.2, "lat": 51.5}]}).to_string();
    for ct in [Some("application/json; charset=utf-8"), Some("Application/JSON"), None] {
        let r = post("/api/v1/lookup", one.clone(), ct).await;
        assert_eq!(summary(&r.ok_json()["results"][0]).1, WEST, "{ct:?}");
    }
}

#[tokio::test]
async fn bulk_lookup_of_the_most_points_allowed() {
    let points: Vec<Value> = (0..1000)
        .map(|i| json!({"lon": 10.0005 + i as f64 * 0.004, "lat": 50.5, "id": i}))
        .collect();
    let r = post_json("/api/v1/lookup", json!({ "points": points }).to_string()).await;
    let results = r.ok_json()["results"].as_array().unwrap();
    assert_eq!(results.len(), 1000);
    assert!(results.iter().enumerate().all(|(i, x)| x["id"] == i));
    // West of 10.75 the split STP is West's, east of it South's; past 12.99 the coastal gap, then the sea.
    assert_eq!(summary(&results[0]).1, WEST);
    assert_eq!(summary(&results[400]).1, SOUTH);
    assert_eq!(summary(&results[999]).0, "outside");
}

#[tokio::test]
async fn bad_bulk_lookup_bodies_name_the_item() {
    let too_many = json!({ "points": vec![json!({"lon": 11, "lat": 50.5}); 1001] }).to_string();
    let over_size = format!("{{\"points\":[{}]}}", "{\"lon\":11,\"lat\":50.5},".repeat(12_000));
    assert!(over_size.len() > 256 * 1024);
    let json = Some("application/json");
    // (body, content type, status, what the problem names)
    let cases: Vec<(String, Option<&str>, u16, Names)> = vec![
        (r#"{"points":[]}"#.into(), json, 422, Names::Pointer("/points")),
        (too_many, json, 413, Names::Nothing),
        (over_size, json, 413, Names::Nothing),
        ("x".repeat(300 * 1024), json, 413, Names::Nothing),
        (r#"{"pts":[]}"#.into(), json, 422, Names::Pointer("/pts")),
        (
            r#"{"points":[{"lon":11,"lat":50.5,"colour":1}]}"#.into(),
            json,
            422,
            Names::Pointer("/points/0/colour"),
        ),
        (
            r#"{"points":[{"lon":11,"lat":50.5},{"lon":11,"lat":91}]}"#.into(),
            json,
            422,
            Names::Pointer("/points/1/lat"),
        ),
        (
            r#"{"points":[{"lon":-180.5,"lat":50.5}]}"#.into(),
            json,
            422,
            Names::Pointer("/points/0/lon"),
        ),
        (
            r#"{"points":[{"lon":"11","lat":50.5}]}"#.into(),
            json,
            422,
            Names::Pointer("/points/0/lon"),
        ),
        (
            r#"{"points":[{"lon":11}]}"#.into(),
            json,
            422,
            Names::Pointer("/points/0/lat"),
        ),
        (
            r#"{"points":[{"lon":11,"lat":50.5,"id":[1]}]}"#.into(),
            json,
            422,
            Names::Pointer("/points/0/id"),
        ),
        (
            r#"{"points":[{"lon":11,"lat":50.5,"id":{}}]}"#.into(),
            json,
            422,
            Names::Pointer("/points/0/id"),
        ),
        (r#"{"points":5}"#.into(), json, 422, Names::Pointer("/points")),
        (r#"{"points":[3]}"#.into(), json, 422, Names::Pointer("/points/0")),
        (r#"{"points":[null]}"#.into(), json, 422, Names::Pointer("/points/0")),
        ("".into(), json, 422, Names::Nothing),
        ("   ".into(), json, 422, Names::Nothing),
        ("{not json".into(), json, 422, Names::Nothing),
        (
            r#"{"points":[{"lon":11,"lat":50.5}]}x"#.into(),
            json,
            422,
            Names::Nothing,
        ),
        (
            r#"{"points":[{"lon":NaN,"lat":50.5}]}"#.into(),
            json,
            422,
            Names::Nothing,
        ),
        (
            r#"{"points":[{"lon":1e999,"lat":50.5}]}"#.into(),
            json,
            422,
            Names::Nothing,
        ),
        ("[]".into(), json, 422, Names::Nothing),
        ("null".into(), json, 422, Names::Nothing),
        (r#"{"points":[]}"#.into(), Some("text/plain"), 415, Names::Nothing),
        (
            r#"{"points":[]}"#.into(),
            Some("application/x-www-form-urlencoded"),
            415,
            Names::Nothing,
        ),
        (
            r#"{"points":[]}"#.into(),
            Some("application/jsonx"),
            415,
            Names::Nothing,
        ),
    ];
    for (body, content_type, status, names) in cases {
        let shown: String = body.chars().take(60).collect();
        let r = post("/api/v1/lookup", body, content_type).await;
        assert!(r.status.as_u16() == status, "{shown} ({content_type:?}): {}", r.text());
        assert_problem(&r, status, names);
    }
    // Wording, loosely.
    let r = post_json(
        "/api/v1/lookup",
        r#"{"points":[{"lon":11,"lat":50.5},{"lon":11,"lat":91}]}"#,
    )
    .await;
    assert!(r.detail().contains("between -90 and 90"), "{}", r.detail());
    let r = post_json("/api/v1/lookup", "{not json").await;
    assert!(r.detail().contains("not valid JSON"), "{}", r.detail());
    let r = post_json(
        "/api/v1/lookup",
        json!({ "points": vec![json!({"lon": 11, "lat": 50.5}); 1001] }).to_string(),
    )
    .await;
    assert!(r.detail().contains("1000"), "{}", r.detail());
    // The query string is checked on POST too.
    let r = post_json("/api/v1/lookup?lon=11", r#"{"points":[{"lon":11,"lat":50.5}]}"#).await;
    assert_problem(&r, 400, Names::Parameter("lon"));
}

// ---------------------------------------------------------------------------------------------
// Alliances and STPs

fn codes_of<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_alliances_with_their_whole_and_partial_stps() {
    let r = get("/api/v1/alliances").await;
    let list = r.ok_json()["alliances"].as_array().unwrap().clone();
    assert_eq!(
        list.iter().map(|a| a["code"].as_str().unwrap()).collect::<Vec<_>>(),
        [WEST, SOUTH, VANGUARD]
    );
    let kinds: Vec<&str> = list.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["cancer_alliance", "cancer_alliance", "national_cancer_vanguard"]
    );
    let ccgs: usize = list.iter().map(|a| a["ccgs"].as_array().unwrap().len()).sum();
    assert_eq!(ccgs, 6, "every sub-area in exactly one alliance");

    let west = get(&format!("/api/v1/alliances/{WEST}")).await.ok_json().clone();
    assert_eq!(west, list[0], "the list holds the details");
    assert_eq!(west["name"], "Synthetic Alliance West");
    assert_eq!(west["bbox"], json!([10.0, 50.0, 11.5, 52.0]));
    assert_eq!(codes_of(&west, "ccgs"), ["E38900001", "E38900004"]);
    assert_eq!(
        west["stps"],
        json!([
            {"code": "E54900001", "name": "Synthetic North West", "whole": true, "ccgs": []},
            {"code": "E54900003", "name": "Synthetic Split", "whole": false,
             "ccgs": [{"code": "E38900004", "name": "NHS Synthetic Split West CCG"}]},
        ])
    );

    let south = get(&format!("/api/v1/alliances/{SOUTH}")).await.ok_json().clone();
    assert_eq!(south["bbox"], json!([10.75, 50.0, 12.99, 51.0]));
    assert_eq!(
        south["stps"],
        json!([
            {"code": "E54900003", "name": "Synthetic Split", "whole": false,
             "ccgs": [{"code": "E38900005", "name": "NHS Synthetic Split South CCG"}]},
            {"code": "E54900004", "name": "Synthetic South East", "whole": true, "ccgs": []},
        ])
    );

    let vanguard = get(&format!("/api/v1/alliances/{}", VANGUARD.to_lowercase())).await;
    let vanguard = vanguard.ok_json();
    assert_eq!(vanguard["code"], VANGUARD, "codes are case-insensitive");
    assert_eq!(vanguard["kind"], "national_cancer_vanguard");
    assert_eq!(codes_of(vanguard, "ccgs"), ["E38900002", "E38900003"]);
    assert_eq!(codes_of(vanguard, "stps"), ["E54900002"]);
    assert_eq!(vanguard["stps"][0]["whole"], true);
}

#[tokio::test]
async fn the_stps_with_their_alliances() {
    let r = get("/api/v1/stps").await;
    let list = r.ok_json()["stps"].as_array().unwrap().clone();
    let summary: Vec<(&str, Vec<&str>, Vec<&str>)> = list
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap(),
                codes_of(s, "alliances"),
                codes_of(s, "ccgs"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("E54900001", vec![WEST], vec!["E38900001"]),
            ("E54900002", vec![VANGUARD], vec!["E38900002", "E38900003"]),
            ("E54900003", vec![WEST, SOUTH], vec!["E38900004", "E38900005"]),
            ("E54900004", vec![SOUTH], vec!["E38900006"]),
        ]
    );
    let split = get("/api/v1/stps/e54900003").await.ok_json().clone();
    assert_eq!(split, list[2]);
    assert_eq!(split["name"], "Synthetic Split");
    assert_eq!(split["bbox"], json!([10.0, 50.0, 11.5, 51.0]));
    assert_eq!(
        split["alliances"][1],
        json!({"code": SOUTH, "name": "Synthetic Alliance South", "kind": "cancer_alliance", "edition": "SYNAL"})
    );
}

#[tokio::test]
async fn area_geometry_is_a_geojson_feature() {
    let r = get(&format!("/api/v1/alliances/{WEST}/geometry")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "application/geo+json");
    assert_eq!(r.json["type"], "Feature");
    assert_eq!(
        r.json["properties"],
        json!({"code": WEST, "name": "Synthetic Alliance West", "kind": "cancer_alliance"})
    );
    assert_eq!(r.json["geometry"]["type"], "MultiPolygon");
    let polygons = r.json["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(polygons.len(), 2);
    assert_eq!(polygons[0].as_array().unwrap().len(), 2, "the lake is a hole");

    let r = get("/api/v1/stps/E54900004/geometry").await;
    assert_eq!((r.status, r.content_type()), (StatusCode::OK, "application/geo+json"));
    assert_eq!(
        r.json["properties"],
        json!({"code": "E54900004", "name": "Synthetic South East"})
    );
    let ring = r.json["geometry"]["coordinates"][0][0].as_array().unwrap();
    let xs: Vec<f64> = ring.iter().map(|p| p[0].as_f64().unwrap()).collect();
    assert_eq!(xs.iter().cloned().fold(f64::MIN, f64::max), 12.99);
    assert_eq!(xs.iter().cloned().fold(f64::MAX, f64::min), 11.5);
}

#[tokio::test]
async fn unknown_areas_and_bad_paths() {
    for path in [
        "/api/v1/alliances/E56900099",
        "/api/v1/alliances/E56900099/geometry",
        "/api/v1/alliances/E54900001",
        "/api/v1/alliances/%00",
        "/api/v1/stps/E54900099",
        "/api/v1/stps/E54900099/geometry",
        "/api/v1/stps/%00%2e%2e",
        "/api/v1/stps/..",
    ] {
        assert_problem(&get(path).await, 404, Names::Nothing);
    }
    // The detail lists the codes there are.
    let r = get("/api/v1/alliances/E56900099").await;
    assert!(
        r.detail().contains("E56900001") && r.detail().contains("E57900001"),
        "{}",
        r.detail()
    );
    let r = get("/api/v1/stps/nope").await;
    assert!(r.detail().contains("E54900001"), "{}", r.detail());

    let long = "E".repeat(65);
    for (path, name) in [
        (format!("/api/v1/alliances/{long}"), "code"),
        (format!("/api/v1/alliances/{long}/geometry"), "code"),
        (format!("/api/v1/stps/{long}"), "code"),
        (format!("/api/v1/postcodes/{long}"), "postcode"),
        (format!("/api/v1/outcodes/{long}"), "outcode"),
        (format!("/api/v1/boundaries/{long}"), "layer"),
    ] {
        let r = get(&path).await;
        assert_problem(&r, 400, Names::Parameter(name));
        assert!(r.detail().contains("64"), "{}", r.detail());
    }
    for path in [
        "/api/v1/alliances?x=1",
        "/api/v1/stps?limit=1",
        "/api/v1/stps/E54900001?x=1",
    ] {
        let r = get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert_problem(
            &r,
            400,
            Names::Parameter(if path.contains("limit") { "limit" } else { "x" }),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Postcodes

const SOURCE: &str = "ONS Postcode Directory (postcodes-synthetic.csv)";

#[tokio::test]
async fn a_postcode_in_any_spelling() {
    for spelling in ["ZZ1%201AA", "zz11aa", "Zz1%201aA", "%20ZZ1%20%201AA%20"] {
        let r = get(&format!("/api/v1/postcodes/{spelling}")).await;
        assert_eq!(
            r.ok_json(),
            &json!({"postcode": "ZZ1 1AA", "lon": 10.2, "lat": 51.5, "country": "England",
                    "alliance": {"code": WEST, "name": "Synthetic Alliance West", "kind": "cancer_alliance", "edition": "SYNAL"},
                    "stp": {"code": "E54900001", "name": "Synthetic North West"},
                    "footprint": {"code": "E54900001", "name": "Synthetic North West", "kind": "stp", "edition": "SYNFP"},
                    "sub_area": {"code": "E38900001", "name": "NHS Synthetic North West CCG", "kind": "ccg", "edition": "SYNSUB"},
                    "as_of": "2017-04-01",
                    "source": SOURCE}),
            "{spelling}"
        );
    }
}

#[tokio::test]
async fn every_synthetic_postcode_gets_its_areas() {
    // (postcode, alliance, STP, country); the lake's middle is beyond the tolerance.
    for (postcode, alliance, stp, country) in [
        ("ZZ1 1AB", VANGUARD, "E54900002", "England"),
        ("ZZ1 1AD", WEST, "E54900003", "England"),
        ("ZZ1 1AE", SOUTH, "E54900003", "England"),
        ("ZZ1 1AF", SOUTH, "E54900004", "England"),
        ("ZZ1 1AG", VANGUARD, "E54900002", "England"),
        ("ZZ1 1AH", "-", "-", "England"),
        ("ZZ2 1AA", "-", "-", "Scotland"),
        ("ZZ3 1AA", SOUTH, "E54900003", "England"),
        ("ZZ3 1AB", SOUTH, "E54900004", "England"),
        ("ZZ3 1AD", VANGUARD, "E54900002", "England"),
    ] {
        let r = get(&format!("/api/v1/postcodes/{}", postcode.replace(' ', "%20"))).await;
        let v = r.ok_json();
        assert_eq!(v["postcode"], postcode);
        assert_eq!(
            (
                v["alliance"]["code"].as_str().unwrap_or("-"),
                v["stp"]["code"].as_str().unwrap_or("-"),
                v["country"].as_str().unwrap()
            ),
            (alliance, stp, country),
            "{postcode}: {v}"
        );
    }
}

#[tokio::test]
async fn postcode_errors() {
    for bad in [
        "ZZ1-1AA",
        "X",
        "ZZ1",
        "ZZ1%201AAA",
        "1111111",
        "%E2%98%83",
        "ZZ1%201CA",
        "ZZ1%00AA",
    ] {
        let r = get(&format!("/api/v1/postcodes/{bad}")).await;
        assert_problem(&r, 400, Names::Parameter("postcode"));
    }
    assert!(get("/api/v1/postcodes/ZZ1-1AA")
        .await
        .detail()
        .contains("not a valid UK postcode"));
    // Well-formed but not served: unknown, terminated, outside Great Britain.
    for (pc, says) in [
        ("ZZ9%209ZZ", "not in"),
        ("ZZ2%201AB", "not in"),
        ("zz21ab", "not in"),
        ("BT1%201AA", "Northern Ireland"),
        ("JE2%203XP", "Jersey"),
        ("GY1%201AA", "Guernsey"),
        ("IM1%201AA", "Isle of Man"),
    ] {
        assert_problem_says(
            &get(&format!("/api/v1/postcodes/{pc}")).await,
            404,
            Names::Nothing,
            says,
        );
    }
    assert_problem(
        &get("/api/v1/postcodes/ZZ1%201AA?x=1").await,
        400,
        Names::Parameter("x"),
    );
}

#[tokio::test]
async fn bulk_postcodes_mix_results_and_errors_in_order() {
    let body = json!({"postcodes": ["zz1 1ab", "ZZ1-1AA", "ZZ9 9ZZ", "BT1 1AA", "ZZ2 1AB", "ZZ2 1AA", "ZZ3 1AD"]});
    let r = post_json("/api/v1/postcodes", body.to_string()).await;
    let results = r.ok_json()["results"].as_array().unwrap();
    assert_eq!(results.len(), 7);
    let queries: Vec<&str> = results.iter().map(|x| x["query"].as_str().unwrap()).collect();
    assert_eq!(
        queries,
        ["zz1 1ab", "ZZ1-1AA", "ZZ9 9ZZ", "BT1 1AA", "ZZ2 1AB", "ZZ2 1AA", "ZZ3 1AD"]
    );
    let statuses: Vec<Option<u64>> = results.iter().map(|x| x["error"]["status"].as_u64()).collect();
    assert_eq!(statuses, [None, Some(400), Some(404), Some(404), Some(404), None, None]);
    for x in results {
        assert!(
            x["result"].is_null() != x["error"].is_null(),
            "a result or an error: {x}"
        );
    }
    assert_eq!(results[0]["result"]["postcode"], "ZZ1 1AB");
    assert_eq!(results[0]["result"]["alliance"]["code"], VANGUARD);
    assert!(results[3]["error"]["detail"]
        .as_str()
        .unwrap()
        .contains("Northern Ireland"));
    assert_eq!(results[5]["result"]["country"], "Scotland");
    assert!(results[5]["result"]["alliance"].is_null());
    assert_eq!(results[6]["result"]["stp"]["code"], "E54900002");
    // The single-postcode answer, item for item.
    assert_eq!(results[0]["result"], get("/api/v1/postcodes/ZZ1%201AB").await.json);
}

#[tokio::test]
async fn bad_bulk_postcode_bodies() {
    let json = Some("application/json");
    let too_many = json!({ "postcodes": vec!["ZZ1 1AA"; 1001] }).to_string();
    let cases: Vec<(String, Option<&str>, u16, Names)> = vec![
        (r#"{"postcodes":[1]}"#.into(), json, 422, Names::Pointer("/postcodes/0")),
        (
            r#"{"postcodes":["ZZ1 1AA",null]}"#.into(),
            json,
            422,
            Names::Pointer("/postcodes/1"),
        ),
        (r#"{"postcodes":[]}"#.into(), json, 422, Names::Pointer("/postcodes")),
        (
            r#"{"postcodes":"ZZ1 1AA"}"#.into(),
            json,
            422,
            Names::Pointer("/postcodes"),
        ),
        (
            r#"{"postcode":["ZZ1 1AA"]}"#.into(),
            json,
            422,
            Names::Pointer("/postcode"),
        ),
        (r#"["ZZ1 1AA"]"#.into(), json, 422, Names::Nothing),
        ("{".into(), json, 422, Names::Nothing),
        ("".into(), json, 422, Names::Nothing),
        (too_many, json, 413, Names::Nothing),
        (
            r#"{"postcodes":["ZZ1 1AA"]}"#.into(),
            Some("text/csv"),
            415,
            Names::Nothing,
        ),
    ];
    for (body, content_type, status, names) in cases {
        let shown: String = body.chars().take(60).collect();
        let r = post("/api/v1/postcodes", body, content_type).await;
        assert!(r.status.as_u16() == status, "{shown}: {}", r.text());
        assert_problem(&r, status, names);
    }
    let r = post_json("/api/v1/postcodes", r#"{"postcodes":[1]}"#).await;
    assert!(r.detail().contains("expected a string"), "{}", r.detail());
}

#[tokio::test]
async fn an_outcode_reports_its_areas_and_whether_it_straddles() {
    let r = get("/api/v1/outcodes/zz3").await;
    assert_eq!(
        r.ok_json(),
        &json!({
            "outcode": "ZZ3",
            "postcodes": 3,
            "centroid": {"lon": 11.503333, "lat": 50.966667},
            "straddles_alliances": true,
            "straddles_stps": true,
            "alliances": [
                {"code": SOUTH, "name": "Synthetic Alliance South", "kind": "cancer_alliance", "postcodes": 2, "share": 0.6667},
                {"code": VANGUARD, "name": "Synthetic Vanguard East", "kind": "national_cancer_vanguard", "postcodes": 1, "share": 0.3333},
            ],
            "stps": [
                {"code": "E54900002", "name": "Synthetic North East", "postcodes": 1, "share": 0.3333},
                {"code": "E54900003", "name": "Synthetic Split", "postcodes": 1, "share": 0.3333},
                {"code": "E54900004", "name": "Synthetic South East", "postcodes": 1, "share": 0.3333},
            ],
            "footprints": [
                {"code": "E54900002", "name": "Synthetic North East", "kind": "stp", "postcodes": 1, "share": 0.3333},
                {"code": "E54900003", "name": "Synthetic Split", "kind": "stp", "postcodes": 1, "share": 0.3333},
                {"code": "E54900004", "name": "Synthetic South East", "kind": "stp", "postcodes": 1, "share": 0.3333},
            ],
            "sub_areas": [
                {"code": "E38900002", "name": "NHS Synthetic North East Inland CCG", "kind": "ccg", "postcodes": 1, "share": 0.3333},
                {"code": "E38900005", "name": "NHS Synthetic Split South CCG", "kind": "ccg", "postcodes": 1, "share": 0.3333},
                {"code": "E38900006", "name": "NHS Synthetic South East CCG", "kind": "ccg", "postcodes": 1, "share": 0.3333},
            ],
            "without_area": 0,
            "as_of": "2017-04-01",
        })
    );
    // ZZ1: seven postcodes across every alliance, one (the lake) without an area.
    let v = get("/api/v1/outcodes/ZZ1").await.ok_json().clone();
    assert_eq!(
        (v["postcodes"].as_u64(), v["without_area"].as_u64()),
        (Some(7), Some(1))
    );
    assert_eq!(v["straddles_alliances"], true);
    let counted: u64 = v["alliances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["postcodes"].as_u64().unwrap())
        .sum();
    assert_eq!(counted + 1, 7);
    // ZZ2: the terminated postcode is not counted; the Scottish one has no area.
    let v = get("/api/v1/outcodes/ZZ2").await.ok_json().clone();
    assert_eq!(
        (v["postcodes"].as_u64(), v["without_area"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (
            v["straddles_alliances"].as_bool(),
            v["alliances"].as_array().map(Vec::len)
        ),
        (Some(false), Some(0))
    );

    for bad in ["ZZ3000", "3ZZ", "ZZ3%201AA", "%20", "%E2%98%83"] {
        assert_problem(
            &get(&format!("/api/v1/outcodes/{bad}")).await,
            400,
            Names::Parameter("outcode"),
        );
    }
    assert_problem_says(&get("/api/v1/outcodes/ZZ9").await, 404, Names::Nothing, "ZZ9");
    // A district outside Great Britain says so, as its postcodes do.
    assert_problem_says(
        &get("/api/v1/outcodes/BT1").await,
        404,
        Names::Nothing,
        "Northern Ireland",
    );
}

#[tokio::test]
async fn nearest_postcodes_to_a_point() {
    // ZZ3 1AA is 0.005 degrees of longitude away (about 351 m), ZZ3 1AB 0.015 (about 1053 m).
    let r = get("/api/v1/postcodes?lon=11.495&lat=50.9&radius=2000&limit=10").await;
    let v = r.ok_json();
    assert_eq!(
        (v["lon"].as_f64(), v["lat"].as_f64(), v["radius_m"].as_f64()),
        (Some(11.495), Some(50.9), Some(2000.0))
    );
    let results = v["results"].as_array().unwrap();
    let found: Vec<&str> = results.iter().map(|x| x["postcode"].as_str().unwrap()).collect();
    assert_eq!(found, ["ZZ3 1AA", "ZZ3 1AB"]);
    let d: Vec<f64> = results.iter().map(|x| x["distance_m"].as_f64().unwrap()).collect();
    assert!(
        (330.0..370.0).contains(&d[0]) && (1000.0..1100.0).contains(&d[1]),
        "{d:?}"
    );
    // Each result is the postcode's own answer plus its distance.
    let mut first = results[0].clone();
    first.as_object_mut().unwrap().remove("distance_m");
    assert_eq!(first, get("/api/v1/postcodes/ZZ3%201AA").await.json);

    let within = |query: &'static str| async move {
        let r = get(&format!("/api/v1/postcodes?lon=11.495&lat=50.9&{query}")).await;
        let v = r.ok_json().clone();
        let found: Vec<String> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["postcode"].as_str().unwrap().to_string())
            .collect();
        (v["radius_m"].as_f64().unwrap(), found)
    };
    assert_eq!(
        within("radius=2000&limit=1").await,
        (2000.0, vec!["ZZ3 1AA".to_string()])
    );
    assert_eq!(
        within("limit=5").await,
        (500.0, vec!["ZZ3 1AA".to_string()]),
        "default radius 500 m"
    );
    assert_eq!(within("radius=0").await, (0.0, vec![]));
    // Open sea: none.
    let r = get("/api/v1/postcodes?lon=14&lat=51&radius=2000").await;
    assert_eq!(r.ok_json()["results"], json!([]));
}

#[tokio::test]
async fn nearest_postcode_parameters_are_validated() {
    for (query, parameter) in [
        ("lon=11&lat=50.9&radius=2001", "radius"),
        ("lon=11&lat=50.9&radius=-1", "radius"),
        ("lon=11&lat=50.9&radius=NaN", "radius"),
        ("lon=11&lat=50.9&radius=x", "radius"),
        ("lon=11&lat=50.9&limit=0", "limit"),
        ("lon=11&lat=50.9&limit=101", "limit"),
        ("lon=11&lat=50.9&limit=2.5", "limit"),
        ("lon=11&lat=50.9&limit=-1", "limit"),
        ("lon=11&lat=50.9&limit=", "limit"),
        ("lat=50.9", "lon"),
        ("lon=11&lat=95", "lat"),
        ("lon=11&lat=50.9&sort=asc", "sort"),
        ("lon=11&lat=50.9&limit=1&limit=2", "limit"),
    ] {
        assert_problem(
            &get(&format!("/api/v1/postcodes?{query}")).await,
            400,
            Names::Parameter(parameter),
        );
    }
    assert!(get("/api/v1/postcodes?lon=11&lat=50.9&radius=2001")
        .await
        .detail()
        .contains("2000"));
    assert!(get("/api/v1/postcodes?lon=11&lat=50.9&limit=101")
        .await
        .detail()
        .contains("1 to 100"));
}

#[tokio::test]
async fn without_a_postcode_index_the_postcode_endpoints_are_503() {
    let router = app(AppState::new(support::load_boundaries()));
    let json = [("content-type", "application/json")];
    let requests = [
        (Method::GET, "/api/v1/postcodes/ZZ1%201AA", ""),
        (Method::GET, "/api/v1/outcodes/ZZ3", ""),
        (Method::GET, "/api/v1/postcodes?lon=11&lat=50.9", ""),
        (Method::POST, "/api/v1/postcodes", r#"{"postcodes":["ZZ1 1AA"]}"#),
    ];
    for (method, path, body) in requests {
        let r = send(
            router.clone(),
            support::request(method.clone(), path, &json, Body::from(body)),
        )
        .await;
        assert_problem_says(&r, 503, Names::Nothing, "postcode index");
        assert_eq!(r.json["type"], "/docs#problem-unavailable", "{method} {path}");
    }
    // Everything else still answers.
    let r = send(
        router.clone(),
        support::request(Method::GET, "/readyz", &[], Body::empty()),
    )
    .await;
    assert_eq!(r.ok_json()["postcodes"], 0);
    let r = send(
        router,
        support::request(Method::GET, "/api/v1/lookup?lon=11&lat=50.5", &[], Body::empty()),
    )
    .await;
    assert_eq!(r.ok_json()["alliance"]["code"], SOUTH);
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document, and what is not routed

#[tokio::test]
async fn the_openapi_document_is_served() {
    let r = get("/api/v1/openapi.json").await;
    let v = r.ok_json();
    assert!(v["openapi"].as_str().unwrap().starts_with("3."), "{}", v["openapi"]);
    let expected = serde_json::to_value(alliance_map::api::openapi::document(&support::manifest())).unwrap();
    assert_eq!(v, &expected);
    assert!(v["info"]["description"]
        .as_str()
        .unwrap()
        .contains("Synthetic test data"));
    assert_eq!(v["info"]["license"]["url"], "https://example.invalid/synthetic");
    assert!(v["paths"]["/api/v1/lookup"]["post"].is_object());
}

#[tokio::test]
async fn unknown_paths_are_404_problems() {
    for path in [
        "/nope",
        "/api/v2/lookup",
        "/api/v1/",
        "/api/v1/lookup/",
        "//api/v1/lookup",
        "/.git/config",
        "/api/v1/alliances/E56900001/geometry/extra",
        // Operations are served only by the admin router.
        "/metrics",
        "/admin/reload",
    ] {
        let r = get(path).await;
        assert_problem_says(&r, 404, Names::Nothing, "nothing is served");
    }
    assert_problem(&call(Method::POST, "/admin/reload").await, 404, Names::Nothing);
}

#[tokio::test]
async fn wrong_methods_are_405_problems() {
    for (method, path) in [
        (Method::DELETE, "/api/v1/lookup"),
        (Method::PUT, "/api/v1/lookup"),
        (Method::PATCH, "/api/v1/alliances"),
        (Method::POST, "/api/v1/alliances"),
        (Method::POST, "/api/v1/stps/E54900001"),
        (Method::DELETE, "/api/v1/postcodes/ZZ11AA"),
        (Method::POST, "/healthz"),
        (Method::POST, "/api/v1/openapi.json"),
        (Method::PUT, "/assets/app.js"),
    ] {
        let r = call(method.clone(), path).await;
        assert_problem_says(&r, 405, Names::Nothing, method.as_str());
    }
}

/// A swapped-in generation brings its own manifest: the pages, `/api/v1/config` and `/readyz`
/// follow it, not the data the server started with.
#[tokio::test]
async fn a_new_generation_brings_its_attribution_and_version() {
    let state = support::fresh_state();
    let mut manifest = support::manifest();
    manifest.attribution = "Reloaded attribution & terms".into();
    let atlas = Atlas::load_boundaries_with(&support::synthetic_dir(), manifest, 2000.0).unwrap();
    assert_eq!(state.swap(atlas), 2);
    let router = alliance_map::api::app(state.clone());
    let page = support::send(router.clone(), support::request(Method::GET, "/", &[], "")).await;
    assert!(
        page.text().contains("Reloaded attribution &amp; terms"),
        "{}",
        page.text()
    );
    let config = support::send(router.clone(), support::request(Method::GET, "/api/v1/config", &[], "")).await;
    assert_eq!(config.ok_json()["attribution"], "Reloaded attribution & terms");
    let ready = support::send(router, support::request(Method::GET, "/readyz", &[], "")).await;
    assert_eq!(ready.ok_json()["data_version"], 2);
}

// ---------------------------------------------------------------------------------------------
// Compression of JSON answers (`api::compress`)

fn unbrotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap();
    out
}

#[tokio::test]
async fn large_json_answers_are_compressed_for_clients_that_accept_it() {
    // With `?date=` the alliance list carries footprints and sub-areas: well over 1 KiB.
    for path in ["/api/v1/alliances?date=2017-04-01", "/api/v1/editions"] {
        let plain = get(path).await;
        assert!(
            plain.body.len() >= 1024,
            "{path}: {} bytes, the test needs ≥ 1 KiB",
            plain.body.len()
        );
        assert_eq!(plain.header("content-encoding"), "", "{path}");
        assert_eq!(
            plain.header("vary"),
            "accept-encoding",
            "{path}: its encoding depends on the request"
        );
        let br = get_with(path, &[("accept-encoding", "gzip, deflate, br")]).await;
        assert_eq!(
            (br.status, br.header("content-encoding")),
            (StatusCode::OK, "br"),
            "{path}"
        );
        assert_eq!(br.header("vary"), "accept-encoding", "{path}");
        assert_eq!(br.content_type(), "application/json");
        let length = br.header("content-length");
        assert!(
            length.is_empty() || length == br.body.len().to_string(),
            "{path}: no stale length ({length})"
        );
        assert!(
            br.body.len() < plain.body.len() / 2,
            "{path}: {} of {}",
            br.body.len(),
            plain.body.len()
        );
        assert_eq!(unbrotli(&br.body), plain.body.as_ref(), "{path}");
        let gz = get_with(path, &[("accept-encoding", "br;q=0, gzip")]).await;
        assert_eq!(gz.header("content-encoding"), "gzip", "{path}");
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.body.as_ref()), &mut unzipped).unwrap();
        assert_eq!(unzipped, plain.body.as_ref(), "{path}");
    }
    // A bulk answer (POST) too.
    let points: Vec<Value> = (0..40)
        .map(|i| json!({"lon": 10.2 + f64::from(i) * 0.05, "lat": 51.5}))
        .collect();
    let r = send(
        api_router(),
        support::request(
            Method::POST,
            "/api/v1/lookup",
            &[("content-type", "application/json"), ("accept-encoding", "br")],
            json!({ "points": points }).to_string(),
        ),
    )
    .await;
    assert_eq!((r.status, r.header("content-encoding")), (StatusCode::OK, "br"));
    let v: Value = serde_json::from_slice(&unbrotli(&r.body)).unwrap();
    assert_eq!(v["results"].as_array().map(Vec::len), Some(40));
}

fn api_router() -> axum::Router {
    support::api()
}

#[tokio::test]
async fn small_answers_are_sent_as_they_are() {
    // The single lookup (the tracked hot path) and a small problem: under 1 KiB, never
    // compressed and no Vary, whatever the client accepts.
    for path in ["/api/v1/lookup?lon=10.2&lat=51.5", "/api/v1/lookup?lon=200&lat=51.5"] {
        let r = get_with(path, &[("accept-encoding", "gzip, deflate, br")]).await;
        assert!(r.body.len() < 1024, "{path}: {} bytes", r.body.len());
        assert_eq!(r.header("content-encoding"), "", "{path}");
        assert_eq!(r.header("vary"), "", "{path}");
        assert!(serde_json::from_slice::<Value>(&r.body).is_ok(), "{path}: plain JSON");
    }
    // The map's settings are the same for a whole generation: rendered once, compressed once,
    // whatever their size, with an ETag.
    let plain = get("/api/v1/config").await;
    let br = get_with("/api/v1/config", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!((br.status, br.header("content-encoding")), (StatusCode::OK, "br"));
    assert_eq!(unbrotli(&br.body), plain.body.as_ref());
    let again = get_with(
        "/api/v1/config",
        &[("accept-encoding", "gzip, br"), ("if-none-match", br.header("etag"))],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    // Pre-compressed documents keep their own negotiation (one Vary, their ETags).
    let r = get_with("/api/v1/boundaries/alliances.geojson", &[("accept-encoding", "br")]).await;
    assert_eq!(r.header("content-encoding"), "br");
    assert_eq!(r.headers.get_all("vary").iter().count(), 1);
    assert!(r.header("etag").ends_with("-br\""), "{}", r.header("etag"));
}

// ---------------------------------------------------------------------------------------------
// Surroundings: the district and any alliance border within 100 m

#[tokio::test]
async fn a_point_near_an_alliance_border_names_the_neighbour_and_the_distance() {
    // West's southern part ends at lon 10.75, where South begins: 0.0005° of longitude at
    // latitude 50.5 is 35.4 m.
    let r = get("/api/v1/surroundings?lon=10.7495&lat=50.5").await;
    let v = r.ok_json();
    assert_eq!(v["border"]["alliance"]["code"], SOUTH, "{v}");
    assert_eq!(v["border"]["alliance"]["name"], "Synthetic Alliance South");
    let d = v["border"]["distance_m"].as_f64().unwrap();
    assert!((d - 35.4).abs() < 0.2, "{d}");
    assert_eq!(v["border_within_m"], 100.0);
    assert_eq!(v["as_of"], "2017-04-01");
    assert_eq!(
        lookup(10.7495, 50.5).await["alliance"]["code"],
        WEST,
        "the answer is the other side"
    );
    // The same from the other side.
    let v = get("/api/v1/surroundings?lon=10.7505&lat=50.5").await.ok_json().clone();
    assert_eq!(v["border"]["alliance"]["code"], WEST, "{v}");
    // On the border itself: 0 m from the alliance the lookup did not answer.
    let v = get("/api/v1/surroundings?lon=11.5&lat=51.5").await.ok_json().clone();
    assert_eq!(lookup(11.5, 51.5).await["alliance"]["code"], WEST);
    assert_eq!(
        (
            v["border"]["alliance"]["code"].as_str(),
            v["border"]["distance_m"].as_f64()
        ),
        (Some(VANGUARD), Some(0.0)),
        "{v}"
    );
    // 150 m away (0.0019° at 51.5° N ≈ 132 m from lon 11.5): too far to mention.
    let v = get("/api/v1/surroundings?lon=11.4981&lat=51.5").await.ok_json().clone();
    assert!(v["border"].is_null(), "{v}");
    // Far from any other alliance, and beside the sea (no alliance across the coast).
    for (lon, lat) in [(10.5, 50.5), (12.985, 51.5)] {
        let v = get(&format!("/api/v1/surroundings?lon={lon}&lat={lat}"))
            .await
            .ok_json()
            .clone();
        assert!(v["border"].is_null(), "{lon},{lat}: {v}");
    }
    // The synthetic data has no district file: null, not an error.
    assert!(v["district"].is_null());
}

#[tokio::test]
async fn surroundings_follow_the_date_and_reject_bad_queries() {
    // The 2020 editions of the synthetic data (see `make-synthetic.py`) answer for 2020.
    let r = get("/api/v1/surroundings?lon=10.7495&lat=50.5&date=latest").await;
    let v = r.ok_json();
    assert_ne!(v["as_of"], "2017-04-01", "{v}");
    assert_problem(
        &get("/api/v1/surroundings?lon=10.7&lat=95").await,
        400,
        Names::Parameter("lat"),
    );
    assert_problem(&get("/api/v1/surroundings?lat=50").await, 400, Names::Parameter("lon"));
    assert_problem(
        &get("/api/v1/surroundings?lon=10.7&lat=50.5&date=2010-01-01").await,
        400,
        Names::Parameter("date"),
    );
    assert_problem(
        &get("/api/v1/surroundings?lon=10.7&lat=50.5&within=5").await,
        400,
        Names::Parameter("within"),
    );
}

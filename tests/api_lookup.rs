//! End-to-end: point lookups through the real HTTP server on loopback.

mod common;

use common::{assert_problem, get_json, post_json};
use serde_json::json;

async fn lookup(lon: f64, lat: f64) -> serde_json::Value {
    let (status, ct, body) = get_json(&format!("/api/v1/lookup?lon={lon}&lat={lat}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("application/json"));
    body
}

fn codes(v: &serde_json::Value) -> (&str, &str, &str) {
    (
        v["match"].as_str().unwrap(),
        v["alliance"]["code"].as_str().unwrap_or("-"),
        v["stp"]["code"].as_str().unwrap_or("-"),
    )
}

#[tokio::test]
async fn known_places_get_their_alliance_and_stp() {
    // (place, lon, lat, alliance, stp)
    let cases = [
        ("Leeds city centre", -1.5492, 53.7997, "E56000003", "E54000005"),
        (
            "Chesterfield (North Derbyshire CCG, split STP)",
            -1.4216,
            53.2350,
            "E56000006",
            "E54000012",
        ),
        (
            "Derby (Southern Derbyshire CCG, same split STP)",
            -1.4746,
            52.9225,
            "E56000008",
            "E54000012",
        ),
        ("Swindon (split STP)", -1.7797, 51.5558, "E56000013", "E54000040"),
        (
            "Bath (same split STP, other alliance)",
            -2.3590,
            51.3811,
            "E56000015",
            "E54000040",
        ),
        (
            "Slough (Frimley Health, Thames Valley side)",
            -0.5950,
            51.5105,
            "E56000013",
            "E54000034",
        ),
        (
            "Farnham (Frimley Health, Surrey and Sussex side)",
            -0.7990,
            51.2146,
            "E56000012",
            "E54000034",
        ),
        ("St Mary's, Isles of Scilly", -6.3107, 49.9146, "E56000014", "E54000036"),
        ("Manchester (vanguard)", -2.2426, 53.4808, "E57000001", "E54000007"),
        ("Islington (vanguard)", -0.1031, 51.5465, "E57000002", "E54000028"),
        ("Wimbledon (vanguard)", -0.2064, 51.4214, "E57000003", "E54000031"),
        ("Newcastle", -1.6178, 54.9783, "E56000017", "E54000046"),
        ("Plymouth", -4.1427, 50.3755, "E56000014", "E54000037"),
        ("Norwich", 1.2974, 52.6309, "E56000009", "E54000022"),
    ];
    for (place, lon, lat, alliance, stp) in cases {
        let v = lookup(lon, lat).await;
        assert_eq!(codes(&v), ("contains", alliance, stp), "{place}: {v}");
        assert_eq!(v["distance_m"], 0.0);
        assert_eq!(v["country"], "England");
    }
}

#[tokio::test]
async fn answer_shape_matches_the_contract() {
    let v = lookup(-1.5492, 53.7997).await;
    assert_eq!(
        v,
        json!({"lon": -1.5492, "lat": 53.7997, "match": "contains", "distance_m": 0.0,
               "alliance": {"code": "E56000003", "name": "West Yorkshire", "kind": "cancer_alliance", "edition": "CALNCV17"},
               "stp": {"code": "E54000005", "name": "West Yorkshire"},
               "footprint": {"code": "E54000005", "name": "West Yorkshire", "kind": "stp", "edition": "STP17"},
               "sub_area": {"code": "E38000095", "name": "NHS Leeds South and East CCG", "kind": "ccg", "edition": "CCG17"},
               "country": "England", "as_of": "2017-04-01"})
    );
    let v = lookup(-2.2426, 53.4808).await;
    assert_eq!(v["alliance"]["kind"], "national_cancer_vanguard");
}

#[tokio::test]
async fn other_nations_are_outside_and_named() {
    for (lon, lat, country) in [
        (-3.1883, 55.9533, "Scotland"),
        (-3.1791, 51.4816, "Wales"),
        (-5.9301, 54.5973, "Northern Ireland"),
    ] {
        let v = lookup(lon, lat).await;
        assert_eq!(codes(&v), ("outside", "-", "-"), "{v}");
        assert_eq!(v["country"], country);
        assert!(v["alliance"].is_null() && v["stp"].is_null());
    }
    // Just over the border from Chester, in Wales: within 2 km of England but never given it.
    let v = lookup(-2.9400, 53.1900).await;
    assert_eq!(
        (v["match"].as_str(), v["country"].as_str()),
        (Some("outside"), Some("Wales")),
        "{v}"
    );
}

#[tokio::test]
async fn sea_points_fall_back_to_the_nearest_area_within_tolerance() {
    // Off Southend, in the Thames estuary.
    let v = lookup(0.7167, 51.5155).await;
    assert_eq!(codes(&v), ("nearest", "E56000009", "E54000026"), "{v}");
    let d = v["distance_m"].as_f64().unwrap();
    assert!(d > 1000.0 && d < 2000.0, "{d}");
    assert!(v["country"].is_null());
    // Mid-Channel and the open Atlantic are outside, with no country.
    for (lon, lat) in [(-1.0, 50.2), (-8.0, 52.0)] {
        let v = lookup(lon, lat).await;
        assert_eq!(codes(&v), ("outside", "-", "-"), "{v}");
        assert!(v["country"].is_null());
    }
}

#[tokio::test]
async fn bulk_lookup_keeps_order_and_ids() {
    let body = json!({"points": [
        {"lon": -1.5492, "lat": 53.7997, "id": "leeds"},
        {"lon": -3.1883, "lat": 55.9533, "id": 7},
        {"lon": -1.4216, "lat": 53.2350},
    ]});
    let (status, _, v) = post_json("/api/v1/lookup", &body.to_string(), Some("application/json")).await;
    assert_eq!(status, 200, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[0]["id"].as_str(), r[0]["alliance"]["code"].as_str()),
        (Some("leeds"), Some("E56000003"))
    );
    assert_eq!(
        (r[1]["id"].as_i64(), r[1]["match"].as_str()),
        (Some(7), Some("outside"))
    );
    assert!(r[2].get("id").is_none());
    assert_eq!(r[2]["stp"]["code"], "E54000012");
}

#[tokio::test]
async fn bulk_lookup_of_a_thousand_points() {
    let points: Vec<_> = (0..1000)
        .map(|i| json!({"lon": -2.0 + i as f64 * 0.001, "lat": 52.5, "id": i}))
        .collect();
    let (status, _, v) = post_json("/api/v1/lookup", &json!({ "points": points }).to_string(), None).await;
    assert_eq!(status, 200);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 1000);
    assert!(r.iter().enumerate().all(|(i, x)| x["id"] == i));
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    for (query, param, says) in [
        ("", "lon", "required"),
        ("lon=-1.5", "lat", "required"),
        ("lon=abc&lat=53", "lon", "decimal number"),
        ("lon=-1.5&lat=NaN", "lat", "decimal number"),
        ("lon=inf&lat=53", "lon", "decimal number"),
        ("lon=-1.5&lat=1e400", "lat", "finite"),
        ("lon=-1.5&lat=95", "lat", "between -90 and 90"),
        ("lon=190&lat=53", "lon", "between -180 and 180"),
        ("lon=-1.5&lat=53&foo=1", "foo", "unknown query parameter"),
        ("lon=-1.5&lat=53&lat=54", "lat", "more than once"),
    ] {
        let got = get_json(&format!("/api/v1/lookup?{query}")).await;
        assert_problem(&got, 400, says);
        assert_eq!(got.2["parameter"], param, "{query}");
    }
}

#[tokio::test]
async fn bad_bulk_bodies_are_4xx_naming_the_item() {
    let too_many: Vec<_> = (0..1001).map(|_| json!({"lon": 0, "lat": 51})).collect();
    // (body, content type, status, detail mentions, JSON pointer)
    type Case<'a> = (String, Option<&'a str>, u16, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("".into(), Some("application/json"), 422, "empty", None),
        (
            "{not json".into(),
            Some("application/json"),
            422,
            "not valid JSON",
            None,
        ),
        ("[]".into(), None, 422, "expected a JSON object", None),
        (r#"{"points": []}"#.into(), None, 422, "is empty", Some("/points")),
        (
            r#"{"points": 5}"#.into(),
            None,
            422,
            "expected a sequence",
            Some("/points"),
        ),
        (r#"{"pts": []}"#.into(), None, 422, "unknown field", Some("/pts")),
        (
            r#"{"points":[{"lon":1,"lat":51},{"lon":"x","lat":51}]}"#.into(),
            None,
            422,
            "points[1].lon: invalid type: string",
            Some("/points/1/lon"),
        ),
        (
            r#"{"points":[{"lon":1}]}"#.into(),
            None,
            422,
            "points[0].lat is missing",
            Some("/points/0/lat"),
        ),
        (
            r#"{"points":[{"lon":1,"lat":91}]}"#.into(),
            None,
            422,
            "between -90 and 90",
            Some("/points/0/lat"),
        ),
        (
            r#"{"points":[{"lon":1,"lat":51,"id":[1]}]}"#.into(),
            None,
            422,
            "string or a number",
            Some("/points/0/id"),
        ),
        (
            r#"{"points":[{"lon":1,"lat":51,"x":1}]}"#.into(),
            None,
            422,
            "unknown field",
            Some("/points/0/x"),
        ),
        (
            r#"{"points":[3]}"#.into(),
            None,
            422,
            "expected a JSON object",
            Some("/points/0"),
        ),
        (
            json!({ "points": too_many }).to_string(),
            None,
            413,
            "at most 1000",
            None,
        ),
        (
            "x".repeat(300 * 1024),
            Some("application/json"),
            413,
            "larger than",
            None,
        ),
        (
            r#"{"points":[]}"#.into(),
            Some("text/plain"),
            415,
            "application/json",
            None,
        ),
    ];
    for (body, ct, status, says, pointer) in cases {
        let got = post_json("/api/v1/lookup", &body, ct).await;
        assert_problem(&got, status, says);
        if let Some(p) = pointer {
            assert_eq!(got.2["pointer"], p, "{}", got.2);
        }
    }
}

#[tokio::test]
async fn wrong_methods_and_paths_are_problems() {
    let r = common::client()
        .delete(format!("{}/api/v1/lookup", common::server()))
        .send()
        .await
        .unwrap();
    let got = common::decode(r).await;
    assert_problem(&got, 405, "DELETE");
    assert_problem(&get_json("/api/v1/nothing-here").await, 404, "nothing is served");
}

#[tokio::test]
async fn health_is_ok() {
    let r = common::client()
        .get(format!("{}/healthz", common::server()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

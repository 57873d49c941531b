//! End-to-end: postcodes through the real HTTP server, on the real Code-Point Open data.

mod common;

use common::{assert_problem, server_with_postcodes as pc_server};
use serde_json::json;

async fn get(path: &str) -> (u16, String, serde_json::Value) {
    common::get_json_from(pc_server(), path).await
}

async fn post(path: &str, body: &str) -> (u16, String, serde_json::Value) {
    common::post_json_to(pc_server(), path, body, Some("application/json")).await
}

#[tokio::test]
async fn a_postcode_in_any_spelling_gets_its_areas() {
    for spelling in ["LS1%201AZ", "ls1%201az", "LS11AZ", "%20LS1%20%201AZ%20"] {
        let (s, _, v) = get(&format!("/api/v1/postcodes/{spelling}")).await;
        assert_eq!(s, 200, "{spelling}: {v}");
        assert_eq!(v["postcode"], "LS1 1AZ");
        assert_eq!(v["country"], "England");
        assert_eq!(v["alliance"]["code"], "E56000003");
        assert_eq!(v["stp"]["code"], "E54000005");
        assert_eq!(v["source"], "OS Code-Point Open 2018.3.0");
        let (lon, lat) = (v["lon"].as_f64().unwrap(), v["lat"].as_f64().unwrap());
        assert!((lon + 1.56).abs() < 0.05 && (lat - 53.8).abs() < 0.05, "{lon} {lat}");
    }
}

#[tokio::test]
async fn postcodes_across_the_split_stps_and_the_islands() {
    for (pc, alliance, stp) in [
        ("S40 1LL", "E56000006", "E54000012"),  // Chesterfield: North Derbyshire CCG
        ("DE1 2FS", "E56000008", "E54000012"),  // Derby: Southern Derbyshire CCG
        ("SN1 1LF", "E56000013", "E54000040"),  // Swindon
        ("BA1 1SU", "E56000015", "E54000040"),  // Bath
        ("SL1 1XW", "E56000013", "E54000034"),  // Slough
        ("GU9 7JX", "E56000012", "E54000034"),  // Farnham
        ("TR21 0HE", "E56000014", "E54000036"), // St Mary's, Isles of Scilly
        ("M1 1AD", "E57000001", "E54000007"),   // Manchester
    ] {
        let (s, _, v) = get(&format!("/api/v1/postcodes/{pc}")).await;
        assert_eq!(s, 200, "{pc}: {v}");
        assert_eq!(
            (v["alliance"]["code"].as_str(), v["stp"]["code"].as_str()),
            (Some(alliance), Some(stp)),
            "{pc}: {v}"
        );
    }
}

#[tokio::test]
async fn scottish_and_welsh_postcodes_have_no_english_areas() {
    for (pc, country) in [("EH1 1YZ", "Scotland"), ("CF10 1EP", "Wales")] {
        let (s, _, v) = get(&format!("/api/v1/postcodes/{pc}")).await;
        assert_eq!(s, 200, "{pc}: {v}");
        assert_eq!(v["country"], country);
        assert!(v["alliance"].is_null() && v["stp"].is_null());
    }
}

#[tokio::test]
async fn postcode_errors() {
    assert_problem(&get("/api/v1/postcodes/LS1-1AZ").await, 400, "not a valid UK postcode");
    assert_problem(&get("/api/v1/postcodes/LS1%201CA").await, 400, "C, I, K, M, O or V");
    assert_problem(
        &get("/api/v1/postcodes/%E2%98%83").await,
        400,
        "not a valid UK postcode",
    );
    assert_problem(
        &get("/api/v1/postcodes/ZZ99%209ZZ").await,
        404,
        "not in OS Code-Point Open",
    );
    // Northern Ireland's postcodes come from the NSPL, with no English area; the Channel
    // Islands' and the Isle of Man's have no location in any source.
    let (s, _, v) = get("/api/v1/postcodes/BT1%201AA").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["country"], "Northern Ireland");
    assert_eq!(v["source"], "ONS NSPL May 2025");
    assert!(v["alliance"].is_null() && v["footprint"].is_null(), "{v}");
    assert_problem(&get("/api/v1/postcodes/JE2%203XP").await, 404, "Jersey");
    assert_problem(&get("/api/v1/postcodes/GY1%201AA").await, 404, "Guernsey");
    assert_problem(&get("/api/v1/postcodes/IM1%201AA").await, 404, "Isle of Man");
    let (_, _, v) = get("/api/v1/postcodes/LS1-1AZ").await;
    assert_eq!(v["parameter"], "postcode");
}

#[tokio::test]
async fn bulk_postcodes_mix_results_and_errors_in_order() {
    let body = json!({"postcodes": ["ls1 1az", "LS1-1AZ", "ZZ99 9ZZ", "BT1 1AA", "S40 1LL"]}).to_string();
    let (s, _, v) = post("/api/v1/postcodes", &body).await;
    assert_eq!(s, 200, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 5);
    assert_eq!(r[0]["query"], "ls1 1az");
    assert_eq!(r[0]["result"]["postcode"], "LS1 1AZ");
    assert!(r[0]["error"].is_null());
    assert_eq!(
        (r[1]["error"]["status"].as_u64(), r[1]["result"].is_null()),
        (Some(400), true)
    );
    assert_eq!(r[2]["error"]["status"], 404);
    assert_eq!(r[3]["result"]["country"], "Northern Ireland");
    assert_eq!(r[4]["result"]["stp"]["code"], "E54000012");
}

#[tokio::test]
async fn bulk_postcode_request_errors() {
    let too_many = json!({ "postcodes": vec!["LS1 1AZ"; 1001] }).to_string();
    assert_problem(&post("/api/v1/postcodes", &too_many).await, 413, "at most 1000");
    assert_problem(&post("/api/v1/postcodes", r#"{"postcodes":[]}"#).await, 422, "is empty");
    let got = post("/api/v1/postcodes", r#"{"postcodes":["LS1 1AZ", 5]}"#).await;
    assert_problem(&got, 422, "postcodes[1]: invalid type: integer `5`, expected a string");
    assert_eq!(got.2["pointer"], "/postcodes/1");
    assert_problem(&post("/api/v1/postcodes", "nope").await, 422, "not valid JSON");
}

#[tokio::test]
async fn an_outcode_reports_its_areas_and_whether_it_straddles() {
    let (s, _, v) = get("/api/v1/outcodes/s40").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["outcode"], "S40");
    assert!(v["postcodes"].as_u64().unwrap() > 500);
    assert_eq!(v["alliances"][0]["code"], "E56000006");
    let shares: f64 = v["alliances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["share"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-3, "{shares}");
    assert!((v["centroid"]["lon"].as_f64().unwrap() + 1.43).abs() < 0.1);

    // Find a district on an alliance border: the API must say it straddles.
    let mut straddling = None;
    for d in [
        "SN6", "DE55", "GU15", "SN8", "S42", "S43", "S44", "S45", "DE56", "LA6", "YO62", "HG3", "TN22", "GU10",
    ] {
        let (_, _, v) = get(&format!("/api/v1/outcodes/{d}")).await;
        if v["straddles_alliances"] == true {
            straddling = Some(v);
            break;
        }
    }
    let v = straddling.expect("some border district straddles two alliances");
    let alliances = v["alliances"].as_array().unwrap();
    assert!(alliances.len() >= 2);
    let counted: u64 = alliances.iter().map(|a| a["postcodes"].as_u64().unwrap()).sum();
    assert_eq!(
        counted + v["without_area"].as_u64().unwrap(),
        v["postcodes"].as_u64().unwrap()
    );

    assert_problem(&get("/api/v1/outcodes/S4000").await, 400, "not a valid outward code");
    assert_problem(
        &get("/api/v1/outcodes/ZZ99").await,
        404,
        "no postcodes in district ZZ99",
    );
}

#[tokio::test]
async fn nearest_postcodes_to_a_point() {
    let (s, _, v) = get("/api/v1/postcodes?lon=-1.5492&lat=53.7997&radius=300&limit=5").await;
    assert_eq!(s, 200, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 5);
    let d: Vec<f64> = r.iter().map(|x| x["distance_m"].as_f64().unwrap()).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]) && d[4] <= 300.0, "{d:?}");
    assert!(r.iter().all(|x| x["postcode"].as_str().unwrap().starts_with("LS")));
    assert_eq!(r[0]["alliance"]["code"], "E56000003");
    // The open sea has none.
    let (_, _, v) = get("/api/v1/postcodes?lon=-8&lat=52&radius=2000").await;
    assert_eq!(v["results"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn nearest_postcode_parameters_are_validated() {
    for (q, param, says) in [
        ("lon=-1.5&lat=53.8&radius=2001", "radius", "between 0 and 2000"),
        ("lon=-1.5&lat=53.8&radius=x", "radius", "decimal number"),
        ("lon=-1.5&lat=53.8&limit=0", "limit", "1 to 100"),
        ("lon=-1.5&lat=53.8&limit=101", "limit", "1 to 100"),
        ("lon=-1.5&lat=53.8&limit=2.5", "limit", "1 to 100"),
        ("lat=53.8", "lon", "required"),
        ("lon=-1.5&lat=53.8&sort=asc", "sort", "unknown"),
    ] {
        let got = get(&format!("/api/v1/postcodes?{q}")).await;
        assert_problem(&got, 400, says);
        assert_eq!(got.2["parameter"], param, "{q}");
    }
}

#[tokio::test]
async fn without_a_postcode_index_the_postcode_api_says_so() {
    let got = common::get_json("/api/v1/postcodes/LS1%201AZ").await;
    assert_problem(&got, 503, "without a postcode index");
}

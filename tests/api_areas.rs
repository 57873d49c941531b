//! End-to-end: the alliance and STP resources.

mod common;

use common::{assert_problem, get_json};

#[tokio::test]
async fn lists_all_nineteen_alliances_and_44_stps() {
    let (s, _, v) = get_json("/api/v1/alliances").await;
    assert_eq!(s, 200);
    let alliances = v["alliances"].as_array().unwrap();
    assert_eq!(alliances.len(), 19);
    let vanguards = alliances
        .iter()
        .filter(|a| a["kind"] == "national_cancer_vanguard")
        .count();
    assert_eq!(vanguards, 3);
    let ccgs: usize = alliances.iter().map(|a| a["ccgs"].as_array().unwrap().len()).sum();
    assert_eq!(ccgs, 207, "every CCG is in exactly one alliance");

    let (s, _, v) = get_json("/api/v1/stps").await;
    assert_eq!(s, 200);
    let stps = v["stps"].as_array().unwrap();
    assert_eq!(stps.len(), 44);
    let split: Vec<&str> = stps
        .iter()
        .filter(|s| s["alliances"].as_array().unwrap().len() == 2)
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(split, ["E54000012", "E54000034", "E54000040"]);
}

#[tokio::test]
async fn an_alliance_marks_partial_stps_with_their_ccgs() {
    let (s, _, v) = get_json("/api/v1/alliances/E56000006").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["name"], "South Yorkshire, Bassetlaw, North Derbyshire and Hardwick");
    let derbyshire = v["stps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "E54000012")
        .unwrap();
    assert_eq!(derbyshire["whole"], false);
    let mut carrying: Vec<&str> = derbyshire["ccgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    carrying.sort();
    assert_eq!(carrying, ["NHS Hardwick CCG", "NHS North Derbyshire CCG"]);
    let syb = v["stps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "E54000009")
        .unwrap();
    assert_eq!(
        (syb["whole"].as_bool(), syb["ccgs"].as_array().unwrap().len()),
        (Some(true), 0)
    );
    let bbox = v["bbox"].as_array().unwrap();
    assert!(bbox[0].as_f64().unwrap() < -1.4 && bbox[3].as_f64().unwrap() > 53.3);
}

#[tokio::test]
async fn an_stp_names_its_alliances_and_codes_are_case_insensitive() {
    let (s, _, v) = get_json("/api/v1/stps/e54000034").await;
    assert_eq!(s, 200, "{v}");
    let codes: Vec<&str> = v["alliances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["E56000012", "E56000013"]);
}

#[tokio::test]
async fn geometry_is_a_geojson_feature() {
    let (s, ct, v) = get_json("/api/v1/alliances/E56000003/geometry").await;
    assert_eq!(s, 200);
    assert_eq!(ct, "application/geo+json");
    assert_eq!(v["type"], "Feature");
    assert_eq!(v["properties"]["code"], "E56000003");
    assert_eq!(v["geometry"]["type"], "MultiPolygon");
    let (s, _, v) = get_json("/api/v1/stps/E54000005/geometry").await;
    assert_eq!((s, v["properties"]["name"].as_str()), (200, Some("West Yorkshire")));
}

#[tokio::test]
async fn unknown_codes_are_404() {
    assert_problem(
        &get_json("/api/v1/alliances/E56000001").await,
        404,
        "no Cancer Alliance",
    );
    assert_problem(
        &get_json("/api/v1/alliances/E56000001/geometry").await,
        404,
        "no Cancer Alliance",
    );
    assert_problem(&get_json("/api/v1/stps/E54000099").await, 404, "no STP");
    assert_problem(&get_json("/api/v1/stps/%00%2e%2e").await, 404, "no STP");
    assert_problem(&get_json("/api/v1/stps?x=1").await, 400, "unknown query parameter");
}

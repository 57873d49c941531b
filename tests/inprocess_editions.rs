//! Editions in process: `date=` on every answer, `/api/v1/editions`, timelines, on the
//! synthetic dataset's two editions (see `tests/synthetic/make-synthetic.py`):
//!
//! - 2017-04-01: alliances SYNAL (West E56900001, South E56900002, Vanguard East E57900001),
//!   footprints SYNFP (STPs E54900001–4, E54900003 split), sub-areas SYNSUB (six CCGs),
//!   superseded on 2019-04-01 by an edition not held;
//! - 2020-04-01: alliances SYNAL20 (the vanguard recoded E56900003), footprints SYNFP20 (ICBs;
//!   the split STP recoded E54900005, still split, by an area overlay), no sub-areas; both
//!   superseded on 2022-04-01 by editions not held.

#[path = "support/mod.rs"]
mod support;

use serde_json::{json, Value};
use support::{assert_problem_says, get, post_json, Names};

async fn lookup_on(lon: f64, lat: f64, date: &str) -> Value {
    get(&format!("/api/v1/lookup?lon={lon}&lat={lat}&date={date}"))
        .await
        .ok_json()
        .clone()
}

fn code(v: &Value, key: &str) -> Option<String> {
    v[key]["code"].as_str().map(str::to_string)
}

#[tokio::test]
async fn each_date_gets_the_editions_in_force_then() {
    // In the vanguard's area: the vanguard until 2020, then the recoded alliance.
    let v = lookup_on(12.0, 51.5, "2017-06-01").await;
    assert_eq!(code(&v, "alliance").as_deref(), Some("E57900001"));
    assert_eq!(v["alliance"]["edition"], "SYNAL");
    assert_eq!(v["footprint"]["edition"], "SYNFP");
    assert_eq!(v["sub_area"]["code"], "E38900002");
    assert_eq!(v["as_of"], "2017-06-01");
    assert_eq!(v["stp"]["code"], "E54900002", "the 2017 field stays for STP editions");

    let v = lookup_on(12.0, 51.5, "2020-06-01").await;
    assert_eq!(
        v["alliance"],
        json!({"code": "E56900003", "name": "Synthetic Alliance East", "kind": "cancer_alliance", "edition": "SYNAL20"})
    );
    assert_eq!(
        v["footprint"],
        json!({"code": "E54900002", "name": "Synthetic North East ICB", "kind": "icb", "edition": "SYNFP20"})
    );
    assert!(v.get("stp").is_none(), "no stp field for an ICB edition: {v}");
    assert_eq!(v["sub_area"], Value::Null);
    let notes = v["notes"].as_array().expect("a note why the sub-area is null");
    assert!(
        notes[0]
            .as_str()
            .unwrap()
            .contains("No sub-area edition is held from 2019-04-01"),
        "{notes:?}"
    );
}

#[tokio::test]
async fn dates_on_every_boundary_between_editions() {
    // (date, alliance edition, footprint edition, sub-area edition)
    for (date, al, fp, sub) in [
        ("2017-04-01", "SYNAL", "SYNFP", Some("SYNSUB")),
        ("2019-03-31", "SYNAL", "SYNFP", Some("SYNSUB")),
        ("2019-04-01", "SYNAL", "SYNFP", None),
        ("2020-03-31", "SYNAL", "SYNFP", None),
        ("2020-04-01", "SYNAL20", "SYNFP20", None),
        ("2022-03-31", "SYNAL20", "SYNFP20", None),
    ] {
        let v = lookup_on(10.2, 51.5, date).await;
        assert_eq!(v["alliance"]["edition"], al, "{date}");
        assert_eq!(v["footprint"]["edition"], fp, "{date}");
        assert_eq!(v["sub_area"]["edition"].as_str(), sub, "{date}");
        assert_eq!(v["as_of"], date);
    }
}

#[tokio::test]
async fn latest_is_flagged_superseded() {
    let v = lookup_on(10.2, 51.5, "latest").await;
    assert_eq!(v["alliance"]["edition"], "SYNAL20");
    assert_eq!(v["as_of"], "2020-04-01");
    assert_eq!(v["superseded_since"], "2022-04-01");
    // Without a date: the default (2017) answer, never flagged.
    let v = get("/api/v1/lookup?lon=10.2&lat=51.5").await.ok_json().clone();
    assert_eq!(
        (v["as_of"].as_str(), v.get("superseded_since")),
        (Some("2017-04-01"), None)
    );
}

#[tokio::test]
async fn a_split_footprint_takes_its_alliance_from_the_alliance_layer() {
    // E54900005 (2020) lies in West (lon < 10.75) and South: the overlay lists both.
    let west = lookup_on(10.3, 50.5, "2021-01-01").await;
    let south = lookup_on(11.0, 50.5, "2021-01-01").await;
    assert_eq!(code(&west, "footprint"), code(&south, "footprint"));
    assert_eq!(code(&west, "footprint").as_deref(), Some("E54900005"));
    assert_eq!(code(&west, "alliance").as_deref(), Some("E56900001"));
    assert_eq!(code(&south, "alliance").as_deref(), Some("E56900002"));
}

#[tokio::test]
async fn bad_dates_are_400_problems_naming_date() {
    for (date, says) in [
        ("2019-13-01", "not a calendar date"),
        ("2019-02-30", "not a calendar date"),
        ("2019-2-3", "YYYY-MM-DD"),
        ("yesterday", "YYYY-MM-DD"),
        ("", "YYYY-MM-DD"),
        ("2016-12-31", "no edition of this data is in force on 2016-12-31"),
        ("2022-04-01", "held from 2017-04-01 until 2022-03-31"),
    ] {
        for path in [
            format!("/api/v1/lookup?lon=10.2&lat=51.5&date={date}"),
            format!("/api/v1/postcodes/ZZ11AA?date={date}"),
            format!("/api/v1/outcodes/ZZ1?date={date}"),
        ] {
            assert_problem_says(&get(&path).await, 400, Names::Parameter("date"), says);
        }
        let r = post_json(
            &format!("/api/v1/lookup?date={date}"),
            r#"{"points":[{"lon":10.2,"lat":51.5}]}"#,
        )
        .await;
        assert_problem_says(&r, 400, Names::Parameter("date"), says);
    }
    let r = get("/api/v1/lookup?lon=10.2&lat=51.5&date=2017-05-01&date=2018-01-01").await;
    assert_problem_says(&r, 400, Names::Parameter("date"), "more than once");
}

#[tokio::test]
async fn bulk_lookups_take_a_date() {
    let r = post_json(
        "/api/v1/lookup?date=2020-05-01",
        r#"{"points":[{"lon":12.0,"lat":51.5,"id":"a"},{"lon":10.2,"lat":51.5}]}"#,
    )
    .await;
    let v = r.ok_json();
    assert_eq!(v["results"][0]["alliance"]["code"], "E56900003");
    assert_eq!(v["results"][0]["id"], "a");
    assert_eq!(v["results"][1]["alliance"]["edition"], "SYNAL20");
}

#[tokio::test]
async fn the_editions_and_their_periods() {
    let v = get("/api/v1/editions").await.ok_json().clone();
    assert_eq!(v["default_date"], "2017-04-01");
    assert_eq!(v["latest"], "2020-04-01");
    let editions: Vec<(&str, &str, &str, Option<&str>)> = v["editions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["edition"].as_str().unwrap(),
                e["from"].as_str().unwrap(),
                e["until"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        editions,
        [
            ("alliance", "SYNAL", "2017-04-01", Some("2020-04-01")),
            ("footprint", "SYNFP", "2017-04-01", Some("2020-04-01")),
            ("sub_area", "SYNSUB", "2017-04-01", Some("2019-04-01")),
            ("alliance", "SYNAL20", "2020-04-01", Some("2022-04-01")),
            ("footprint", "SYNFP20", "2020-04-01", Some("2022-04-01")),
        ]
    );
    assert_eq!(v["editions"][2]["superseded_since"], "2019-04-01");
    assert_eq!(v["editions"][0]["count"], 3);
    let periods = v["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 3);
    assert_eq!(
        periods[1],
        json!({"from": "2019-04-01", "until": "2020-04-01", "alliance": "SYNAL", "footprint": "SYNFP",
               "sub_area": null, "notes": [periods[1]["notes"][0].clone()]})
    );
    let r = get("/api/v1/editions?date=2017-01-01").await;
    assert_problem_says(&r, 400, Names::Parameter("date"), "takes no query parameters");
}

#[tokio::test]
async fn a_point_timeline_marks_what_changed() {
    let v = get("/api/v1/timeline?lon=12.0&lat=51.5").await.ok_json().clone();
    let periods = v["periods"].as_array().unwrap();
    type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Vec<&'a str>);
    let summary: Vec<Row> = periods
        .iter()
        .map(|p| {
            (
                p["from"].as_str().unwrap(),
                p["alliance"]["code"].as_str(),
                p["sub_area"]["code"].as_str(),
                p["changed"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("2017-04-01", Some("E57900001"), Some("E38900002"), vec![]),
            ("2019-04-01", Some("E57900001"), None, vec!["sub_area"]),
            ("2020-04-01", Some("E56900003"), None, vec!["alliance"]),
        ]
    );
    assert_eq!(periods[2]["until"], "2022-04-01");
    assert_eq!(v["superseded_since"], "2022-04-01");
    assert_eq!(v["country"], "England");
    // At sea beyond the tolerance: every period outside.
    let v = get("/api/v1/timeline?lon=13.5&lat=51.5").await.ok_json().clone();
    assert!(v["periods"].as_array().unwrap().iter().all(|p| p["match"] == "outside"));
    for (path, param) in [
        ("/api/v1/timeline?lon=12.0", "lat"),
        ("/api/v1/timeline?lon=12&lat=51.5&date=2020-01-01", "date"),
        ("/api/v1/timeline?lon=x&lat=51.5", "lon"),
    ] {
        let r = get(path).await;
        assert_eq!(r.status.as_u16(), 400, "{path}");
        assert_eq!(r.json["parameter"], param, "{path}");
    }
}

#[tokio::test]
async fn postcodes_answer_for_a_date_and_have_timelines() {
    let v = get("/api/v1/postcodes/ZZ11AB?date=2021-01-01").await.ok_json().clone();
    assert_eq!(v["alliance"]["code"], "E56900003");
    assert_eq!(v["footprint"]["kind"], "icb");
    assert_eq!(v["sub_area"], Value::Null);
    assert_eq!(v["as_of"], "2021-01-01");
    // The postcode and a point lookup at its coordinates agree in every period.
    let t = get("/api/v1/postcodes/ZZ1%201AB/timeline").await.ok_json().clone();
    let p = get("/api/v1/timeline?lon=12.0&lat=51.5").await.ok_json().clone();
    for (a, b) in t["periods"]
        .as_array()
        .unwrap()
        .iter()
        .zip(p["periods"].as_array().unwrap())
    {
        for key in ["alliance", "footprint", "sub_area", "changed", "from", "until"] {
            assert_eq!(a[key], b[key], "{key}");
        }
    }
    // A Scottish postcode: no English area in any period.
    let t = get("/api/v1/postcodes/ZZ21AA/timeline").await.ok_json().clone();
    assert_eq!(t["country"], "Scotland");
    assert!(t["periods"].as_array().unwrap().iter().all(|p| p["alliance"].is_null()));
    // A district for a date.
    let v = get("/api/v1/outcodes/ZZ3?date=2021-01-01").await.ok_json().clone();
    let alliances: Vec<&str> = v["alliances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(alliances, ["E56900002", "E56900003"]);
    assert!(v.get("stps").is_none(), "ICB edition: no stps list");
    assert_eq!(v["sub_areas"], json!([]));
}

#[tokio::test]
async fn crosswalks_carry_areas_across_editions() {
    let v = get("/api/v1/crosswalk?kind=alliance&from=2017-04-01&to=2020-04-01")
        .await
        .ok_json()
        .clone();
    assert_eq!(v["from"], json!({"date": "2017-04-01", "edition": "SYNAL"}));
    assert_eq!(v["to"], json!({"date": "2020-04-01", "edition": "SYNAL20"}));
    let pairs: Vec<(&str, &str, f64, f64, f64)> = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["from"]["code"].as_str().unwrap(),
                p["to"]["code"].as_str().unwrap(),
                p["area_share_of_from"].as_f64().unwrap(),
                p["area_share_of_to"].as_f64().unwrap(),
                p["postcode_share_of_from"].as_f64().unwrap(),
            )
        })
        .collect();
    // Same shapes, the vanguard recoded: each alliance maps wholly onto one.
    assert_eq!(
        pairs,
        [
            ("E56900001", "E56900001", 1.0, 1.0, 1.0),
            ("E56900002", "E56900002", 1.0, 1.0, 1.0),
            ("E57900001", "E56900003", 1.0, 1.0, 1.0),
        ]
    );
    // The other way round, and an edition with itself.
    let back = get("/api/v1/crosswalk?kind=alliance&from=latest&to=2017-04-01").await;
    assert_eq!(back.ok_json()["pairs"][2]["to"]["code"], "E57900001");
    let same = get("/api/v1/crosswalk?kind=footprint&from=2017-04-01&to=2018-01-01").await;
    assert_eq!(same.ok_json()["pairs"].as_array().unwrap().len(), 4);
    for (query, param, says) in [
        (
            "kind=sub_area&from=2017-04-01&to=2020-04-01",
            "to",
            "no sub-area edition is held on 2020-04-01",
        ),
        (
            "kind=ccg&from=2017-04-01&to=2020-04-01",
            "kind",
            "alliance, footprint or sub_area",
        ),
        ("kind=alliance&from=2017-04-01", "to", "required"),
        (
            "kind=alliance&from=2016-04-01&to=2020-04-01",
            "from",
            "no edition of this data is in force",
        ),
        ("kind=alliance&from=2017-04-01&to=2020-04-01&x=1", "x", "unknown"),
    ] {
        let r = get(&format!("/api/v1/crosswalk?{query}")).await;
        assert_problem_says(&r, 400, Names::Parameter(param), says);
    }
}

#[tokio::test]
async fn footprints_and_sub_areas_of_a_date_with_parents_and_members() {
    let v = get("/api/v1/footprints?date=2021-01-01").await.ok_json().clone();
    assert_eq!(
        (v["as_of"].as_str(), v["edition"].as_str()),
        (Some("2021-01-01"), Some("SYNFP20"))
    );
    let split = &v["areas"][3];
    assert_eq!(split["code"], "E54900005");
    assert_eq!(split["kind"], "icb");
    let parents: Vec<&str> = split["alliances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(parents, ["E56900001", "E56900002"], "the overlay's two alliances");
    assert_eq!(split["sub_areas"], Value::Null, "no sub-area edition held then");
    // 2017: a sub-area with its footprint and alliance; the footprint with its sub-areas.
    let c = get("/api/v1/sub-areas/e38900005").await.ok_json().clone();
    assert_eq!(c["footprint"]["code"], "E54900003");
    assert_eq!(c["alliances"][0]["code"], "E56900002");
    assert_eq!(c["kind"], "ccg");
    let f = get("/api/v1/footprints/E54900003?date=2017-05-01")
        .await
        .ok_json()
        .clone();
    assert_eq!(f["sub_areas"].as_array().unwrap().len(), 2);
    let a = get("/api/v1/alliances/E56900003?date=latest").await.ok_json().clone();
    assert_eq!(a["footprints"][0]["code"], "E54900002");
    assert_eq!(a["edition"], "SYNAL20");
    // No sub-area edition in 2020; an unknown code; a bad date.
    let r = get("/api/v1/sub-areas?date=2020-06-01").await;
    assert_problem_says(&r, 404, Names::Nothing, "no sub-area edition is held for 2020-06-01");
    let r = get("/api/v1/footprints/E54900003?date=2021-01-01").await;
    assert_problem_says(&r, 404, Names::Nothing, "has code \"E54900003\"");
    let r = get("/api/v1/footprints?date=soon").await;
    assert_problem_says(&r, 400, Names::Parameter("date"), "YYYY-MM-DD");
    // The v1 alliance list without a date is unchanged in shape.
    let v1 = get("/api/v1/alliances").await.ok_json().clone();
    assert!(v1["alliances"][0]["stps"].is_array());
}

/// The pre-rendered single-lookup answers are byte for byte the serialised ones, wherever a
/// point is (covered, on borders, in the lake, at sea, in Scotland).
#[tokio::test]
async fn pre_rendered_answers_are_the_serialised_answers() {
    let state = support::state();
    let atlas = state.atlas();
    let (mut rendered, mut total) = (0, 0);
    for i in 0..=130 {
        for j in 0..=120 {
            let (lon, lat) = (9.9 + i as f64 * 0.025, 49.9 + j as f64 * 0.025);
            let answer = atlas.lookup(lon, lat);
            let plain = serde_json::to_vec(&answer).unwrap();
            if let Some((json, _)) = atlas.lookup_json(lon, lat) {
                assert_eq!(
                    String::from_utf8_lossy(&json),
                    String::from_utf8_lossy(&plain),
                    "at {lon},{lat}"
                );
                rendered += 1;
            } else {
                // Only a nearest answer (its distance varies) is serialised per request.
                assert_eq!(
                    answer.match_kind,
                    alliance_map::locate::MatchKind::Nearest,
                    "not rendered at {lon},{lat}"
                );
            }
            total += 1;
        }
    }
    assert!(
        rendered * 2 > total,
        "most points take the rendered path ({rendered} of {total})"
    );
    // And through the router.
    let r = get("/api/v1/lookup?lon=12.0&lat=51.5").await;
    let plain = serde_json::to_vec(&atlas.lookup(12.0, 51.5)).unwrap();
    assert_eq!(r.body.as_ref(), plain.as_slice());
    assert_eq!(r.content_type(), "application/json");
}

#[path = "support/editions_subset.rs"]
mod editions_subset;

/// `lookup` and `annotate` load only the editions in force on their date: the same answers as
/// with every edition, on a lattice over the synthetic areas, the lake, the sea and beyond.
#[test]
fn loading_only_the_editions_in_force_gives_the_same_answers() {
    let points: Vec<(f64, f64)> = (0..=65)
        .flat_map(|i| (0..=60).map(move |j| (9.9 + i as f64 * 0.05, 49.9 + j as f64 * 0.05)))
        .collect();
    let fewest = editions_subset::assert_subsets_answer_alike(
        &alliance_map::model::DataSource::Dir(support::synthetic_dir()),
        &alliance_map::atlas::Options {
            manifest: Some(support::manifest_path()),
            ..Default::default()
        },
        &points,
    );
    let all = support::manifest().layers.len() - 1;
    assert!(fewest < all, "some date loads fewer than the {all} editions ({fewest})");
}

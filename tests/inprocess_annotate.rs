//! `POST /api/v1/annotate` in process, on the synthetic dataset: CSV and NDJSON, by postcode
//! and by point, with and without a date or timeline, every row kept in order, and every
//! refusal (a problem before any output). Expected areas come from the API's own single
//! lookups, never from constants. The paced upload, stalls and disconnects through the real
//! server are in `annotate_stream.rs`.

#[path = "support/mod.rs"]
mod support;

use axum::http::StatusCode;
use serde_json::Value;
use support::{assert_problem, get, post, Names};

const CSV: Option<&str> = Some("text/csv");
const NDJSON: Option<&str> = Some("application/x-ndjson");

/// Parses a CSV answer into its header and rows.
fn table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// The alliance code the single postcode endpoint answers, if any.
async fn postcode_alliance(pc: &str, date: Option<&str>) -> Option<String> {
    let path = match date {
        Some(d) => format!("/api/v1/postcodes/{}?date={d}", pc.replace(' ', "%20")),
        None => format!("/api/v1/postcodes/{}", pc.replace(' ', "%20")),
    };
    let r = get(&path).await;
    if r.status != StatusCode::OK {
        return None;
    }
    r.ok_json()["alliance"]["code"].as_str().map(String::from)
}

#[tokio::test]
async fn csv_by_postcode_keeps_every_row_in_order_with_its_status() {
    let input = "id,postcode,note\n\
                 1,ZZ1 1AA,a\n\
                 2,zz11ab,\"quoted, comma\"\n\
                 3,not a postcode,c\n\
                 4,ZZ9 9ZZ,d\n\
                 5,ZZ2 1AA,scotland\n\
                 6,ZZ1 1AD\n\
                 7,ZZ1 1AE,e,extra\n\
                 8,ZZ3 1AA,f\n";
    let r = post("/api/v1/annotate?postcode_column=postcode", input, CSV).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.content_type().starts_with("text/csv"));
    let (header, rows) = table(&r.text());
    assert_eq!(
        header,
        [
            "id",
            "postcode",
            "note",
            "alliance_code",
            "alliance_name",
            "stp_code",
            "stp_name",
            "annotate_status"
        ]
    );
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6", "7", "8"], "every row, in order");
    assert!(
        rows.iter().all(|r| r.len() == 8),
        "no row shifted or ragged in the output"
    );
    let status: Vec<&str> = rows.iter().map(|r| r[7].as_str()).collect();
    assert_eq!(
        status,
        [
            "matched",
            "matched",
            "malformed",
            "not_found",
            "no_area",
            "ragged",
            "ragged",
            "matched"
        ]
    );
    // Quoted fields pass through; the ragged short row is padded, the long one cut.
    assert_eq!(rows[1][2], "quoted, comma");
    assert_eq!(rows[5][2], "");
    for (row, pc) in [(0, "ZZ1 1AA"), (1, "ZZ1 1AB"), (7, "ZZ3 1AA")] {
        let expected = postcode_alliance(pc, None).await.expect("the API answers");
        assert_eq!(rows[row][3], expected, "{pc}");
        assert!(!rows[row][4].is_empty() && !rows[row][5].is_empty());
    }
    for row in [2, 3, 4, 5, 6] {
        assert!(rows[row][3..7].iter().all(String::is_empty), "row {row}");
    }
}

#[tokio::test]
async fn csv_by_point_for_a_date_and_for_the_timeline() {
    let input = "lon,lat\n10.2,51.5\n12.0,50.5\n200,1\n11.0,52.5\n";
    let r = post("/api/v1/annotate?lon_column=lon&lat_column=lat&date=latest", input, CSV).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (header, rows) = table(&r.text());
    assert_eq!(
        &header[2..],
        [
            "alliance_code",
            "alliance_name",
            "footprint_code",
            "footprint_name",
            "sub_area_code",
            "sub_area_name",
            "annotate_status"
        ]
    );
    for (row, (lon, lat)) in [(0, (10.2, 51.5)), (1, (12.0, 50.5))] {
        let single = get(&format!("/api/v1/lookup?lon={lon}&lat={lat}&date=latest")).await;
        let single = single.ok_json();
        assert_eq!(rows[row][2], single["alliance"]["code"].as_str().unwrap());
        assert_eq!(rows[row][4], single["footprint"]["code"].as_str().unwrap());
        assert_eq!(rows[row][6], single["sub_area"]["code"].as_str().unwrap_or(""));
        assert_eq!(rows[row][8], "matched");
    }
    assert_eq!(rows[2][8], "malformed");
    assert_eq!(rows[3][8], "no_area");

    let r = post(
        "/api/v1/annotate?lon_column=lon&lat_column=lat&timeline=true",
        input,
        CSV,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let (header, rows) = table(&r.text());
    let editions = get("/api/v1/editions").await;
    let periods = get("/api/v1/timeline?lon=10.2&lat=51.5").await;
    let periods = periods.ok_json()["periods"].as_array().unwrap().clone();
    assert!(!editions.ok_json().is_null());
    assert_eq!(header.len(), 2 + 6 * periods.len() + 1, "six columns a period");
    for (p, period) in periods.iter().enumerate() {
        let from = period["from"].as_str().unwrap();
        assert_eq!(header[2 + 6 * p], format!("alliance_code_{from}"));
        assert_eq!(rows[0][2 + 6 * p], period["alliance"]["code"].as_str().unwrap_or(""));
    }
}

#[tokio::test]
async fn ndjson_passes_each_object_through_with_the_fields_spliced_in() {
    let input = "{\"z\":1,\"postcode\":\"ZZ1 1AA\",\"a\":[1,2]}\n\
                 \n\
                 {\"postcode\":\"nope\"}\r\n\
                 [1,2,3]\n\
                 {\"postcode\":\"ZZ3 1AA\"}";
    let r = post(
        "/api/v1/annotate?postcode_column=postcode&date=2017-04-01",
        input,
        NDJSON,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.content_type(), "application/x-ndjson");
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "blank lines are not records: {text}");
    // The object's own text first, keys in their order.
    assert!(
        lines[0].starts_with("{\"z\":1,\"postcode\":\"ZZ1 1AA\",\"a\":[1,2],\"alliance_code\":"),
        "{}",
        lines[0]
    );
    let objects: Vec<Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let expected = postcode_alliance("ZZ1 1AA", Some("2017-04-01")).await;
    assert_eq!(objects[0]["alliance_code"].as_str().map(String::from), expected);
    assert_eq!(objects[0]["annotate_status"], "matched");
    assert_eq!(objects[1]["annotate_status"], "malformed");
    assert_eq!(objects[1]["alliance_code"], Value::Null);
    assert_eq!(objects[2]["annotate_status"], "not_an_object");
    assert_eq!(objects[2]["input"], "[1,2,3]");
    assert_eq!(objects[3]["annotate_status"], "matched");
    assert!(objects[3]["sub_area_code"].is_string());
}

#[tokio::test]
async fn ndjson_by_point_takes_numbers_and_numeric_text() {
    let input = "{\"x\":10.2,\"y\":51.5}\n{\"x\":\"12.0\",\"y\":\"50.5\"}\n{\"x\":null,\"y\":1}\n";
    let r = post("/api/v1/annotate?lon_column=x&lat_column=y", input, NDJSON).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let objects: Vec<Value> = r.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let single = get("/api/v1/lookup?lon=12.0&lat=50.5").await;
    assert_eq!(objects[1]["alliance_code"], single.ok_json()["alliance"]["code"]);
    assert_eq!(objects[1]["stp_code"], single.ok_json()["stp"]["code"]);
    assert_eq!(objects[2]["annotate_status"], "malformed");
}

#[tokio::test]
async fn a_long_table_streams_through_whole_and_in_order() {
    let mut input = String::from("n,lon,lat\n");
    let rows = 200_000;
    for i in 0..rows {
        let lon = 10.0 + (i % 3000) as f64 / 1000.0;
        let lat = 50.0 + (i % 2000) as f64 / 1000.0;
        input.push_str(&format!("{i},{lon},{lat}\n"));
    }
    let r = post("/api/v1/annotate?lon_column=lon&lat_column=lat", input, CSV).await;
    assert_eq!(r.status, StatusCode::OK);
    let (_, out) = table(&r.text());
    assert_eq!(out.len(), rows);
    assert!(out.iter().enumerate().all(|(i, r)| r[0] == i.to_string()));
}

#[tokio::test]
async fn refusals_are_problems_naming_what_is_wrong_before_any_output() {
    let csv = "postcode\nZZ1 1AA\n";
    assert_problem(
        &post("/api/v1/annotate?postcode_column=pc", csv, CSV).await,
        400,
        Names::Parameter("postcode_column"),
    );
    assert_problem(
        &post("/api/v1/annotate?lon_column=postcode&lat_column=lat", csv, CSV).await,
        400,
        Names::Parameter("lat_column"),
    );
    assert_problem(
        &post("/api/v1/annotate", csv, CSV).await,
        400,
        Names::Parameter("postcode_column"),
    );
    assert_problem(
        &post(
            "/api/v1/annotate?postcode_column=postcode&lon_column=x&lat_column=y",
            csv,
            CSV,
        )
        .await,
        400,
        Names::Parameter("postcode_column"),
    );
    assert_problem(
        &post("/api/v1/annotate?lon_column=x", csv, CSV).await,
        400,
        Names::Parameter("lat_column"),
    );
    assert_problem(
        &post("/api/v1/annotate?postcode_column=", csv, CSV).await,
        400,
        Names::Parameter("postcode_column"),
    );
    assert_problem(
        &post("/api/v1/annotate?postcode_column=postcode&date=2017-02-30", csv, CSV).await,
        400,
        Names::Parameter("date"),
    );
    assert_problem(
        &post("/api/v1/annotate?postcode_column=postcode&date=1999-01-01", csv, CSV).await,
        400,
        Names::Parameter("date"),
    );
    assert_problem(
        &post(
            "/api/v1/annotate?postcode_column=postcode&date=latest&timeline=true",
            csv,
            CSV,
        )
        .await,
        400,
        Names::Parameter("timeline"),
    );
    assert_problem(
        &post("/api/v1/annotate?postcode_column=postcode&timeline=yes", csv, CSV).await,
        400,
        Names::Parameter("timeline"),
    );
    assert_problem(
        &post("/api/v1/annotate?postcode_column=postcode&colour=red", csv, CSV).await,
        400,
        Names::Parameter("colour"),
    );
    let unsupported = post(
        "/api/v1/annotate?postcode_column=postcode",
        csv,
        Some("application/json"),
    )
    .await;
    assert_eq!(unsupported.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(unsupported.content_type(), "application/problem+json");
    let none = post("/api/v1/annotate?postcode_column=postcode", csv, None).await;
    assert_eq!(none.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // NDJSON whose first record is no object, or lacks the field.
    let r = post("/api/v1/annotate?postcode_column=postcode", "[1]\n", NDJSON).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_problem(
        &post(
            "/api/v1/annotate?postcode_column=postcode",
            "{\"pc\":\"ZZ1 1AA\"}\n",
            NDJSON,
        )
        .await,
        400,
        Names::Parameter("postcode_column"),
    );
    // An empty body has no header: the column is missing.
    assert_problem(
        &post("/api/v1/annotate?postcode_column=postcode", "", CSV).await,
        400,
        Names::Parameter("postcode_column"),
    );
    // A header line over 1 MiB is refused, not buffered without end.
    let long = format!("postcode,{}\n", "x".repeat(2 << 20));
    let r = post("/api/v1/annotate?postcode_column=postcode", long, CSV).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // GET is not how it is called.
    let r = get("/api/v1/annotate?postcode_column=postcode").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

/// The CLI reads CSV in batches looked up side by side (`Annotator::in_batches`): the same
/// bytes out and the same unmatched rows reported, in the same order, as record by record,
/// across batch boundaries and with malformed and ragged rows among them.
#[test]
fn batches_looked_up_side_by_side_write_what_streaming_writes() {
    use alliance_map::annotate::{Annotator, By, Columns};
    let atlas = support::load_boundaries();
    let mut input = String::from("id,lon,lat\n");
    for i in 0..3_000 {
        let (lon, lat) = (9.9 + (i % 61) as f64 * 0.05, 49.9 + (i / 61) as f64 * 0.05);
        match i % 97 {
            0 => input.push_str(&format!("{i},east,{lat}\n")),
            1 => input.push_str(&format!("{i},{lon}\n")),
            _ => input.push_str(&format!("{i},{lon:.4},{lat:.4}\n")),
        }
    }
    let run = |batch: usize| {
        let by = By::Point {
            lon: "lon",
            lat: "lat",
            atlas: &atlas,
        };
        let mut out = Vec::new();
        let mut reports = Vec::new();
        let stats = Annotator::open(input.as_bytes(), by, &atlas.data)
            .unwrap()
            .in_batches(batch)
            .write_to(&mut out, &Columns::Default, |line, text, why| {
                reports.push(format!("{line} {text} {why:?}"))
            })
            .unwrap();
        (out, reports, format!("{stats:?}"))
    };
    let streamed = run(1);
    assert!(
        streamed.1.len() > 60,
        "malformed and ragged rows reported: {}",
        streamed.1.len()
    );
    for batch in [700, 8192] {
        let batched = run(batch);
        assert!(batched.0 == streamed.0, "batches of {batch}: different output");
        assert_eq!(batched.1, streamed.1, "batches of {batch}: reports");
        assert_eq!(batched.2, streamed.2, "batches of {batch}: counts");
    }
}

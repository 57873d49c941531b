//! The postcode commands of the binary: import, lookup, annotate.

mod common;

use common::run;

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_alliance-map"));
    c.env_remove("ALLIANCE_MAP_DATA")
        .env("RUST_LOG", "warn")
        .env("ALLIANCE_MAP_CACHE", common::cache_dir())
        .arg("--log-json");
    c
}

#[test]
fn imports_the_onspd_sample_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("onspd.amp");
    let src = common::data_dir().join("postcodes/onspd-sample-2019.csv");
    let (code, _, err) = run(bin()
        .arg("import-postcodes")
        .arg(&src)
        .arg("--out")
        .arg(&out)
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    for line in [
        "rows read                                      5168",
        "skipped: terminated",
        "imported in Scotland",
        "imported in England                               4",
        "alliance differs from geometry                  0",
    ] {
        assert!(err.contains(line), "summary should contain {line:?}:\n{err}");
    }
    // The built index serves lookups.
    let (code, stdout, err) = run(bin()
        .args(["lookup", "--postcode", "m1 1ad", "--postcodes"])
        .arg(&out)
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["alliance"]["code"], "E57000001");
    assert!(v["source"].as_str().unwrap().starts_with("ONS Postcode Directory"));
    // A terminated postcode is not served as live.
    let (code, _, err) = run(bin()
        .args(["lookup", "--postcode", "AB1 0AA", "--postcodes"])
        .arg(&out)
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("AB1 0AA is not in"), "{err}");
}

#[test]
fn a_corrupt_or_foreign_index_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::data_dir().join("postcodes/onspd-sample-2019.csv");
    let good = dir.path().join("good.amp");
    let (code, _, err) = run(bin()
        .arg("import-postcodes")
        .arg(&src)
        .arg("--out")
        .arg(&good)
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    let mut bytes = std::fs::read(&good).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    let bad = dir.path().join("bad.amp");
    std::fs::write(&bad, &bytes).unwrap();
    let (code, _, err) = run(bin()
        .args(["serve", "--addr", "127.0.0.1:0", "--postcodes"])
        .arg(&bad)
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.amp: postcode index is corrupt: checksum mismatch"),
        "{err}"
    );
    // A zip that is not Code-Point Open.
    let foreign = dir.path().join("foreign.zip");
    std::fs::write(&foreign, b"PK\x03\x04not really a zip").unwrap();
    let (code, _, err) = run(bin()
        .arg("import-postcodes")
        .arg(&foreign)
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("foreign.zip: cannot read"), "{err}");
}

#[test]
fn annotate_keeps_every_row_and_reports_unmatched_ones() {
    let input = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fixtures/annotate-synthetic.csv");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let (code, _, err) = run(bin()
        .arg("annotate")
        .arg(&input)
        .args(["--postcode-column", "postcode", "-o"])
        .arg(&out)
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        headers,
        [
            "id",
            "practice name",
            "postcode",
            "notes",
            "alliance_code",
            "alliance_name",
            "stp_code",
            "stp_name",
            "annotate_status"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6, "every input row is kept");
    assert_eq!(&rows[0][1], "Leeds, City Centre Surgery");
    assert_eq!(&rows[0][3], "multi\nline note");
    assert_eq!(&rows[0][4], "E56000003");
    assert_eq!(&rows[1][1], "Chesterfield \"Royal\" Practice");
    assert_eq!(&rows[1][6], "E54000012");
    assert_eq!(&rows[2][4], "", "Scotland has no alliance");
    assert_eq!(&rows[5][5], "Peninsula");
    assert!(err.contains("\"EH1 1YZ\": not in an English alliance"), "{err}");
    assert!(err.contains("\"ZZ99 9ZZ\": postcode not found"), "{err}");
    assert!(err.contains("\"LS1-1AZ\": not a valid postcode or point"), "{err}");
    assert!(err.contains("6 rows: 3 matched, 3 unmatched"), "{err}");
}

#[test]
fn annotate_names_a_missing_column() {
    let input = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fixtures/annotate-synthetic.csv");
    let (code, _, err) = run(bin()
        .arg("annotate")
        .arg(&input)
        .args(["--postcode-column", "pcd"])
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains("no column \"pcd\"; its columns are: id, practice name, postcode, notes"),
        "{err}"
    );
}

#[test]
fn annotate_by_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("points.csv");
    std::fs::write(
        &input,
        "name,x,y\nLeeds,-1.5492,53.7997\nEdinburgh,-3.1883,55.9533\nbad,abc,53\nSwindon,-1.7797,51.5558\n",
    )
    .unwrap();
    let (code, out, err) = run(bin()
        .arg("annotate")
        .arg(&input)
        .args(["--lon-column", "x", "--lat-column", "y"])
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "name,x,y,alliance_code,alliance_name,stp_code,stp_name,annotate_status"
    );
    assert!(
        lines[1].starts_with("Leeds,-1.5492,53.7997,E56000003,West Yorkshire,E54000005,"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "Edinburgh,-3.1883,55.9533,,,,,no_area");
    assert_eq!(lines[3], "bad,abc,53,,,,,malformed");
    assert!(lines[4].contains("E56000013"), "{}", lines[4]);
    assert!(err.contains("4 rows: 2 matched, 2 unmatched"), "{err}");
}

#[cfg(feature = "parquet")]
/// Reads a Parquet file into its column names and rows of text (`None` for null), through
/// Arrow's own formatting.
fn parquet_rows(path: &std::path::Path) -> (Vec<String>, Vec<Vec<Option<String>>>, arrow_schema::SchemaRef) {
    use arrow_array::Array;
    let file = std::fs::File::open(path).unwrap();
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema().clone();
    let names = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows = Vec::new();
    for batch in builder.build().unwrap() {
        let batch = batch.unwrap();
        let options = arrow_cast::display::FormatOptions::default();
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| arrow_cast::display::ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .zip(&formatters)
                    .map(|(c, f)| c.is_valid(r).then(|| f.value(r).to_string()))
                    .collect(),
            );
        }
    }
    (names, rows, schema)
}

#[cfg(feature = "parquet")]
fn csv_rows(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let names = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (names, rows)
}

#[cfg(feature = "parquet")]
#[test]
fn annotate_writes_parquet_from_csv_with_the_same_answers_as_csv() {
    let input = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fixtures/annotate-synthetic.csv");
    let dir = tempfile::tempdir().unwrap();
    let (pq, csv_out) = (dir.path().join("out.parquet"), dir.path().join("out.csv"));
    for out in [&pq, &csv_out] {
        let (code, _, err) = run(bin()
            .arg("annotate")
            .arg(&input)
            .args(["--postcode-column", "postcode", "--date", "latest", "-o"])
            .arg(out)
            .arg("--data")
            .arg(common::data_dir()));
        assert_eq!(code, 0, "{err}");
    }
    let (pq_names, pq_rows, schema) = parquet_rows(&pq);
    let (csv_names, csv_rows) = csv_rows(&csv_out);
    assert_eq!(pq_names, csv_names);
    assert_eq!(pq_rows.len(), 6);
    for (p, c) in pq_rows.iter().zip(&csv_rows) {
        let p: Vec<String> = p.iter().map(|v| v.clone().unwrap_or_default()).collect();
        assert_eq!(&p, c, "the same row in both formats");
    }
    // Added columns are nullable text: null where CSV has an empty field.
    assert!(pq_rows[2][4].is_none(), "Scotland: no alliance");
    let status = schema.field_with_name("annotate_status").unwrap();
    assert!(!status.is_nullable());
}

#[cfg(feature = "parquet")]
#[test]
fn annotate_reads_parquet_keeping_its_columns_and_types() {
    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("points.parquet");
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])) as ArrayRef),
        (
            "name",
            Arc::new(StringArray::from(vec![
                Some("Leeds"),
                Some("Edinburgh"),
                None,
                Some("Swindon"),
                Some("nowhere"),
            ])) as ArrayRef,
        ),
        (
            "x",
            Arc::new(Float64Array::from(vec![
                Some(-1.5492),
                Some(-3.1883),
                None,
                Some(-1.7797),
                Some(400.0),
            ])) as ArrayRef,
        ),
        (
            "y",
            Arc::new(Float64Array::from(vec![
                Some(53.7997),
                Some(55.9533),
                Some(53.0),
                Some(51.5558),
                Some(1.0),
            ])) as ArrayRef,
        ),
    ])
    .unwrap();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&input).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let out = dir.path().join("out.parquet");
    let (code, _, err) = run(bin()
        .arg("annotate")
        .arg(&input)
        .args(["--lon-column", "x", "--lat-column", "y", "--timeline", "-o"])
        .arg(&out)
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("5 rows: 2 matched, 3 unmatched"), "{err}");
    let (names, rows, schema) = parquet_rows(&out);
    assert_eq!(
        schema.field(0).data_type(),
        &arrow_schema::DataType::Int64,
        "input types pass through"
    );
    assert_eq!(&names[..4], ["id", "name", "x", "y"]);
    assert_eq!(names[4], "alliance_code_2017-04-01");
    let status: Vec<&str> = rows.iter().map(|r| r.last().unwrap().as_deref().unwrap()).collect();
    assert_eq!(status, ["matched", "no_area", "malformed", "matched", "malformed"]);
    assert_eq!(rows[0][4].as_deref(), Some("E56000003"), "Leeds, 2017: West Yorkshire");

    // The same table, out as CSV, answers as the CSV path does for the same points.
    let csv_in = dir.path().join("points.csv");
    std::fs::write(
        &csv_in,
        "id,name,x,y\n1,Leeds,-1.5492,53.7997\n4,Swindon,-1.7797,51.5558\n",
    )
    .unwrap();
    let (code, from_csv, err) = run(bin()
        .arg("annotate")
        .arg(&csv_in)
        .args(["--lon-column", "x", "--lat-column", "y", "--timeline", "--data"])
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    let (code, from_parquet, err) = run(bin()
        .arg("annotate")
        .arg(&input)
        .args([
            "--lon-column",
            "x",
            "--lat-column",
            "y",
            "--timeline",
            "--output-format",
            "csv",
            "--data",
        ])
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    let parquet_lines: Vec<&str> = from_parquet.lines().collect();
    let csv_lines: Vec<&str> = from_csv.lines().collect();
    assert_eq!(parquet_lines[0], csv_lines[0]);
    let areas = |l: &str| l.split(',').skip(4).map(String::from).collect::<Vec<_>>();
    assert_eq!(areas(parquet_lines[1]), areas(csv_lines[1]));
    assert_eq!(areas(parquet_lines[4]), areas(csv_lines[2]));

    // A missing column is named before any output exists.
    let missing = dir.path().join("never.parquet");
    let (code, _, err) = run(bin()
        .arg("annotate")
        .arg(&input)
        .args(["--postcode-column", "pcd", "-o"])
        .arg(&missing)
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains("no column \"pcd\"; its columns are: id, name, x, y"),
        "{err}"
    );
    assert!(!missing.exists());
}

#[test]
fn annotate_ndjson_and_refuses_formats_it_cannot_convert() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, "{\"pc\":\"LS1 1AZ\",\"n\":1}\n{\"pc\":\"EH1 1YZ\"}\nnot json\n").unwrap();
    let (code, out, err) = run(bin()
        .arg("annotate")
        .arg(&input)
        .args(["--postcode-column", "pc", "--data"])
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["alliance_code"], "E56000003");
    assert_eq!(lines[0]["n"], 1);
    assert_eq!(lines[1]["annotate_status"], "no_area");
    assert_eq!(lines[2]["annotate_status"], "not_an_object");
    let (code, _, err) = run(bin()
        .arg("annotate")
        .arg(&input)
        .args(["--postcode-column", "pc", "--output-format", "parquet", "--data"])
        .arg(common::data_dir()));
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("NDJSON stays NDJSON"), "{err}");
}

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

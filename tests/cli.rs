//! The `alliance-map` binary: lookups, data checks, and refusing bad data with exit status 2.

mod common;

use common::run;

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_alliance-map"));
    c.env_remove("ALLIANCE_MAP_DATA").env("RUST_LOG", "warn");
    c
}

/// A data directory that links every real file except `replace`, which gets `contents`.
fn data_dir_with(replace: &str, contents: &str) -> tempfile::TempDir {
    let real = common::data_dir();
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["boundaries", "lookups", "context", "postcodes"] {
        std::fs::create_dir_all(tmp.path().join(sub)).unwrap();
        for entry in std::fs::read_dir(real.join(sub)).unwrap() {
            let entry = entry.unwrap();
            let target = tmp.path().join(sub).join(entry.file_name());
            std::os::unix::fs::symlink(std::fs::canonicalize(entry.path()).unwrap(), target).unwrap();
        }
    }
    let path = tmp.path().join(replace);
    std::fs::remove_file(&path).ok();
    std::fs::write(path, contents).unwrap();
    tmp
}

#[test]
fn lookup_prints_the_api_json() {
    let (code, out, err) = run(bin()
        .args(["lookup", "--lon", "-1.4216", "--lat", "53.2350", "--data"])
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["alliance"]["code"], "E56000006");
    assert_eq!(v["stp"]["code"], "E54000012");
}

#[test]
fn data_directory_comes_from_the_environment() {
    let (code, out, err) = run(bin()
        .args(["lookup", "--lon", "-1.5492", "--lat", "53.7997"])
        .env("ALLIANCE_MAP_DATA", common::data_dir())
        .current_dir(std::env::temp_dir()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("E56000003"));
    assert!(err.is_empty() || !err.contains("error"), "{err}");
}

#[test]
fn lookup_rejects_out_of_range_coordinates() {
    let (code, _, err) = run(bin()
        .args(["lookup", "--lon", "-1.5", "--lat", "91"])
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 64);
    assert!(err.contains("lat must be between -90 and 90"), "{err}");
}

#[test]
fn check_data_summarises_valid_data() {
    let (code, out, err) = run(bin().arg("check-data").arg("--data").arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("19 alliances, 44 STPs (3 split between alliances: E54000012, E54000034, E54000040), 207 CCGs"),
        "{out}"
    );
    assert!(out.contains("all geometries are valid"));
}

fn assert_refused(dir: &Path, says: &[&str]) {
    for args in [vec!["check-data"], vec!["serve", "--addr", "127.0.0.1:0"]] {
        let (code, _, err) = run(bin().args(&args).arg("--data").arg(dir));
        assert_eq!(code, 2, "{args:?}: {err}");
        for s in says {
            assert!(err.contains(s), "{args:?}: {err:?} should mention {s:?}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn bad_boundaries_stop_start_up_naming_file_and_feature() {
    let bad_code = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"stp17cd":"X54000005","stp17nm":"West Yorkshire"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
    let dir = data_dir_with("boundaries/stps-2017.geojson", bad_code);
    assert_refused(dir.path(), &["boundaries/stps-2017.geojson", "feature #0", "X54000005"]);

    let dir = data_dir_with("boundaries/cancer-alliances-2017.geojson", "{\"type\": \"Feature");
    assert_refused(dir.path(), &["cancer-alliances-2017.geojson", "not valid GeoJSON"]);
}

#[test]
fn a_lookup_that_disagrees_with_the_boundaries_stops_start_up() {
    let csv = "CCG17CD,CCG17NM,STP17CD,CALNCV17CD\nE38000001,NHS A CCG,E54000099,E56000003\n";
    let dir = data_dir_with("lookups/ccg17-stp17-calncv17-apr2017.csv", csv);
    assert_refused(
        dir.path(),
        &[
            "ccg17-stp17-calncv17-apr2017.csv",
            "E54000099",
            "is not in STP17",
            "boundaries/stps-2017.geojson",
        ],
    );
}

#[test]
fn a_missing_data_directory_is_a_clear_error() {
    let (code, _, err) = run(bin().args(["check-data", "--data", "/nonexistent/alliance-data"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("/nonexistent/alliance-data: no such data directory (from --data)"),
        "{err}"
    );
    // A directory without the files the manifest names says which file is missing.
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(bin().arg("check-data").arg("--data").arg(empty.path()));
    assert_eq!(code, 2);
    assert!(
        err.contains("boundaries/cancer-alliances-2017.geojson: cannot read"),
        "{err}"
    );
}

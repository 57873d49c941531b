//! Never serve or write stale or broken data: signals during the initial load, the postcode
//! cache (content keys, failures that degrade, the default directory, no partial files) and
//! `annotate`'s output (temp-then-rename, input checked first, ragged rows, output errors).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alliance_map::atlas::{Atlas, Options, PostcodeOptions, PostcodeSource};
use alliance_map::postcode::cache;
use common::run;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_alliance-map"));
    c.env_remove("ALLIANCE_MAP_DATA")
        .env_remove("ALLIANCE_MAP_CACHE")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    c
}

/// Waits until the child's stderr has a line containing `marker`; returns what was read and a
/// channel with the rest of its lines.
fn wait_for_log(child: &mut Child, marker: &str) -> (String, std::sync::mpsc::Receiver<String>) {
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains(marker) {
                    return (seen, rx);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    panic!("no {marker:?} in the log: {seen}");
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn serve(cache_dir: &Path, postcodes: bool) -> Child {
    let mut c = bin();
    c.args([
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--admin-addr",
        "127.0.0.1:0",
        "--data",
    ])
    .arg(common::data_dir())
    .arg("--cache-dir")
    .arg(cache_dir)
    .stderr(Stdio::piped());
    if !postcodes {
        c.arg("--no-postcodes");
    }
    c.spawn().unwrap()
}

#[test]
fn sighup_during_the_initial_load_neither_kills_nor_is_lost() {
    let cache = tempfile::tempdir().unwrap();
    let mut child = serve(cache.path(), false);
    // Logged while loading, after the handlers are installed.
    let (_, rx) = wait_for_log(&mut child, "using data directory");
    signal(&child, "HUP");
    // The server starts, then reloads once for the SIGHUP it got while loading.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    while !seen.contains("data reloaded") {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the server died of a SIGHUP: {seen}"
        );
        assert!(Instant::now() < deadline, "no reload after the SIGHUP: {seen}");
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push_str(&line);
            seen.push('\n');
        }
    }
    signal(&child, "TERM");
    let status = wait_exit(&mut child, Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigterm_during_the_initial_import_exits_cleanly_and_promptly() {
    // An empty cache: the server imports all of Code-Point Open first (several seconds).
    let cache = tempfile::tempdir().unwrap();
    let mut child = serve(cache.path(), true);
    // The log is read to the end: a closed stderr would make the server's next log line a
    // write to a broken pipe, which is not what this test is about.
    let (_, log) = wait_for_log(&mut child, "building the postcode index");
    let started = Instant::now();
    signal(&child, "TERM");
    let status = wait_exit(&mut child, Duration::from_secs(10)).expect("exits within 10 s");
    let rest: Vec<String> = log.try_iter().collect();
    assert_eq!(
        status.code(),
        Some(0),
        "{status:?}; its log after the marker:\n{}",
        rest.join("\n")
    );
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let leftovers: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "nothing half-written left behind: {leftovers:?}");
}

fn onspd_sample() -> PathBuf {
    common::data_dir().join("postcodes/onspd-sample-2019.csv")
}

fn load_with_cache(cache_dir: &Path) -> Result<Atlas, alliance_map::atlas::LoadError> {
    Atlas::load(
        &alliance_map::model::DataSource::Dir(common::data_dir().to_path_buf()),
        &Options {
            postcodes: Some(PostcodeOptions {
                source: PostcodeSource::File(onspd_sample()),
                cache_dir: cache_dir.to_path_buf(),
            }),
            ..Options::default()
        },
    )
}

#[test]
fn cache_failures_degrade_to_serving_from_memory() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the cache directory should be.
    let not_a_dir = dir.path().join("cache-file");
    std::fs::write(&not_a_dir, b"not a directory").unwrap();
    let atlas = load_with_cache(&not_a_dir).expect("serves although the cache cannot be written");
    assert!(atlas.postcodes.as_ref().is_some_and(|p| !p.is_empty()));

    // A directory where the cache file should be.
    let cache_dir = dir.path().join("cache");
    let boundaries = Atlas::load_boundaries(&common::data_dir(), 2000.0).unwrap();
    let sample = [alliance_map::postcode::import::SourceFile {
        path: onspd_sample(),
        name: None,
    }];
    let fp = cache::fingerprint(&sample, &boundaries.data, &boundaries.locators());
    let entry = cache::cache_path(&cache_dir, &fp);
    std::fs::create_dir_all(&entry).unwrap();
    let atlas = load_with_cache(&cache_dir).expect("serves although the cache file is a directory");
    assert!(atlas.postcodes.is_some());
    let names: Vec<String> = std::fs::read_dir(&cache_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "no partial temporary file left: {names:?}");

    // And a writable directory gets the entry, read back on the next load.
    let good = dir.path().join("good");
    load_with_cache(&good).unwrap();
    let entry = cache::cache_path(&good, &fp);
    assert!(entry.is_file());
    let again = load_with_cache(&good).unwrap();
    assert_eq!(again.postcodes.map(|p| p.len()), atlas.postcodes.map(|p| p.len()));
}

#[test]
fn the_default_cache_is_under_the_users_cache_dir() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, err) = run(bin()
        .current_dir(home.path())
        .env("XDG_CACHE_HOME", home.path().join("xdg"))
        .args(["lookup", "--postcode", "M1 1AD", "--postcodes"])
        .arg(onspd_sample())
        .arg("--data")
        .arg(common::data_dir()));
    assert_eq!(code, 0, "{err}");
    let entries: Vec<_> = std::fs::read_dir(home.path().join("xdg/alliance-map"))
        .expect("the cache is in $XDG_CACHE_HOME/alliance-map")
        .flatten()
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(
        !home.path().join(".cache").exists(),
        "nothing relative to the working directory"
    );
}

fn annotate(input: &Path, extra: &[&str]) -> Command {
    let mut c = bin();
    c.env("RUST_LOG", "warn")
        .arg("annotate")
        .arg("--data")
        .arg(common::data_dir())
        .arg(input)
        .args(extra);
    c
}

const POINTS: &str =
    "name,x,y\nLeeds,-1.5492,53.7997\nshort,-1.5\nlong,-1.5492,53.7997,extra\nSwindon,-1.7797,51.5558\n";

#[test]
fn annotate_refuses_to_write_over_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("points.csv");
    std::fs::write(&input, POINTS).unwrap();
    let sneaky = dir.path().join("sub/../points.csv");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for out in [input.clone(), sneaky] {
        let (code, _, err) = run(annotate(&input, &["--lon-column", "x", "--lat-column", "y", "-o"]).arg(&out));
        assert_eq!(code, 64, "{err}");
        assert!(err.contains("the output is the input"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&input).unwrap(),
            POINTS,
            "the input is untouched"
        );
    }
}

#[test]
fn a_bad_column_leaves_an_existing_output_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("points.csv");
    std::fs::write(&input, POINTS).unwrap();
    let out = dir.path().join("out.csv");
    std::fs::write(&out, "precious\n").unwrap();
    let (code, _, err) = run(annotate(&input, &["--lon-column", "lon", "--lat-column", "y", "-o"]).arg(&out));
    assert_eq!(code, 64, "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious\n");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}

#[test]
fn ragged_rows_never_shift_columns() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("points.csv");
    std::fs::write(&input, POINTS).unwrap();
    let out = dir.path().join("out.csv");
    let (code, _, err) = run(annotate(&input, &["--lon-column", "x", "--lat-column", "y", "-o"]).arg(&out));
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "name,x,y,alliance_code,alliance_name,stp_code,stp_name,annotate_status"
    );
    assert!(lines[1].starts_with("Leeds,-1.5492,53.7997,E56000003,"), "{}", lines[1]);
    assert!(lines[1].ends_with(",matched"), "{}", lines[1]);
    assert_eq!(lines[2], "short,-1.5,,,,,,ragged");
    assert_eq!(lines[3], "long,-1.5492,53.7997,,,,,ragged");
    assert!(lines[4].ends_with(",matched"), "{}", lines[4]);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&out).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        assert_eq!(record.len(), 8, "{record:?}");
    }
    assert!(err.contains("2 ragged"), "{err}");
}

#[test]
fn output_errors_are_output_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("points.csv");
    std::fs::write(&input, POINTS).unwrap();
    // A full disk.
    let (code, _, err) = run(&mut annotate(
        &input,
        &["--lon-column", "x", "--lat-column", "y", "-o", "/dev/full"],
    ));
    assert_eq!(code, 74, "{err}");
    assert!(err.contains("output error") && err.contains("/dev/full"), "{err}");
    // A pipe closed by its reader.
    let mut child = annotate(&input, &["--lon-column", "x", "--lat-column", "y"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{err}");
    assert!(err.contains("output error"), "{err}");
    assert!(!err.contains("input"), "not blamed on the input: {err}");
}

//! The Python package (`python/`) under `cargo test`: `scripts/python-env.sh` builds it into
//! `target/python-venv` (a release build of the extension, minutes the first time, a second
//! after), then pytest runs `python/tests/` against the real server on loopback
//! (`ALLIANCE_MAP_URL`): the package's answers, timelines, editions and date errors must be
//! the HTTP API's. The Spark test (PySpark local[2], a Java runtime needed) is the second test.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The virtualenv's Python, the package built and installed in it (once per test binary).
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let started = std::time::Instant::now();
        let output = Command::new("bash")
            .arg(root().join("scripts/python-env.sh"))
            .current_dir(root())
            // The extension's build has its own target directory and profile.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .output()
            .expect("bash runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "scripts/python-env.sh failed (python3 with venv needed; scripts/ci-python-deps.sh installs it):\n{stderr}"
        );
        println!(
            "{stderr}python environment ready in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()).join("bin/python")
    })
}

/// Runs pytest on `tests` with the server's URL; passes if pytest passes with nothing skipped.
/// One pytest at a time: the Spark test's throughput is measured, and two JVM-and-Python
/// runs at once would only slow each other on a small machine.
fn pytest(tests: &[&str]) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let python = python();
    let base = common::server_with_postcodes();
    let started = std::time::Instant::now();
    // The venv's pytest script, not `python -m pytest`: that would put the working directory
    // on the path, and `alliance_map` would be the uncompiled sources in it.
    let output = Command::new(python.with_file_name("pytest"))
        .args(["-q", "-rs", "-s", "-p", "no:cacheprovider"])
        .args(tests)
        .env("ALLIANCE_MAP_URL", base)
        // Not python/: Spark's Python workers put their working directory on the path, and
        // would import the uncompiled `python/alliance_map` from there.
        .current_dir(root().join("python/tests"))
        .output()
        .expect("the virtualenv's pytest runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\npytest took {:.1} s", started.elapsed().as_secs_f64());
    assert!(output.status.success(), "pytest failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed"), "pytest ran no test:\n{stdout}");
    assert!(!stdout.contains("skipped"), "pytest skipped tests:\n{stdout}");
}

#[test]
fn the_python_package_answers_as_the_http_api() {
    pytest(&["test_package.py"]);
}

#[test]
fn spark_annotates_a_million_rows_on_its_executors() {
    assert!(
        Command::new("java").arg("-version").output().is_ok_and(|o| o.status.success()),
        "the Spark test needs a Java runtime (Debian: apt-get install default-jre-headless; scripts/ci-python-deps.sh installs it)"
    );
    pytest(&["test_spark.py"]);
}

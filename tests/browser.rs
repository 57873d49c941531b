//! The map page in a real browser: headless Debian Chromium driven by Playwright
//! (`web/e2e/map.mjs`) against the real server on loopback: the page, search, keyboard and
//! phone use, the edition switch (2017 by default, every period of editions to 2023), every
//! answer's timeline across editions, the "what changed" view over the crosswalks, and
//! axe-core on all of it. Screenshots and the navigation-to-drawn timing land in
//! `target/browser/`.

mod common;

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_map_page_works_in_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "the browser tests need Chromium at {chromium} (Debian: apt-get install chromium; .ci/run installs it)"
    );
    let base = common::server_with_postcodes();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out_dir = root.join("target/browser");
    let output = Command::new("node")
        .arg(root.join("web/e2e/map.mjs"))
        .arg(base)
        .arg(&out_dir)
        .env("CHROMIUM", &chromium)
        .env_remove("E2E_ONLY")
        .current_dir(root.join("web"))
        .output()
        .expect("node runs (install Node.js)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "browser checks failed:\n{stdout}\n{stderr}");
    for check in [
        "ok - the page loads",
        "ok - the edition switch: 2017 by default",
        "ok - an answer shows the place's timeline",
        "ok - what changed between two dates",
        "ok - the edition switch works by keyboard",
        "ok - axe-core finds no accessibility violations",
    ] {
        assert!(stdout.contains(check), "missing \"{check}\":\n{stdout}");
    }
    assert!(!stdout.contains("not ok"), "{stdout}");
}

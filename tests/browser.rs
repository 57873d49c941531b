//! The map page in a real browser: headless Debian Chromium driven by Playwright
//! (`web/e2e/map.mjs`) against the real server on loopback. Screenshots and the
//! navigation-to-drawn timing land in `target/browser/`.

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
        .current_dir(root.join("web"))
        .output()
        .expect("node runs (install Node.js)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "browser checks failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("ok - the page loads") && !stdout.contains("not ok"),
        "{stdout}"
    );
}

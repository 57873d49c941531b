//! The map page in a real browser: headless Debian Chromium driven by Playwright
//! (`web/e2e/map.mjs`) against the real server on loopback: the page, search, keyboard and
//! phone use (attribution collapsed, the answer scrolled into view), the plain-words answer
//! (district, a nearby border, errors in place of the answer, postcode districts, title, URL and
//! copy link), "What's here?" by keyboard, print, forced colours, the alliances drawn compared
//! with the lookup at the audit's places (`queryRenderedFeatures`), the edition switch (2017 by default, every period of editions to 2023), every
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
        "ok - the page loads, draws all 19 alliances, shows the licence, with no errors or outside requests, each document fetched once",
        "ok - the alliance list works by keyboard alone: alphabetical, a filter box, Enter scrolls the answer into view and focuses it",
        "ok - works on a 375 px phone screen",
        "ok - the map draws what the lookup answers (queryRenderedFeatures): Barnsley / South Yorkshire border at zoom 15",
        "ok - the map draws what the lookup answers (queryRenderedFeatures): the Derbyshire split at zoom 16",
        "ok - the map draws what the lookup answers (queryRenderedFeatures): Lambeth at zoom 15",
        "ok - the map draws what the lookup answers (queryRenderedFeatures): Stockport at zoom 14",
        "ok - the answer speaks plainly",
        "ok - within 100 m of an alliance border the answer says how far and which neighbour",
        "ok - a postcode district alone zooms to it, with its alliance shares and a real full postcode to try",
        "ok - errors replace the old answer, speak plainly, mark the search box and are said once",
        "ok - the keyboard can ask the map",
        "ok - print gives the map and the answer",
        "ok - forced-colours mode keeps the swatches' colours",
        "ok - axe-core: 0 violations in the initial, answer, error and phone states; screenshots at 1366×768 and 375×667",
    ] {
        assert!(stdout.contains(check), "missing \"{check}\":\n{stdout}");
    }
    assert!(!stdout.contains("not ok"), "{stdout}");
}

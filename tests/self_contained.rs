//! The program needs nothing beside itself: the binary alone in an empty directory, and a
//! fresh clone of the repository built with nothing beside it, serve the map, the answers of
//! 2017 and 2023 and postcodes from the embedded data.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The clone's build replaces `target/debug/alliance-map`, which the other test copies: one
/// test at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server process, killed when dropped (also when a check fails).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary serve` in `dir` with no data named and nothing in the environment pointing
/// at data; returns the server and its base URL.
fn serve(binary: &Path, dir: &Path) -> (Server, String) {
    let mut child = Command::new(binary)
        .args(["serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"])
        .current_dir(dir)
        .env_remove("ALLIANCE_MAP_DATA")
        .env_remove("ALLIANCE_MAP_MANIFEST")
        .env_remove("ALLIANCE_MAP_CACHE")
        .env("HOME", dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stderr = child.stderr.take().expect("stderr");
    let child = Server(child);
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 4096];
    let base = loop {
        if let Some(at) = seen.find("map at http://") {
            let rest = &seen[at + "map at ".len()..];
            if let Some(end) = rest.find(|c: char| c.is_whitespace()) {
                break rest[..end].trim_end_matches('/').to_string();
            }
        }
        assert!(Instant::now() < deadline, "the server did not start: {seen}");
        let n = stderr.read(&mut buf).unwrap_or(0);
        assert!(n > 0, "the server exited: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    };
    assert!(seen.contains("embedded"), "serves the embedded data: {seen}");
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (child, base)
}

/// The checks of the README's quickstart: the map page and its tiles and glyphs, a lookup of
/// 2017 and of 2023, and postcodes from both sources and from Northern Ireland.
async fn check(base: &str) {
    let c = common::client();
    let page = c.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("maplibre"), "the map page");

    // The map's pieces: its TileJSON, a tile over England with features, and label glyphs.
    let (_, _, tilejson) = common::get_json_from(base, "/api/v1/tiles.json").await;
    assert!(
        tilejson["tiles"][0].as_str().is_some_and(|t| t.contains("{z}")),
        "{tilejson}"
    );
    let tile = c.get(format!("{base}/api/v1/tiles/6/31/20.mvt")).send().await.unwrap();
    assert_eq!(tile.status(), 200);
    assert!(
        tile.bytes().await.unwrap().len() > 1000,
        "a tile with the Midlands' areas"
    );
    let glyphs = c
        .get(format!("{base}/api/v1/fonts/DejaVu%20Sans%20Book/0-255.pbf"))
        .send()
        .await
        .unwrap();
    assert_eq!(glyphs.status(), 200);

    let leeds = |date: &str| format!("/api/v1/lookup?lon=-1.5492&lat=53.7997{date}");
    let (_, _, v) = common::get_json_from(base, &leeds("")).await;
    assert_eq!(v["alliance"]["code"], "E56000003", "{v}");
    assert_eq!(v["as_of"], "2017-04-01");
    let (_, _, v) = common::get_json_from(base, &leeds("&date=2023-09-01")).await;
    assert_eq!(v["alliance"]["edition"], "CAL23", "{v}");
    assert_eq!(v["footprint"]["kind"], "icb", "{v}");

    for (postcode, source, country) in [
        ("LS1 1AZ", "OS Code-Point Open 2018.3.0", "England"),
        ("LS1 1AA", "ONS NSPL May 2025", "England"),
        ("BT1 1AA", "ONS NSPL May 2025", "Northern Ireland"),
    ] {
        let path = format!("/api/v1/postcodes/{}", postcode.replace(' ', "%20"));
        let (status, _, v) = common::get_json_from(base, &path).await;
        assert_eq!(status, 200, "{postcode}");
        assert_eq!(v["source"], source, "{v}");
        assert_eq!(v["country"], country, "{v}");
        assert_eq!(v["alliance"].is_null(), country != "England", "{v}");
    }
}

#[tokio::test]
async fn the_binary_alone_serves_everything_from_an_empty_directory() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("alliance-map");
    std::fs::copy(env!("CARGO_BIN_EXE_alliance-map"), &binary).unwrap();
    let (_server, base) = serve(&binary, dir.path());
    check(&base).await;
}

/// A fresh clone (the committed tree, nothing beside it) builds and serves. The build shares
/// this run's target directory so only this crate compiles, not its dependencies.
#[tokio::test]
async fn a_fresh_clone_builds_and_serves_with_nothing_beside_it() {
    let _one = ONE_AT_A_TIME.lock().await;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("alliance-map");
    let (code, out, err) = common::run(
        Command::new("git")
            .args(["clone", "--quiet", "--no-hardlinks"])
            .arg(repo)
            .arg(&clone),
    );
    assert_eq!(code, 0, "git clone: {out} {err}");
    assert!(!dir.path().join("shared").exists());
    // The front end's packages, as a new user's first build gets them (`build.rs` runs
    // `npm ci`); copied from this checkout to spare the network.
    let modules = repo.join("web/node_modules");
    if modules.is_dir() {
        let (code, _, err) = common::run(Command::new("cp").arg("-a").arg(&modules).arg(clone.join("web/")));
        assert_eq!(code, 0, "{err}");
    }
    let exe = Path::new(env!("CARGO_BIN_EXE_alliance-map"));
    let target = exe.parent().and_then(Path::parent).expect("the target directory");
    let (code, out, err) = common::run(
        Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--bin", "alliance-map"])
            .current_dir(&clone)
            .env("CARGO_TARGET_DIR", target),
    );
    assert_eq!(code, 0, "cargo build in the clone: {out} {err}");
    // The clone's binary now sits where this checkout's did (cargo links it back on this
    // checkout's next build; no later test of this run starts the binary).
    let built = dir.path().join("alliance-map-from-clone");
    std::fs::copy(target.join("debug/alliance-map"), &built).unwrap();
    let (_server, base) = serve(&built, &clone);
    check(&base).await;
}

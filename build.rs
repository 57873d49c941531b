//! Makes sure the front end's npm dependencies (MapLibre GL JS) are installed, since the
//! binary embeds them. On a fresh checkout this runs `npm ci` in `web/` once.

use std::path::Path;
use std::process::Command;

const MAPLIBRE: &str = "web/node_modules/maplibre-gl/dist/maplibre-gl-csp.js";

fn main() {
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed={MAPLIBRE}");
    if Path::new(MAPLIBRE).exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir("web")
        .status();
    match status {
        Ok(s) if s.success() && Path::new(MAPLIBRE).exists() => {}
        Ok(s) => panic!("`npm ci` in web/ failed ({s}); the map embeds maplibre-gl from web/node_modules"),
        Err(e) => panic!("cannot run npm ({e}); install Node.js and npm, then `cd web && npm ci`"),
    }
}

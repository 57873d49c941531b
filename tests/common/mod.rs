//! A real server on a loopback port, shared by the tests of one test binary.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use alliance_map::api::AppState;
use alliance_map::atlas::{Atlas, Options, PostcodeOptions, PostcodeSource};
use alliance_map::server::reload::Loader;
use alliance_map::server::{Limits, Listeners, RunOptions};

/// The real data directory: `$ALLIANCE_MAP_DATA`, else `../shared/data`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("ALLIANCE_MAP_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// Base URL (`http://127.0.0.1:PORT`) of a server started once for this test binary.
pub fn server() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let atlas = Atlas::load(
            &alliance_map::model::DataSource::Dir(data_dir().to_path_buf()),
            &Options::default(),
        )
        .expect("real data loads");
        start(AppState::new(atlas))
    })
}

/// The postcode index cache shared by test runs (git-ignored), as the binary uses by default.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache")
}

/// Options loading the real Code-Point Open postcodes (imported once into the cache).
pub fn options_with_postcodes() -> Options {
    Options {
        postcodes: Some(PostcodeOptions {
            source: PostcodeSource::Default,
            cache_dir: cache_dir(),
        }),
        ..Options::default()
    }
}

/// Like [`server`], with the real postcodes loaded.
pub fn server_with_postcodes() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let atlas = Atlas::load(
            &alliance_map::model::DataSource::Dir(data_dir().to_path_buf()),
            &options_with_postcodes(),
        )
        .expect("real data and postcodes load");
        start(AppState::new(atlas))
    })
}

/// Serves `state` on a fresh loopback port from a runtime of its own; returns the base URL.
pub fn start(state: AppState) -> String {
    start_with(state, limits())
}

/// Serves `state` with `limits`; returns the base URL.
pub fn start_with(state: AppState, limits: Limits) -> String {
    start_server(state, limits, None).base
}

/// A server started by [`start_server`]: its public and admin base URLs.
pub struct Running {
    pub base: String,
    pub admin: String,
}

/// Runs `server::run` — exactly what `alliance-map serve` runs — on two fresh loopback ports,
/// from a runtime of its own.
pub fn start_server(state: AppState, limits: Limits, loader: Option<Loader>) -> Running {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listeners = Listeners::bind("127.0.0.1:0", "127.0.0.1:0")
                .await
                .expect("bind loopback");
            let addrs = (
                listeners.public_addr().expect("addr"),
                listeners.admin_addr().expect("addr"),
            );
            tx.send(addrs).expect("send addrs");
            let options = RunOptions {
                limits,
                loader,
                ..Default::default()
            };
            let _ = alliance_map::server::run(listeners, state, options, std::future::pending()).await;
        });
    });
    let (public, admin) = rx.recv().expect("server started");
    Running {
        base: format!("http://{public}"),
        admin: format!("http://{admin}"),
    }
}

/// The protection limits the test servers run with (the defaults, but a short header timeout).
pub fn limits() -> Limits {
    Limits {
        header_timeout: std::time::Duration::from_secs(1),
        // Reloads of the real data take seconds in a debug build: wait for them, so a POST
        // answers with the outcome (202 is tested on its own in tests/resilience.rs).
        reload_wait: std::time::Duration::from_secs(120),
        ..Default::default()
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("client")
}

/// GET `path` and return (status, content type, JSON body).
pub async fn get_json(path: &str) -> (u16, String, serde_json::Value) {
    get_json_from(server(), path).await
}

pub async fn get_json_from(base: &str, path: &str) -> (u16, String, serde_json::Value) {
    let r = client().get(format!("{base}{path}")).send().await.expect("request");
    decode(r).await
}

pub async fn post_json(path: &str, body: &str, content_type: Option<&str>) -> (u16, String, serde_json::Value) {
    post_json_to(server(), path, body, content_type).await
}

pub async fn post_json_to(
    base: &str,
    path: &str,
    body: &str,
    content_type: Option<&str>,
) -> (u16, String, serde_json::Value) {
    let mut req = client().post(format!("{base}{path}")).body(body.to_string());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    decode(req.send().await.expect("request")).await
}

pub async fn decode(r: reqwest::Response) -> (u16, String, serde_json::Value) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, ct, json)
}

/// Asserts a problem+json answer with `status` whose detail mentions `says`.
pub fn assert_problem(got: &(u16, String, serde_json::Value), status: u16, says: &str) {
    let (s, ct, body) = got;
    assert_eq!(*s, status, "status for {body}");
    assert_eq!(ct, "application/problem+json", "content type for {body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["title"].is_string() && body["type"].is_string(), "{body}");
    let detail = body["detail"].as_str().unwrap_or("");
    assert!(detail.contains(says), "detail {detail:?} should mention {says:?}");
}

/// Runs a command to completion: (exit code, stdout, stderr).
pub fn run(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().expect("command runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// GET a URL and return its body as text.
pub async fn text(url: &str) -> String {
    client()
        .get(url)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

//! The service under bad input, overload, slow clients, reloads and shutdown.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alliance_map::api::AppState;
use alliance_map::atlas::Atlas;
use alliance_map::server::reload::Loader;
use alliance_map::server::Limits;
use common::{client, server, start_server, start_with};

/// The test limits with no capacity at all: every request is shed.
fn no_capacity() -> Limits {
    Limits {
        concurrency: 0,
        ..common::limits()
    }
}

fn boundaries() -> Atlas {
    Atlas::load_boundaries(&common::data_dir(), 2000.0).expect("real data loads")
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_no_banner() {
    for path in [
        "/",
        "/api/v1/lookup?lon=-1.5&lat=53.8",
        "/api/v1/lookup?lon=x",
        "/nope",
        "/assets/app.js",
    ] {
        let r = client().get(format!("{}{path}", server())).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        let ct = h["content-type"].to_str().unwrap();
        let page = ct.starts_with("text/html") || ct.starts_with("text/javascript");
        let default = if page {
            "default-src 'self'"
        } else {
            "default-src 'none'"
        };
        assert!(
            csp.contains(default) && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            h.get("referrer-policy").is_some(),
            page,
            "{path}: referrer policy on pages only"
        );
        assert!(h.get("server").is_none(), "{path}: no version banner");
    }
}

#[tokio::test]
async fn cors_is_open_for_the_read_only_api_without_credentials() {
    let r = client()
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/lookup", server()))
        .header("origin", "https://example.org")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers().get("access-control-allow-credentials").is_none());
    let r = client()
        .get(format!("{}/api/v1/alliances", server()))
        .header("origin", "https://example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn over_capacity_requests_are_shed_with_503_and_retry_after() {
    // No capacity at all: every request is shed, immediately, as a problem.
    let base = start_with(AppState::new(boundaries()), no_capacity());
    let started = Instant::now();
    let r = client()
        .get(format!("{base}/api/v1/lookup?lon=-1.5&lat=53.8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(started.elapsed() < Duration::from_secs(2), "shed at once, not queued");
}

#[test]
fn a_slow_client_cannot_hold_a_connection() {
    let addr = server().trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // Half a request, then silence: the 1 s header timeout of the test server closes it.
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
}

#[tokio::test]
async fn reloads_under_load_fail_no_request_and_bad_data_is_refused() {
    let fail = Arc::new(AtomicBool::new(false));
    let flag = fail.clone();
    let loader: Loader = Box::new(move || {
        if flag.load(Ordering::SeqCst) {
            Err("boundaries/stps-2017.geojson: expected 44 features, found 43".into())
        } else {
            Ok(boundaries())
        }
    });
    let running = start_server(AppState::new(boundaries()), common::limits(), Some(loader));
    let (base, admin) = (running.base, running.admin);

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (base, stop) = (base.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let c = client();
            let (mut ok, mut failed) = (0u32, Vec::new());
            while !stop.load(Ordering::SeqCst) {
                let url = format!("{base}/api/v1/lookup?lon={}&lat=53.8", -1.5 - w as f64 * 0.01);
                match c.get(url).send().await {
                    Ok(r) if r.status() == 200 => ok += 1,
                    Ok(r) => failed.push(r.status().to_string()),
                    Err(e) => failed.push(e.to_string()),
                }
            }
            (ok, failed)
        }));
    }
    for expected in 2..=4 {
        let r = client().post(format!("{admin}/admin/reload")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["data_version"], expected);
    }
    // New data that fails validation is refused; the old data keeps serving.
    fail.store(true, Ordering::SeqCst);
    let r = client().post(format!("{admin}/admin/reload")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let problem: serde_json::Value = r.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("current data kept"),
        "{problem}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let mut total = 0;
    for w in workers {
        let (ok, failed) = w.await.unwrap();
        assert!(failed.is_empty(), "failed requests during reload: {failed:?}");
        total += ok;
    }
    assert!(total > 100, "{total} requests during the reloads");
    let ready: serde_json::Value = client()
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["data_version"], 4);
    let metrics = common::text(&format!("{admin}/metrics")).await;
    assert!(
        metrics.contains("alliance_map_reloads_total{outcome=\"ok\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("alliance_map_reloads_total{outcome=\"failed\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("alliance_map_data_version 4"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_lookups_by_match() {
    let running = start_server(AppState::new(boundaries()), common::limits(), None);
    let (base, admin) = (running.base, running.admin);
    for q in ["lon=-1.5492&lat=53.7997", "lon=-3.1883&lat=55.9533", "lon=x&lat=1"] {
        client().get(format!("{base}/api/v1/lookup?{q}")).send().await.unwrap();
    }
    let m = common::text(&format!("{admin}/metrics")).await;
    assert!(
        m.contains("alliance_map_http_requests_total{route=\"/api/v1/lookup\",status=\"200\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("alliance_map_http_requests_total{route=\"/api/v1/lookup\",status=\"400\"} 1"),
        "{m}"
    );
    assert!(m.contains("alliance_map_lookups_total{match=\"contains\"} 1"), "{m}");
    assert!(m.contains("alliance_map_lookups_total{match=\"outside\"} 1"), "{m}");
    assert!(
        m.contains("alliance_map_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/api/v1/lookup\"} 3"),
        "{m}"
    );
    let r = client().get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn reload_is_refused_when_not_configured() {
    let running = start_server(AppState::new(boundaries()), common::limits(), None);
    let r = client()
        .post(format!("{}/admin/reload", running.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}

#[tokio::test]
async fn shed_requests_are_counted_in_the_metrics() {
    let running = start_server(AppState::new(boundaries()), no_capacity(), None);
    for _ in 0..3 {
        let r = client()
            .get(format!("{}/api/v1/lookup?lon=-1.5&lat=53.8", running.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
    }
    let m = common::text(&format!("{}/metrics", running.admin)).await;
    assert!(
        m.contains("alliance_map_http_requests_total{route=\"/api/v1/lookup\",status=\"503\"} 3"),
        "{m}"
    );
}

#[tokio::test]
async fn operations_are_served_only_on_the_admin_listener() {
    let running = start_server(AppState::new(boundaries()), common::limits(), None);
    for (method, path) in [
        (reqwest::Method::GET, "/metrics"),
        (reqwest::Method::POST, "/admin/reload"),
    ] {
        let r = client()
            .request(method.clone(), format!("{}{path}", running.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{method} {path} on the public port");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let r = client().get(format!("{}/metrics", running.admin)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
}

/// A corpus of malformed requests: every answer is a 4xx problem, none a 5xx, and the
/// server is healthy after.
#[tokio::test]
async fn a_bad_input_corpus_gets_only_4xx_problems() {
    let base = common::server_with_postcodes();
    let mut corpus: Vec<(reqwest::Method, String, Option<String>, Option<&str>)> = Vec::new();
    let get = |p: &str| (reqwest::Method::GET, p.to_string(), None, None);
    let post = |p: &str, body: &str| {
        (
            reqwest::Method::POST,
            p.to_string(),
            Some(body.to_string()),
            Some("application/json"),
        )
    };
    for q in [
        "",
        "lon",
        "lon=",
        "lon=&lat=",
        "lon=1",
        "lat=1",
        "lon=a&lat=b",
        "lon=NaN&lat=NaN",
        "lon=inf&lat=1",
        "lon=-inf&lat=1",
        "lon=1e309&lat=1",
        "lon=1&lat=1e309",
        "lon=0x10&lat=1",
        "lon=1,5&lat=53",
        "lon=%00&lat=1",
        "lon=1&lat=1&lat=2",
        "lon=1&lat=1&x=1",
        "lon=181&lat=1",
        "lon=1&lat=-91",
        "lon=%E2%98%83&lat=1",
        "lon=1.2.3&lat=1",
        "lon=--1&lat=1",
        "lon=1 &lat=1e",
        "LON=1&LAT=1",
        "lon[]=1&lat=1",
        "lon=99999999999999999999999999&lat=1",
    ] {
        corpus.push(get(&format!("/api/v1/lookup?{q}")));
    }
    let long = "9".repeat(5000);
    corpus.push(get(&format!("/api/v1/lookup?lon={long}&lat=1")));
    for body in [
        "",
        " ",
        "null",
        "true",
        "1",
        "\"x\"",
        "[]",
        "{}",
        "{",
        "{\"points\":null}",
        "{\"points\":{}}",
        "{\"points\":\"x\"}",
        "{\"points\":[]}",
        "{\"points\":[null]}",
        "{\"points\":[1]}",
        "{\"points\":[[1,2]]}",
        "{\"points\":[{}]}",
        "{\"points\":[{\"lon\":1}]}",
        "{\"points\":[{\"lat\":1}]}",
        "{\"points\":[{\"lon\":\"1\",\"lat\":\"2\"}]}",
        "{\"points\":[{\"lon\":1e999,\"lat\":1}]}",
        "{\"points\":[{\"lon\":1,\"lat\":91}]}",
        "{\"points\":[{\"lon\":1,\"lat\":1,\"id\":{}}]}",
        "{\"points\":[{\"lon\":1,\"lat\":1,\"id\":[]}]}",
        "{\"points\":[{\"lon\":1,\"lat\":1,\"zz\":1}]}",
        "{\"points\":[],\"x\":1}",
        "{\"points\":[{\"lon\":1,\"lat\":1}]",
        "\u{feff}{}",
        "{\"points\":[{\"lon\":NaN,\"lat\":1}]}",
        "{\"points\":[{\"lon\":Infinity,\"lat\":1}]}",
    ] {
        corpus.push(post("/api/v1/lookup", body));
    }
    for body in [
        "{\"postcodes\":[1]}",
        "{\"postcodes\":[]}",
        "{\"postcodes\":\"LS1 1AZ\"}",
        "{\"postcodes\":[null]}",
        "[\"LS1 1AZ\"]",
        "{",
    ] {
        corpus.push(post("/api/v1/postcodes", body));
    }
    for pc in [
        "%20",
        "X",
        "LS1",
        "LS1%201AZZ",
        "%E2%98%83%E2%98%83%E2%98%83%E2%98%83%E2%98%83",
        "%C0%AE%C0%AE",
        "%FF%FE",
        "LS1%00AZ",
        "..%2F..%2Fetc",
        "1111111",
        "AAAAAAA",
        "LS1%201CA",
        "%F0%9F%98%80LS11AZ",
        &"A".repeat(100),
    ] {
        corpus.push(get(&format!("/api/v1/postcodes/{pc}")));
    }
    for q in [
        "lon=1",
        "lon=1&lat=1&radius=-1",
        "lon=1&lat=1&radius=NaN",
        "lon=1&lat=1&radius=3000",
        "lon=1&lat=1&limit=-1",
        "lon=1&lat=1&limit=1e3",
        "lon=1&lat=1&limit=",
    ] {
        corpus.push(get(&format!("/api/v1/postcodes?{q}")));
    }
    for p in [
        "/api/v1/outcodes/%20",
        "/api/v1/outcodes/12345",
        "/api/v1/outcodes/%E2%98%83",
        "/api/v1/alliances/x",
        "/api/v1/alliances/%00",
        "/api/v1/stps/..",
        "/api/v1/stps/E54000005?x=1",
        "/api/v1/boundaries/x",
        "/api/v1/boundaries/alliances.geojson?detail=",
        "/api/v1/boundaries/alliances.geojson?detail=full&detail=full",
        "/api/v1/alliances?limit=1",
        "/docs?x=1",
        "/?foo=bar",
        "/assets/../../Cargo.toml",
        "/assets/%2e%2e%2fsrc%2fmain.rs",
        "/assets/app.js%00",
        "/assets/..%5c..%5cCargo.toml",
        "/.git/config",
        "/api/v2/lookup",
        "/api/v1/",
        "//api/v1/lookup",
    ] {
        corpus.push(get(p));
    }
    for (m, p) in [
        (reqwest::Method::PUT, "/api/v1/lookup"),
        (reqwest::Method::DELETE, "/api/v1/postcodes/LS11AZ"),
        (reqwest::Method::PATCH, "/api/v1/alliances"),
        (reqwest::Method::POST, "/api/v1/alliances"),
        (reqwest::Method::POST, "/healthz"),
        (reqwest::Method::GET, "/admin/reload"),
    ] {
        corpus.push((m, p.to_string(), None, None));
    }
    corpus.push((
        reqwest::Method::POST,
        "/api/v1/lookup".into(),
        Some("{\"points\":[]}".into()),
        Some("text/csv"),
    ));
    corpus.push((
        reqwest::Method::POST,
        "/api/v1/lookup".into(),
        Some("x".repeat(300_000)),
        Some("application/json"),
    ));
    assert!(corpus.len() >= 100, "{} requests", corpus.len());

    let c = client();
    for (method, path, body, ct) in &corpus {
        let mut req = c.request(method.clone(), format!("{base}{path}"));
        if let Some(b) = body {
            req = req.body(b.clone());
        }
        if let Some(ct) = ct {
            req = req.header("content-type", *ct);
        }
        let (status, ct, problem) = common::decode(req.send().await.unwrap()).await;
        assert!((400..500).contains(&status), "{method} {path} {body:?}: {status}");
        assert_eq!(ct, "application/problem+json", "{method} {path} {body:?}");
        assert_eq!(problem["status"], status);
    }
    let r = c.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// Starts the binary on free loopback ports; returns the child, its base URL, its admin
/// address and its stderr.
fn spawn_binary() -> (std::process::Child, String, String, std::process::ChildStderr) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_alliance-map"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--no-postcodes",
            "--data",
        ])
        .arg(common::data_dir())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 4096];
    let (base, admin) = loop {
        if let (Some(at), Some(admin_at)) = (seen.find("map at http://"), seen.find("admin=")) {
            let rest = &seen[at + "map at ".len()..];
            let admin = &seen[admin_at + "admin=".len()..];
            let end = rest.find('/').and_then(|i| rest[i + 2..].find('/').map(|j| i + 2 + j));
            if let (Some(end), Some(admin_end)) = (end, admin.find(char::is_whitespace)) {
                break (rest[..end].to_string(), admin[..admin_end].to_string());
            }
        }
        assert!(Instant::now() < deadline, "server did not start: {seen}");
        let n = stderr.read(&mut buf).unwrap_or(0);
        assert!(n > 0, "server exited: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    };
    (child, base, admin, stderr)
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let (mut child, _, _, mut stderr) = spawn_binary();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "clean exit on SIGTERM");
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    assert!(rest.contains("stopped"), "{rest}");
}

#[tokio::test]
async fn the_reload_command_and_sighup_reload_the_data() {
    let (mut child, base, admin, _stderr) = spawn_binary();
    let (code, out, err) = common::run(std::process::Command::new(env!("CARGO_BIN_EXE_alliance-map")).args([
        "reload",
        "--admin-addr",
        &admin,
    ]));
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains("\"data_version\":2"), "{out}");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready: serde_json::Value = client()
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready["data_version"] == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "SIGHUP did not reload: {ready}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = client()
        .get(format!("{base}/api/v1/lookup?lon=-1.5492&lat=53.7997"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn shutdown_lets_an_in_flight_request_finish() {
    let (mut child, base, _, _stderr) = spawn_binary();
    let addr = base.trim_start_matches("http://").to_string();
    let body = r#"{"points":[{"lon":-1.5492,"lat":53.7997,"id":"leeds"}]}"#;
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "POST /api/v1/lookup HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (first, rest) = body.split_at(20);
    stream.write_all(first.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // Shutdown requested while the request is half sent.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("E56000003"), "{response}");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn a_body_sent_too_slowly_is_cut_off() {
    let base = start_with(
        AppState::new(boundaries()),
        Limits {
            body_timeout: Duration::from_secs(1),
            ..common::limits()
        },
    );
    let addr = base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(
        stream,
        "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"points\""
    )
    .unwrap();
    let started = Instant::now();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "waited {:?}",
        started.elapsed()
    );
    let status: u16 = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!((400..500).contains(&status), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
}

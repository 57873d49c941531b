//! Idle, slow and hostile clients on loopback, at a small scale (the full-scale figures are
//! measured by `scripts/hostile.sh`): silent and half-preface sockets, the connection cap,
//! idle HTTP/2, slow readers, slow bodies, the bulk and single budgets, shutdown with idle
//! HTTP/2 clients, and reloads as jobs. Every test bounds its own time.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alliance_map::api::AppState;
use alliance_map::atlas::Atlas;
use alliance_map::server::reload::Loader;
use alliance_map::server::{Limits, Listeners, RunOptions};
use common::client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn boundaries() -> Atlas {
    Atlas::load_boundaries(&common::data_dir(), 2000.0).expect("real data loads")
}

/// Short timeouts, so the tests take seconds.
fn limits() -> Limits {
    Limits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        write_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        ..Default::default()
    }
}

/// A server whose shutdown the test controls: its addresses, the trigger, and a receiver
/// told when `server::run` has returned.
struct Server {
    addr: String,
    admin: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: std::sync::mpsc::Receiver<()>,
}

fn start(limits: Limits, loader: Option<Loader>) -> Server {
    start_with_state(AppState::new(boundaries()), limits, loader)
}

fn start_with_state(state: AppState, limits: Limits, loader: Option<Loader>) -> Server {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listeners = Listeners::bind("127.0.0.1:0", "127.0.0.1:0").await.unwrap();
            addr_tx
                .send((listeners.public_addr().unwrap(), listeners.admin_addr().unwrap()))
                .unwrap();
            let options = RunOptions {
                limits,
                loader,
                ..Default::default()
            };
            let _ = alliance_map::server::run(listeners, state, options, async move {
                let _ = stop_rx.await;
            })
            .await;
            let _ = done_tx.send(());
        });
        rt.shutdown_timeout(Duration::from_millis(100));
    });
    let (public, admin) = addr_rx.recv().unwrap();
    Server {
        addr: public.to_string(),
        admin: format!("http://{admin}"),
        stop: Some(stop_tx),
        stopped: done_rx,
    }
}

impl Server {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Reads until the server closes the connection (Ok: bytes read) or `limit` passes (Err).
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> Result<usize, usize> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut total = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Err(total),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(total),
            Ok(Ok(n)) => total += n,
        }
    }
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// The client preface, empty SETTINGS and `GET path` on stream 1, HPACK-encoded by hand
/// (`:method GET`, `:scheme http` from the static table; `:path` and `:authority` literal).
fn h2_get(path: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x86, 0x44, path.len() as u8];
    block.extend_from_slice(path.as_bytes());
    block.extend_from_slice(&[0x41, 1, b'x']);
    let mut bytes = PREFACE.to_vec();
    bytes.extend(h2_frame(0x4, 0, 0, &[]));
    bytes.extend(h2_frame(0x1, 0x5, 1, &block));
    bytes
}

async fn healthz_ms(base: &str) -> f64 {
    let started = Instant::now();
    // A fresh connection each time: what a new client sees.
    let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let r = c.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    started.elapsed().as_secs_f64() * 1000.0
}

#[tokio::test]
async fn silent_and_half_preface_sockets_are_closed_and_new_clients_are_served() {
    let server = start(limits(), None);
    let mut sockets = Vec::new();
    for i in 0..300 {
        let mut s = TcpStream::connect(&server.addr).await.unwrap();
        if i % 2 == 1 {
            // Half the HTTP/2 preface: protocol detection waits for the rest.
            s.write_all(&PREFACE[..16]).await.unwrap();
        }
        sockets.push(s);
    }
    let mut latencies = Vec::new();
    for _ in 0..10 {
        latencies.push(healthz_ms(&server.base()).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closers = sockets.into_iter().map(|mut s| {
        tokio::spawn(async move {
            let started = Instant::now();
            until_closed(&mut s, Duration::from_secs(6))
                .await
                .map(|_| started.elapsed())
        })
    });
    for closed in futures_util::future::join_all(closers).await {
        assert!(closed.unwrap().is_ok(), "a silent or half-preface socket was left open");
    }
    latencies.sort_by(f64::total_cmp);
    assert!(latencies[5] <= 100.0, "/healthz median {latencies:?} ms");
    let m = common::text(&format!("{}/metrics", server.admin)).await;
    assert!(
        m.contains("alliance_map_connections_closed_total{reason=\"handshake_timeout\"} 300"),
        "{m}"
    );
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_at_once() {
    let server = start(
        Limits {
            max_connections: 8,
            header_timeout: Duration::from_secs(5),
            ..limits()
        },
        None,
    );
    // Eight keep-alive connections that have each had a request answered: not evictable.
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut s = TcpStream::connect(&server.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 1024];
        assert!(s.read(&mut buf).await.unwrap() > 0);
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(&server.addr).await.unwrap();
    let started = Instant::now();
    assert!(until_closed(&mut extra, Duration::from_secs(2)).await.is_ok());
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(healthz_ms(&server.base()).await < 1000.0, "slots come back");
    let m = common::text(&format!("{}/metrics", server.admin)).await;
    assert!(
        m.contains("alliance_map_connections_closed_total{reason=\"over_cap\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    let server = start(limits(), None);
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(&h2_get("/healthz")).await.unwrap();
    // The answer comes, then nothing: the idle timeout (1 s, checked each second) closes it.
    let started = Instant::now();
    let read = until_closed(&mut s, Duration::from_secs(8)).await;
    assert!(read.is_ok_and(|n| n > 0), "{read:?}: answered, then closed");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn shutdown_closes_idle_http2_connections_at_once() {
    let mut server = start(limits(), None);
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(&h2_get("/healthz")).await.unwrap();
    let mut buf = [0u8; 4096];
    assert!(s.read(&mut buf).await.unwrap() > 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let _ = server.stop.take().unwrap().send(());
    // A client that never answers the GOAWAY's PING: closed as idle, not waited for.
    let stopped = tokio::task::spawn_blocking(move || server.stopped.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap();
    assert!(stopped.is_ok(), "the server did not stop within 10 s");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    drop(s);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_after_the_write_timeout() {
    let server = start(limits(), None);
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    // A small receive window, so the server's writes block soon.
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(server.addr.parse().unwrap()).await.unwrap();
    let request = "GET /api/v1/boundaries/stps.geojson?detail=full HTTP/1.1\r\nHost: x\r\n\r\n";
    s.write_all(request.as_bytes()).await.unwrap();
    // Never read for a while: longer than the 1 s write timeout.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let full = client()
        .get(format!("{}/api/v1/boundaries/stps.geojson?detail=full", server.base()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    let read = until_closed(&mut s, Duration::from_secs(10)).await;
    let got = read.expect("the connection was closed by the server");
    assert!(
        got < full,
        "read {got} of a {full}-byte document: cut off, not sent whole"
    );
    let m = common::text(&format!("{}/metrics", server.admin)).await;
    assert!(
        m.contains("alliance_map_connections_closed_total{reason=\"write_timeout\"} 1"),
        "{m}"
    );
}

/// `POST /api/v1/lookup` headers announcing `len` bytes of body, and the first byte of it.
fn trickle_head(len: usize) -> String {
    format!(
        "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n{{"
    )
}

#[tokio::test]
async fn slow_bodies_hold_no_permit() {
    let server = start(
        Limits {
            concurrency: 4,
            bulk_concurrency: 4,
            body_timeout: Duration::from_secs(5),
            ..limits()
        },
        None,
    );
    let mut trickling = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(&server.addr).await.unwrap();
        s.write_all(trickle_head(1000).as_bytes()).await.unwrap();
        trickling.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = client();
    for i in 0..20 {
        let r = c
            .get(format!(
                "{}/api/v1/lookup?lon={}&lat=53.8",
                server.base(),
                -1.5 - i as f64 * 0.01
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "lookup {i} while 20 bodies trickle");
    }
    // A bulk lookup too: the bulk budget is not held by bodies still arriving.
    let (status, _, _) = common::post_json_to(
        &server.base(),
        "/api/v1/lookup",
        r#"{"points":[{"lon":-1.5,"lat":53.8}]}"#,
        Some("application/json"),
    )
    .await;
    assert_eq!(status, 200);
    drop(trickling);
}

#[tokio::test]
async fn a_body_below_the_minimum_rate_is_cut_off_even_without_pauses() {
    let server = start(
        Limits {
            body_timeout: Duration::from_secs(1),
            min_body_rate: 100,
            ..limits()
        },
        None,
    );
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(trickle_head(1000).as_bytes()).await.unwrap();
    let started = Instant::now();
    // One byte every 300 ms: never a pause of a whole second, but 3 bytes a second.
    let (mut r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if w.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(8), r.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(read.is_ok(), "still reading after 8 s");
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    writer.abort();
}

#[tokio::test]
async fn bulk_and_single_requests_have_budgets_of_their_own() {
    let bulk = r#"{"points":[{"lon":-1.5,"lat":53.8}]}"#;
    // No bulk budget: bulk requests are shed, counted; single lookups are served.
    let server = start(
        Limits {
            bulk_concurrency: 0,
            ..limits()
        },
        None,
    );
    let r = client()
        .post(format!("{}/api/v1/lookup", server.base()))
        .header("content-type", "application/json")
        .body(bulk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let (status, _, _) = common::get_json_from(&server.base(), "/api/v1/lookup?lon=-1.5&lat=53.8").await;
    assert_eq!(status, 200);
    let m = common::text(&format!("{}/metrics", server.admin)).await;
    assert!(
        m.contains("alliance_map_shed_total{class=\"bulk\",reason=\"capacity\"} 1"),
        "{m}"
    );
    // And the other way round.
    let server = start(
        Limits {
            concurrency: 0,
            ..limits()
        },
        None,
    );
    let (status, _, _) = common::get_json_from(&server.base(), "/api/v1/lookup?lon=-1.5&lat=53.8").await;
    assert_eq!(status, 503);
    let (status, _, body) =
        common::post_json_to(&server.base(), "/api/v1/lookup", bulk, Some("application/json")).await;
    assert_eq!(status, 200, "{body}");
    let m = common::text(&format!("{}/metrics", server.admin)).await;
    assert!(
        m.contains("alliance_map_shed_total{class=\"single\",reason=\"capacity\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn a_reload_longer_than_the_wait_finishes_is_applied_and_reported() {
    let loads = Arc::new(AtomicUsize::new(0));
    let counter = loads.clone();
    // Generations loaded up front, so a reload's time is the sleep, not the machine's load.
    let ready = Arc::new(std::sync::Mutex::new(vec![boundaries(), boundaries()]));
    let loader: Loader = Box::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(1500));
        ready
            .lock()
            .unwrap()
            .pop()
            .ok_or_else(|| "no more prepared generations".to_string())
    });
    let server = start(
        Limits {
            reload_wait: Duration::from_millis(100),
            ..limits()
        },
        Some(loader),
    );
    let c = client();
    let r = c.post(format!("{}/admin/reload", server.admin)).send().await.unwrap();
    assert_eq!(r.status(), 202, "still running after the wait");
    let first: serde_json::Value = r.json().await.unwrap();
    assert_eq!(first["job"], 1);
    // Three more asks while it runs: coalesced into one more reload.
    for _ in 0..3 {
        let r = c.post(format!("{}/admin/reload", server.admin)).send().await.unwrap();
        assert_eq!(r.status(), 202);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let s: serde_json::Value = c
            .get(format!("{}/admin/reload", server.admin))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["finished"] == 4 && s["running"] == false {
            break s;
        }
        assert!(Instant::now() < deadline, "reloads did not finish: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status["last"]["ok"], true, "{status}");
    assert_eq!(status["last"]["data_version"], 3, "{status}");
    assert_eq!(loads.load(Ordering::SeqCst), 2, "four asks, two loads");
    let ready: serde_json::Value = c
        .get(format!("{}/readyz", server.base()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["data_version"], 3);
}

/// What hyper answers itself, before any request reaches the API (it offers no hook to
/// decorate these): a bare status with an empty body, then the connection closes. Everything
/// our own limits catch first (a long query string, a long path segment) is a problem
/// document with the security headers.
#[tokio::test]
async fn malformed_heads_get_bare_answers_from_hyper_and_long_uris_get_problems() {
    let server = start(limits(), None);
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    let mut head = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for i in 0..150 {
        head.push_str(&format!("x-h{i}: 1\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(read.is_ok(), "closed promptly");
    assert!(answer.starts_with("http/1.1 431"), "{answer}");
    assert!(answer.contains("content-length: 0"), "no body to render: {answer}");

    let long = format!(
        "{}/api/v1/lookup?lon=-1.5&lat=53.8&pad={}",
        server.base(),
        "x".repeat(3000)
    );
    let r = client().get(long).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn at_the_cap_a_silent_connection_makes_room_for_a_new_client() {
    let server = start(
        Limits {
            max_connections: 8,
            header_timeout: Duration::from_secs(5),
            ..limits()
        },
        None,
    );
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(TcpStream::connect(&server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The cap is full of sockets that never sent a request: a new client is still served,
    // at once, and the oldest silent socket is the one closed for it.
    let ms = healthz_ms(&server.base()).await;
    assert!(ms < 500.0, "{ms} ms");
    let oldest = until_closed(&mut silent[0], Duration::from_secs(2)).await;
    assert!(oldest.is_ok(), "the oldest silent socket was evicted");
    let m = common::text(&format!("{}/metrics", server.admin)).await;
    assert!(
        m.contains("alliance_map_connections_closed_total{reason=\"evicted\"} 1"),
        "{m}"
    );
}

// ---------------------------------------------------------------------------------------------
// Streamed annotation (`POST /api/v1/annotate`): no body size limit, but paced uploads, a
// budget of streams, and slots freed when a stream stalls or its client goes away.

const ANNOTATE: &str = "/api/v1/annotate?lon_column=lon&lat_column=lat";

/// The head of a chunked CSV upload to the annotate endpoint, with its first chunk.
fn annotate_head(first: &str) -> Vec<u8> {
    let mut head =
        format!("POST {ANNOTATE} HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n")
            .into_bytes();
    head.extend(chunk(first));
    head
}

fn chunk(text: &str) -> Vec<u8> {
    format!("{:x}\r\n{text}\r\n", text.len()).into_bytes()
}

/// Rows of points in Leeds, `n` of them.
fn rows(n: usize) -> String {
    (0..n)
        .map(|i| format!("{},53.8\n", -1.55 + (i % 100) as f64 * 0.001))
        .collect()
}

/// Reads a response head (up to the blank line) from `s`.
async fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut byte)).await {
            Ok(Ok(1)) => head.push(byte[0]),
            other => panic!("no response head: {other:?} after {:?}", String::from_utf8_lossy(&head)),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Annotates a few rows through reqwest until it gets a 200 (a freed slot may take a moment
/// to come back); the status of the last try.
async fn annotate_once(base: &str, within: Duration) -> u16 {
    let deadline = Instant::now() + within;
    loop {
        let r = client()
            .post(format!("{base}{ANNOTATE}"))
            .header("content-type", "text/csv")
            .body(format!("lon,lat\n{}", rows(3)))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        if status == 200 || Instant::now() > deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_stalled_annotate_upload_is_cut_off_and_its_slot_freed() {
    let server = start(
        Limits {
            stream_concurrency: 1,
            ..limits()
        },
        None,
    );
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(&annotate_head(&format!("lon,lat\n{}", rows(10))))
        .await
        .unwrap();
    let head = read_head(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // The client now stalls: the answer must be cut off (no final chunk), not completed.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(8), s.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the stalled stream is still open after 8 s");
    let rest = String::from_utf8_lossy(&rest);
    // (What was answered before the stall may or may not reach the client: the connection is
    // reset once the input breaks, and hyper drops what it had not yet written.)
    assert!(
        !rest.ends_with("0\r\n\r\n"),
        "a cut-off answer must not look complete: {rest}"
    );
    assert_eq!(annotate_once(&server.base(), Duration::from_secs(5)).await, 200);
}

#[tokio::test]
async fn an_annotate_client_that_goes_away_frees_its_slot_and_the_worker() {
    let server = start(
        Limits {
            stream_concurrency: 1,
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            ..limits()
        },
        None,
    );
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(&annotate_head("lon,lat\n")).await.unwrap();
    assert!(read_head(&mut s).await.starts_with("HTTP/1.1 200"));
    // Enough rows to fill every buffer on the way back while nobody reads, then vanish.
    let batch = chunk(&rows(20_000));
    for _ in 0..10 {
        if tokio::time::timeout(Duration::from_secs(2), s.write_all(&batch))
            .await
            .is_err()
        {
            break; // the server stopped reading: its answer is backed up, as expected
        }
    }
    drop(s);
    // The slot (1) comes back well before any of the 30 s timeouts.
    assert_eq!(annotate_once(&server.base(), Duration::from_secs(10)).await, 200);
}

#[tokio::test]
async fn annotate_streams_over_their_budget_are_shed_and_single_lookups_go_on() {
    let server = start(
        Limits {
            stream_concurrency: 1,
            body_timeout: Duration::from_secs(10),
            ..limits()
        },
        None,
    );
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(&annotate_head("lon,lat\n")).await.unwrap();
    assert!(read_head(&mut s).await.starts_with("HTTP/1.1 200"));
    let r = client()
        .post(format!("{}{ANNOTATE}", server.base()))
        .header("content-type", "text/csv")
        .body("lon,lat\n-1.5,53.8\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let lookup = client()
        .get(format!("{}/api/v1/lookup?lon=-1.5&lat=53.8", server.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), 200, "single lookups have their own budget");
    drop(s);
}

#[tokio::test]
async fn a_large_annotate_upload_streams_both_ways_through_the_real_server() {
    let server = start(limits(), None);
    let n = 300_000;
    let body = format!(
        "id,lon,lat\n{}",
        (0..n).map(|i| format!("{i},-1.5,53.8\n")).collect::<String>()
    );
    let r = client()
        .post(format!(
            "{}{}",
            server.base(),
            "/api/v1/annotate?lon_column=lon&lat_column=lat&date=latest"
        ))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), n + 1);
    assert!(
        lines[1].starts_with("0,-1.5,53.8,E56") && lines[1].ends_with(",matched"),
        "{}",
        lines[1]
    );
    assert!(lines[n].starts_with(&format!("{},", n - 1)));
}

/// Reads one HTTP/1.1 answer with a `content-length` body from `s`; its status line.
async fn read_answer(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before an answer: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text.lines().next().unwrap_or_default().to_string();
            }
        }
    }
}

#[tokio::test]
async fn a_later_head_trickled_too_slowly_closes_the_connection_but_steady_requests_keep_it() {
    // A long idle timeout: only the head timeout (1 s) can close the trickler quickly.
    let server = start(
        Limits {
            idle_timeout: Duration::from_secs(30),
            ..limits()
        },
        None,
    );
    let get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    // Steady: a request every 300 ms for 3 s on one connection, all answered.
    let mut steady = TcpStream::connect(&server.addr).await.unwrap();
    for _ in 0..10 {
        steady.write_all(get).await.unwrap();
        assert!(read_answer(&mut steady).await.contains("200"));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Trickling: one request answered, then the next head a byte every 200 ms.
    let mut s = TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(get).await.unwrap();
    assert!(read_answer(&mut s).await.contains("200"));
    let started = Instant::now();
    let trickle = async {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if s.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(12), trickle).await.ok();
    let closed = until_closed(&mut s, Duration::from_secs(1)).await;
    assert!(closed.is_ok(), "the trickler was kept for {:?}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed after {:?}",
        started.elapsed()
    );
    let m = common::text(&format!("{}/metrics", server.admin)).await;
    assert!(
        m.contains("alliance_map_connections_closed_total{reason=\"header_timeout\"} 1"),
        "{m}"
    );
}

//! Hostile and slow clients for `scripts/hostile.sh`: each mode opens many connections that
//! misbehave in one way while a probe measures what an ordinary client sees.
//!
//! ```text
//! hostile silent   ADDR N [preface]    N sockets that send nothing (or half the HTTP/2
//!                                      preface); reports when the server closed them, and
//!                                      /healthz latency on fresh connections meanwhile
//! hostile readers  ADDR N PATH SECS    N clients that request PATH and never read
//! hostile slowbody ADDR N SECS         N clients trickling a POST body, 1 byte every 2 s,
//!                                      reconnecting when cut off; lookups probed meanwhile
//! hostile bulk     ADDR N SECS         N keep-alive clients posting 1000-point bulks back
//!                                      to back; single lookups probed meanwhile
//! ```
//!
//! Probes use plain HTTP/1.1 over keep-alive connections (4 probe clients for lookups, one
//! fresh connection per probe for /healthz). Output is one line of `key=value` figures.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let num = |i: usize| arg(i).parse::<u64>().unwrap_or(0);
    match arg(1).as_str() {
        "silent" => silent(&arg(2), num(3) as usize, arg(4) == "preface").await,
        "readers" => readers(&arg(2), num(3) as usize, &arg(4), num(5)).await,
        "slowbody" => slowbody(&arg(2), num(3) as usize, num(4)).await,
        "bulk" => bulk(&arg(2), num(3) as usize, num(4)).await,
        _ => {
            eprintln!("usage: hostile silent|readers|slowbody|bulk ADDR N …");
            std::process::exit(64);
        }
    }
}

/// Sends one HTTP/1.1 request on `stream` and reads the response (Content-Length bodies);
/// returns the status.
async fn exchange(stream: &mut TcpStream, request: &[u8]) -> Result<u16> {
    stream.write_all(request).await?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("closed mid-body".into());
        }
        have += n;
    }
    if head.contains("connection: close") {
        return Err("server closes".into());
    }
    Ok(status)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Probes `/healthz` on a fresh connection every 100 ms until `stop`; (latencies ms, failures).
async fn healthz_probe(addr: String, stop: Arc<AtomicU64>) -> (Vec<f64>, u64) {
    let (mut ms, mut failed) = (Vec::new(), 0);
    while stop.load(Ordering::Relaxed) == 0 {
        let started = Instant::now();
        let ok = tokio::time::timeout(Duration::from_secs(2), async {
            let mut s = TcpStream::connect(&addr).await?;
            exchange(&mut s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await
        })
        .await;
        match ok {
            Ok(Ok(200)) => ms.push(started.elapsed().as_secs_f64() * 1000.0),
            _ => failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ms.sort_by(f64::total_cmp);
    (ms, failed)
}

async fn silent(addr: &str, n: usize, preface: bool) -> Result<()> {
    let stop = Arc::new(AtomicU64::new(0));
    let probe = tokio::spawn(healthz_probe(addr.to_string(), stop.clone()));
    let started = Instant::now();
    let (mut tasks, mut refused) = (Vec::with_capacity(n), 0u64);
    for _ in 0..n {
        match TcpStream::connect(addr).await {
            Ok(mut s) => tasks.push(tokio::spawn(async move {
                let opened = Instant::now();
                if preface {
                    let _ = s.write_all(b"PRI * HTTP/2.0\r\n").await;
                }
                let mut buf = [0u8; 64];
                // Wait for the server to close it (0 bytes or an error), at most 60 s.
                let closed = tokio::time::timeout(Duration::from_secs(60), async {
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {}
                        }
                    }
                })
                .await
                .is_ok();
                (closed, opened.elapsed())
            })),
            Err(_) => refused += 1,
        }
    }
    let opened_in = started.elapsed();
    let (mut closed, mut lifetimes) = (0u64, Vec::new());
    for t in tasks {
        if let Ok((ok, life)) = t.await {
            closed += u64::from(ok);
            lifetimes.push(life.as_secs_f64());
        }
    }
    let all_closed_after_open = started.elapsed().saturating_sub(opened_in);
    stop.store(1, Ordering::Relaxed);
    let (ms, failed) = probe.await?;
    lifetimes.sort_by(f64::total_cmp);
    println!(
        "mode=silent preface={preface} sockets={n} connect_failed={refused} opened_in_s={:.1} closed_by_server={closed} \
         all_closed_s_after_last_open={:.1} lifetime_max_s={:.1} healthz_probes={} healthz_failed={failed} \
         healthz_p50_ms={:.1} healthz_p99_ms={:.1} healthz_max_ms={:.1}",
        opened_in.as_secs_f64(),
        all_closed_after_open.as_secs_f64(),
        lifetimes.last().copied().unwrap_or(0.0),
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(f64::NAN),
    );
    Ok(())
}

async fn readers(addr: &str, n: usize, path: &str, secs: u64) -> Result<()> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut held = Vec::with_capacity(n);
    let mut failed = 0;
    for _ in 0..n {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(4096)?;
        match socket.connect(addr.parse()?).await {
            Ok(mut s) => {
                let _ = s.write_all(request.as_bytes()).await;
                held.push(s);
            }
            Err(_) => failed += 1,
        }
    }
    // Never read; hold them.
    tokio::time::sleep(Duration::from_secs(secs)).await;
    // How many the server has closed by now (a read sees the end after the buffered bytes).
    let mut closed = 0;
    for mut s in held {
        let r = tokio::time::timeout(Duration::from_millis(200), async {
            let mut buf = vec![0u8; 1 << 20];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => {}
                }
            }
        })
        .await;
        closed += u64::from(r.unwrap_or(false));
    }
    println!("mode=readers clients={n} connect_failed={failed} held_s={secs} closed_by_server={closed}");
    Ok(())
}

/// Four keep-alive clients sending `request` back to back until `stop`; latencies (ms) of
/// the 200s, and counts of other statuses and errors.
async fn lookup_probe(addr: String, stop: Arc<AtomicU64>) -> (Vec<f64>, u64, u64) {
    let mut clients = Vec::new();
    for c in 0..4 {
        let (addr, stop) = (addr.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let (mut ms, mut not_ok, mut errors) = (Vec::new(), 0u64, 0u64);
            let mut conn: Option<TcpStream> = None;
            let mut i = 0u64;
            while stop.load(Ordering::Relaxed) == 0 {
                i += 1;
                let lon = -2.5 + ((i * 7 + c) % 100) as f64 * 0.02;
                let request = format!("GET /api/v1/lookup?lon={lon:.3}&lat=53.0 HTTP/1.1\r\nHost: x\r\n\r\n");
                let started = Instant::now();
                let result = tokio::time::timeout(Duration::from_secs(5), async {
                    if conn.is_none() {
                        conn = Some(TcpStream::connect(&addr).await?);
                    }
                    match conn.as_mut() {
                        Some(s) => exchange(s, request.as_bytes()).await,
                        None => Err("no connection".into()),
                    }
                })
                .await;
                match result {
                    Ok(Ok(200)) => ms.push(started.elapsed().as_secs_f64() * 1000.0),
                    Ok(Ok(_)) => not_ok += 1,
                    _ => {
                        errors += 1;
                        conn = None;
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (ms, not_ok, errors)
        }));
    }
    let (mut ms, mut not_ok, mut errors) = (Vec::new(), 0, 0);
    for c in clients {
        if let Ok((m, n, e)) = c.await {
            ms.extend(m);
            not_ok += n;
            errors += e;
        }
    }
    ms.sort_by(f64::total_cmp);
    (ms, not_ok, errors)
}

fn report_probe(mode: &str, extra: String, (ms, not_ok, errors): (Vec<f64>, u64, u64)) {
    let total = ms.len() as u64 + not_ok + errors;
    println!(
        "mode={mode} {extra} lookups={total} ok={} ok_pct={:.2} not_ok={not_ok} errors={errors} \
         p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        ms.len(),
        ms.len() as f64 * 100.0 / total.max(1) as f64,
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(f64::NAN),
    );
}

async fn slowbody(addr: &str, n: usize, secs: u64) -> Result<()> {
    let stop = Arc::new(AtomicU64::new(0));
    let cut = Arc::new(AtomicU64::new(0));
    let mut attackers = Vec::new();
    for _ in 0..n {
        let (addr, stop, cut) = (addr.to_string(), stop.clone(), cut.clone());
        attackers.push(tokio::spawn(async move {
            while stop.load(Ordering::Relaxed) == 0 {
                let Ok(mut s) = TcpStream::connect(&addr).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let head = "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
                if s.write_all(head.as_bytes()).await.is_err() {
                    continue;
                }
                while stop.load(Ordering::Relaxed) == 0 {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    if s.write_all(b" ").await.is_err() {
                        break;
                    }
                    // Anything back means the server answered (cut it off).
                    let mut buf = [0u8; 512];
                    if let Ok(Ok(k)) = tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await {
                        if k > 0 {
                            cut.fetch_add(1, Ordering::Relaxed);
                        }
                        break;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let probe = tokio::spawn(lookup_probe(addr.to_string(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(1, Ordering::Relaxed);
    let result = probe.await?;
    for a in attackers {
        a.abort();
    }
    report_probe(
        "slowbody",
        format!("attackers={n} cut_off={}", cut.load(Ordering::Relaxed)),
        result,
    );
    Ok(())
}

async fn bulk(addr: &str, n: usize, secs: u64) -> Result<()> {
    let points: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                "{{\"lon\":{:.4},\"lat\":{:.4}}}",
                -3.0 + (i % 50) as f64 * 0.05,
                51.0 + (i / 50) as f64 * 0.1
            )
        })
        .collect();
    let body = format!("{{\"points\":[{}]}}", points.join(","));
    let request = Arc::new(format!(
        "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    let stop = Arc::new(AtomicU64::new(0));
    let counts: Arc<[AtomicU64; 3]> = Arc::new(Default::default()); // 200, 503, other/error
    let mut floods = Vec::new();
    for _ in 0..n {
        let (addr, stop, counts, request) = (addr.to_string(), stop.clone(), counts.clone(), request.clone());
        floods.push(tokio::spawn(async move {
            let mut conn: Option<TcpStream> = None;
            while stop.load(Ordering::Relaxed) == 0 {
                if conn.is_none() {
                    conn = TcpStream::connect(&addr).await.ok();
                }
                let Some(s) = conn.as_mut() else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                match exchange(s, request.as_bytes()).await {
                    Ok(200) => counts[0].fetch_add(1, Ordering::Relaxed),
                    Ok(503) => counts[1].fetch_add(1, Ordering::Relaxed),
                    Ok(_) => counts[2].fetch_add(1, Ordering::Relaxed),
                    Err(_) => {
                        conn = None;
                        counts[2].fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let probe = tokio::spawn(lookup_probe(addr.to_string(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(1, Ordering::Relaxed);
    let result = probe.await?;
    for f in floods {
        f.abort();
    }
    let c = |i: usize| counts[i].load(Ordering::Relaxed);
    report_probe(
        "bulk",
        format!(
            "flood_connections={n} bulk_200={} bulk_503={} bulk_other={}",
            c(0),
            c(1),
            c(2)
        ),
        result,
    );
    Ok(())
}

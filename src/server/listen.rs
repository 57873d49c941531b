//! Accepting connections and bounding each one's life: a cap on open connections (refused
//! at once beyond it), a deadline for the first request (silent sockets, protocol detection,
//! a half-sent HTTP/2 preface, slow first headers), a head timeout for later requests, an
//! idle timeout (HTTP/1.1 keep-alive and HTTP/2 alike), a write timeout
//! ([`TimedIo`]), HTTP/2 keep-alive pings, and a drain on shutdown that closes idle
//! connections at once and gives busy ones up to [`DRAIN_TIMEOUT`].
//!
//! Each connection's task is its own watchdog: it sleeps until its next deadline, then looks
//! at the connection's [`Activity`] counters, so a connection costs one timer, re-armed about
//! once per header timeout, and nothing per request. (hyper's own header timeout, which this
//! replaces for requests after the first, armed and cleared a timer on every request: about
//! 0.4 µs of the 8.6 µs of CPU a single lookup costs the server, docs/PERFORMANCE.md.)
//!
//! At each tick the watchdog compares the counters with the previous tick's: work (a request
//! in a handler, a new request, a response written) keeps the connection; reads without work
//! for a whole tick — a head arriving too slowly, or on HTTP/2 frames that are not requests —
//! close it (`header_timeout`); nothing at all for [`ConnConfig::idle_timeout`] closes it too
//! (`idle_timeout`). So a later request's head must arrive within one to two header timeouts.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, Semaphore};
use tokio::time::Instant;

use super::conn::{Activity, TimedIo, Tracked};
use crate::metrics::Metrics;

/// How long a client has to send a request's headers (and, on a new connection, to start:
/// the first request must be complete this long after the connection was accepted).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay open with no request in a handler and nothing sent.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a write may stay blocked (the client not reading) before the connection is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Open connections at most (further ones are closed as soon as they are accepted).
pub const MAX_CONNECTIONS: usize = 32_768;
/// How long in-flight requests get to finish after shutdown is requested.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);
/// After shutdown, a connection quiet for this long (no request in a handler, nothing sent)
/// is closed without waiting for the client.
const DRAIN_QUIET: Duration = Duration::from_millis(250);
/// How long a connection told to close (GOAWAY sent) gets before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// HTTP/2 keep-alive: a PING after this long without frames, and the connection closed if it
/// is not acknowledged within [`H2_PING_TIMEOUT`] (a peer that vanished).
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);
/// Concurrent streams one HTTP/2 connection may open.
const H2_MAX_STREAMS: u32 = 128;
/// How long a newcomer at the cap waits for an evicted connection's slot.
const EVICTION_WAIT: Duration = Duration::from_millis(100);
/// Newcomers that may wait for a slot at once.
const EVICTION_WAITERS: usize = 64;
/// File descriptors kept back from the connection cap (data files, the admin listener, logs).
const RESERVED_FDS: u64 = 256;

/// How the accept loop treats connections.
#[derive(Clone)]
pub struct ConnConfig {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub write_timeout: Duration,
    pub max_connections: usize,
    /// Counts refused and timed-out connections, where given.
    pub metrics: Option<Arc<Metrics>>,
}

impl ConnConfig {
    /// The connection cap, lowered to fit the open-file limit `fd_limit` if it must.
    pub fn fitted_to(mut self, fd_limit: Option<u64>) -> Self {
        if let Some(limit) = fd_limit {
            let room = limit.saturating_sub(RESERVED_FDS).max(16);
            self.max_connections = self.max_connections.min(usize::try_from(room).unwrap_or(usize::MAX));
        }
        self
    }
}

/// Why a connection was closed by the server rather than by its client.
#[derive(Debug, Clone, Copy)]
pub enum Closed {
    /// Over the connection cap.
    OverCap,
    /// No complete first request in time.
    Handshake,
    /// Bytes but no complete request for a whole header timeout, after the first request.
    SlowHead,
    /// Nothing happening for the idle timeout.
    Idle,
    /// The client stopped reading.
    Write,
    /// Still without a complete request when the cap was reached: made room for a newcomer.
    Evicted,
}

impl Closed {
    pub fn label(self) -> &'static str {
        match self {
            Closed::OverCap => "over_cap",
            Closed::Handshake => "handshake_timeout",
            Closed::SlowHead => "header_timeout",
            Closed::Idle => "idle_timeout",
            Closed::Write => "write_timeout",
            Closed::Evicted => "evicted",
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>, config: ConnConfig) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // No timer for HTTP/1.1: the watchdog bounds slow heads ([`connection`]).
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(H2_PING_INTERVAL))
        .keep_alive_timeout(H2_PING_TIMEOUT)
        .max_concurrent_streams(H2_MAX_STREAMS);
    let builder = Arc::new(builder);
    let max = config
        .max_connections
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let slots = Arc::new(Semaphore::new(max));
    let (stop_tx, stop_rx) = watch::channel(false);
    let handshakes = Handshakes::default();
    // Newcomers waiting for an evicted connection's slot (each holds a socket meanwhile).
    let waiters = Arc::new(Semaphore::new(EVICTION_WAITERS));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (builder, app, config, stop) = (builder.clone(), app.clone(), config.clone(), stop_rx.clone());
        let activity = Arc::new(Activity::default());
        let evicted = handshakes.track(activity.clone());
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            // At the cap: a connection that has not sent a complete request yet (the oldest
            // such) makes room for the newcomer, who may be a real client; with none to
            // evict, or no room within EVICTION_WAIT, the newcomer is refused at once
            // (closing costs nothing, and it learns now, not after a timeout).
            Err(_) => match (handshakes.evict_oldest(), waiters.clone().try_acquire_owned()) {
                (true, Ok(waiter)) => {
                    let slots = slots.clone();
                    tokio::spawn(async move {
                        let slot = tokio::time::timeout(EVICTION_WAIT, slots.acquire_owned()).await;
                        drop(waiter);
                        match slot {
                            Ok(Ok(slot)) => {
                                let _slot = slot;
                                connection(stream, &builder, app, &config, stop, activity, evicted).await;
                            }
                            _ => count(&config, Closed::OverCap),
                        }
                    });
                    continue;
                }
                _ => {
                    count(&config, Closed::OverCap);
                    drop(stream);
                    continue;
                }
            },
        };
        tokio::spawn(async move {
            let _slot = slot;
            connection(stream, &builder, app, &config, stop, activity, evicted).await;
            let _ = peer;
        });
    }
    drop(listener);
    tracing::info!("no longer accepting; draining in-flight requests");
    let _ = stop_tx.send(true);
    // Every connection task holds a slot until it ends: all slots back means all closed.
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, slots.acquire_many(max as u32)).await;
    match drained {
        Ok(_) => tracing::info!("all connections closed"),
        Err(_) => tracing::warn!("drain timed out; closing remaining connections"),
    };
}

fn count(config: &ConnConfig, why: Closed) {
    if let Some(m) = &config.metrics {
        m.count_closed(why.label());
    }
}

/// Runs one connection to its end, as its watchdog.
async fn connection(
    stream: TcpStream,
    builder: &auto::Builder<TokioExecutor>,
    app: Router,
    config: &ConnConfig,
    mut stop: watch::Receiver<bool>,
    activity: Arc<Activity>,
    mut evicted: oneshot::Receiver<()>,
) {
    let io = TokioIo::new(TimedIo::new(stream, activity.clone(), config.write_timeout));
    let service = Tracked::new(TowerToHyperService::new(app), activity.clone());
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    // The watchdog's tick; the idle timeout counts in ticks too (at least one).
    let tick = config.header_timeout.min(config.idle_timeout);
    let mut deadline = Instant::now() + tick;
    let mut seen = activity.seen();
    let mut quiet = Duration::ZERO;
    let (mut draining, mut closing, mut listening) = (*stop.borrow(), false, true);
    if draining {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    let timed_out = e
                        .downcast_ref::<std::io::Error>()
                        .or_else(|| std::error::Error::source(&*e).and_then(|s| s.downcast_ref::<std::io::Error>()))
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
                    if timed_out {
                        count(config, Closed::Write);
                    }
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            got = &mut evicted, if listening => {
                // A oneshot may be polled to completion once only.
                listening = false;
                if got.is_ok() {
                    // Still in the handshake (checked by the evictor): nothing to answer.
                    count(config, Closed::Evicted);
                    return;
                }
            }
            _ = stop.changed(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
                deadline = Instant::now() + DRAIN_QUIET;
            }
            _ = tokio::time::sleep_until(deadline) => {
                let now = activity.seen();
                let busy = now.busy_since(&seen);
                let read = now.reads != seen.reads;
                seen = now;
                if closing {
                    return; // told to close and did not: drop it
                }
                if now.requests == 0 {
                    // No complete request since the accept: silent, a half-sent preface or
                    // headers too slow. Nothing to answer; close.
                    count(config, Closed::Handshake);
                    return;
                }
                quiet = if busy || read { Duration::ZERO } else { quiet + tick };
                match (busy, draining) {
                    (true, true) => deadline = Instant::now() + DRAIN_QUIET,
                    (true, false) => deadline = Instant::now() + tick,
                    (false, true) => return,
                    (false, false) if read || quiet >= config.idle_timeout => {
                        // A head that did not complete in a whole tick, or nothing at all for
                        // the idle timeout: say goodbye (HTTP/2 GOAWAY; HTTP/1.1 closes), then
                        // drop.
                        count(config, if read { Closed::SlowHead } else { Closed::Idle });
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                        deadline = Instant::now() + CLOSE_GRACE;
                    }
                    (false, false) => deadline = Instant::now() + tick,
                }
            }
        }
    }
}

/// Connections still in their handshake (no complete request yet), oldest first, so that at
/// the cap the oldest can be evicted for a newcomer. Entries are dropped lazily: when popped,
/// and in a sweep when the queue has grown to twice its live size. One lock per accept, none
/// per request.
#[derive(Default)]
struct Handshakes {
    queue: std::sync::Mutex<std::collections::VecDeque<(Arc<Activity>, oneshot::Sender<()>)>>,
}

impl Handshakes {
    /// Registers a new connection; its receiver fires if it is evicted.
    fn track(&self, activity: Arc<Activity>) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut q) = self.queue.lock() {
            q.push_back((activity, tx));
            if q.len() >= 1024 && q.len().is_power_of_two() {
                q.retain(|(a, tx)| !tx.is_closed() && a.seen().requests == 0);
            }
        }
        rx
    }

    /// Evicts the oldest connection still in its handshake; whether there was one.
    fn evict_oldest(&self) -> bool {
        let Ok(mut q) = self.queue.lock() else {
            return false;
        };
        while let Some((activity, tx)) = q.pop_front() {
            if activity.seen().requests == 0 && tx.send(()).is_ok() {
                return true;
            }
        }
        false
    }
}

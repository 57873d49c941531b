//! What one connection may cost: the pieces the accept loop ([`super::listen`]) puts around
//! every accepted socket so that no client, silent, slow or hostile, can hold resources
//! without making progress.
//!
//! - [`Activity`]: per-connection counters (requests started, requests in handlers, large
//!   writes, reads) that the connection's watchdog reads to tell a connection doing work from one
//!   that only exists; updated with relaxed atomics on an uncontended per-connection cache
//!   line (no clock read, lock or allocation per request);
//! - [`Tracked`]: the service wrapper that counts requests into the [`Activity`];
//! - [`TimedIo`]: the socket wrapper that fails a write blocked for longer than the write
//!   timeout (a client that stops reading its response), so the connection, and the response
//!   it holds, is dropped;
//! - [`raise_fd_limit`]: the file-descriptor soft limit raised to the hard limit at start-up.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Writes of at most this many bytes are not counted as activity: HTTP/2 control frames
/// (a PING acknowledgement is 17 bytes, a SETTINGS acknowledgement 9, a WINDOW_UPDATE 13), so
/// a client that only pings cannot keep an idle connection open.
pub const CONTROL_WRITE_BYTES: usize = 64;

/// What a connection has done, as its watchdog sees it.
#[derive(Debug, Default)]
pub struct Activity {
    /// Requests that reached the service (0: still in the handshake).
    requests: AtomicU64,
    /// Requests whose handler has not finished.
    in_flight: AtomicUsize,
    /// Writes larger than [`CONTROL_WRITE_BYTES`].
    writes: AtomicU64,
    /// Reads that brought bytes: with no request started, a head arriving too slowly (or, on
    /// HTTP/2, frames that are not requests).
    reads: AtomicU64,
}

/// A snapshot of an [`Activity`], to compare with the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub requests: u64,
    pub writes: u64,
    pub in_flight: usize,
    pub reads: u64,
}

impl Activity {
    pub fn seen(&self) -> Seen {
        Seen {
            requests: self.requests.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            reads: self.reads.load(Ordering::Relaxed),
        }
    }
}

impl Seen {
    /// Whether `self`, a later snapshot than `before`, shows work: a request in a handler, a
    /// new request or a response written. Reads alone are not work: a client trickling a
    /// head (or pinging) makes none.
    pub fn busy_since(&self, before: &Seen) -> bool {
        self.in_flight > 0 || self.requests != before.requests || self.writes != before.writes
    }
}

/// A service that counts its requests into a connection's [`Activity`].
pub struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Self {
        Tracked { inner, activity }
    }
}

impl<S, R> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn call(&self, request: R) -> Self::Future {
        self.activity.requests.fetch_add(1, Ordering::Relaxed);
        self.activity.in_flight.fetch_add(1, Ordering::Relaxed);
        TrackedFuture {
            inner: self.inner.call(request),
            _in_flight: InFlight(self.activity.clone()),
        }
    }
}

/// Counts a request out of `in_flight` when its future ends, finished or dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

pin_project_lite::pin_project! {
    pub struct TrackedFuture<F> {
        #[pin]
        inner: F,
        _in_flight: InFlight,
    }
}

impl<F: Future> Future for TrackedFuture<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

pin_project_lite::pin_project! {
    /// A socket whose writes fail with `TimedOut` once blocked for `write_timeout` without
    /// progress, and whose large writes count as [`Activity`]. Reads pass through: the
    /// watchdog and the request-body reader bound them.
    pub struct TimedIo<T> {
        #[pin]
        io: T,
        activity: Arc<Activity>,
        write_timeout: Duration,
        // Armed when a write first blocks (the only allocation, and only then); dropped on
        // progress.
        stalled: Option<Pin<Box<Sleep>>>,
    }
}

impl<T> TimedIo<T> {
    pub fn new(io: T, activity: Arc<Activity>, write_timeout: Duration) -> Self {
        TimedIo {
            io,
            activity,
            write_timeout,
            stalled: None,
        }
    }
}

/// The error a write blocked past its timeout ends with.
pub fn write_timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading (write timeout)")
}

impl<T> TimedIo<T> {
    /// Bookkeeping after a write-side poll: progress disarms the stall timer; a block arms it
    /// and turns into an error once it expires.
    fn after<R>(
        stalled: &mut Option<Pin<Box<Sleep>>>,
        activity: &Activity,
        timeout: Duration,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<R>>,
        written: impl Fn(&R) -> usize,
    ) -> Poll<io::Result<R>> {
        match polled {
            Poll::Pending => {
                let sleep = stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(write_timed_out())),
                    Poll::Pending => Poll::Pending,
                }
            }
            Poll::Ready(Ok(r)) => {
                *stalled = None;
                if written(&r) > CONTROL_WRITE_BYTES {
                    activity.writes.fetch_add(1, Ordering::Relaxed);
                }
                Poll::Ready(Ok(r))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        }
    }
}

impl<T: AsyncRead> AsyncRead for TimedIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let polled = this.io.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.reads.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }
}

impl<T: AsyncWrite> AsyncWrite for TimedIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write(cx, buf);
        Self::after(this.stalled, this.activity, *this.write_timeout, cx, polled, |n| *n)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let polled = this.io.poll_write_vectored(cx, bufs);
        Self::after(this.stalled, this.activity, *this.write_timeout, cx, polled, |n| *n)
    }

    // Forwarded so hyper keeps writing shared response bodies with vectored writes instead
    // of copying them into its own buffer.
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let polled = this.io.poll_flush(cx);
        Self::after(this.stalled, this.activity, *this.write_timeout, cx, polled, |_| 0)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let polled = this.io.poll_shutdown(cx);
        Self::after(this.stalled, this.activity, *this.write_timeout, cx, polled, |_| 0)
    }
}

/// Raises the soft limit on open files to the hard limit (a server's connections are file
/// descriptors; the usual soft limit of 1024 is far below what one process may have).
/// Returns the soft limit now in force, if it could be read.
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed by pointer.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: as above.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                tracing::debug!(from = limit.rlim_cur, to = limit.rlim_max, "raised the open-file limit");
                limit = raised;
            } else {
                tracing::warn!(
                    soft = limit.rlim_cur,
                    hard = limit.rlim_max,
                    "could not raise the open-file limit"
                );
            }
        }
        // `rlim_t` is not 64 bits on every target.
        #[allow(clippy::unnecessary_cast)]
        Some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_write_that_stays_blocked_fails_after_the_timeout() {
        // A pipe with a 1 KiB buffer whose other end never reads.
        let (near, _far) = tokio::io::duplex(1024);
        let activity = Arc::new(Activity::default());
        let mut io = TimedIo::new(near, activity.clone(), Duration::from_millis(200));
        let started = std::time::Instant::now();
        let err = io.write_all(&vec![7u8; 1 << 20]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(activity.seen().writes, 1, "the first KiB went out and counted");
    }

    #[tokio::test]
    async fn a_slow_but_steady_reader_is_not_cut_off() {
        let (near, mut far) = tokio::io::duplex(1024);
        let mut io = TimedIo::new(near, Arc::new(Activity::default()), Duration::from_millis(300));
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let mut total = 0;
            while total < 8 * 1024 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                total += far.read(&mut buf).await.unwrap();
            }
            total
        });
        io.write_all(&[1u8; 8 * 1024]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 8 * 1024);
    }

    #[test]
    fn the_fd_limit_is_raised_to_the_hard_limit() {
        let soft = raise_fd_limit().unwrap();
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
        #[allow(clippy::unnecessary_cast)]
        let hard = limit.rlim_max as u64;
        assert_eq!(soft, hard);
    }
}

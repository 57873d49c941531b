//! Bodies for streamed requests, which the guard cannot read whole first:
//!
//! - [`PacedBody`]: a request body that must keep arriving. The client may pause at most
//!   `idle` between chunks, and must average `min_rate` bytes a second after a grace of
//!   `idle`. Only the time spent *waiting for the client* counts: while the server is busy
//!   (the worker behind a full channel has not asked for the next chunk) no time accrues, so
//!   a slow server never blames its client. A stalled upload ends the body with a
//!   `TimedOut` error, which the handler turns into a cut-off stream or a 408.
//! - [`Holding`]: a response body that keeps a value (the stream's concurrency permit) alive
//!   until the body is finished or dropped — for a streamed answer, long after the handler
//!   returned.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

pin_project_lite::pin_project! {
    /// See the module docs.
    pub struct PacedBody<B> {
        #[pin]
        inner: B,
        idle: Duration,
        min_rate: u64,
        // Bytes received, and time spent waiting for them.
        received: u64,
        waited: Duration,
        // The wait in progress: when it started, and its deadline's timer.
        waiting_since: Option<Instant>,
        timer: Option<Pin<Box<Sleep>>>,
    }
}

impl<B> PacedBody<B> {
    pub fn new(inner: B, idle: Duration, min_rate: u64) -> Self {
        PacedBody {
            inner,
            idle,
            min_rate: min_rate.max(1),
            received: 0,
            waited: Duration::ZERO,
            waiting_since: None,
            timer: None,
        }
    }
}

/// Why a paced body ended early.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly (a pause of over {idle:?}, or under {min_rate} bytes a second)")]
pub struct TooSlow {
    pub idle: Duration,
    pub min_rate: u64,
}

impl<B> Body for PacedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let now = Instant::now();
        let since = *this.waiting_since.get_or_insert(now);
        match this.inner.poll_frame(cx) {
            Poll::Ready(frame) => {
                *this.waited += now.saturating_duration_since(since);
                *this.waiting_since = None;
                *this.timer = None;
                if let Some(Ok(f)) = &frame {
                    if let Some(data) = f.data_ref() {
                        *this.received += data.len() as u64;
                    }
                }
                Poll::Ready(frame.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                // Waiting time allowed in all: the grace plus what the bytes so far earned.
                let earned = *this.idle + Duration::from_secs_f64(*this.received as f64 / *this.min_rate as f64);
                let budget = earned.saturating_sub(*this.waited);
                let deadline = since + budget.min(*this.idle);
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                match timer.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => {
                        *this.timer = None;
                        Poll::Ready(Some(Err(Box::new(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            TooSlow {
                                idle: *this.idle,
                                min_rate: *this.min_rate,
                            },
                        )))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// See the module docs.
    pub struct Holding<B, T> {
        #[pin]
        inner: B,
        held: Option<T>,
    }
}

impl<B, T> Holding<B, T> {
    pub fn new(inner: B, held: T) -> Self {
        Holding {
            inner,
            held: Some(held),
        }
    }
}

impl<B: Body, T> Body for Holding<B, T> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.held.take(); // finished: let go before the connection's next request
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    /// A body sending `chunks` of `size` bytes, `gap` apart.
    fn trickle(chunks: usize, size: usize, gap: Duration) -> axum::body::Body {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        tokio::spawn(async move {
            for _ in 0..chunks {
                tokio::time::sleep(gap).await;
                if tx.send(Ok(Frame::data(Bytes::from(vec![b'x'; size])))).await.is_err() {
                    return;
                }
            }
        });
        axum::body::Body::new(http_body_util::StreamBody::new(tokio_stream_from(rx)))
    }

    fn tokio_stream_from(
        mut rx: tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>,
    ) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, std::io::Error>> {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }

    async fn read_all(body: PacedBody<axum::body::Body>) -> Result<usize, String> {
        let mut body = std::pin::pin!(body);
        let mut n = 0;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => n += f.data_ref().map_or(0, |d| d.len()),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(n)
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_upload_passes_and_a_stalled_one_is_cut_off() {
        let idle = Duration::from_secs(2);
        let steady = PacedBody::new(trickle(20, 1000, Duration::from_millis(500)), idle, 1000);
        assert_eq!(read_all(steady).await, Ok(20_000));
        // A pause longer than `idle`.
        let stalled = PacedBody::new(trickle(3, 1000, Duration::from_secs(3)), idle, 1);
        assert!(read_all(stalled).await.is_err_and(|e| e.contains("too slowly")));
        // Never pausing long, but averaging 100 bytes a second against a floor of 1000.
        let slow = PacedBody::new(trickle(100, 100, Duration::from_secs(1)), idle, 1000);
        assert!(read_all(slow).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn time_the_server_spends_busy_is_not_the_clients() {
        // The client sends everything at once; the reader takes 10 s between reads.
        let body = PacedBody::new(trickle(5, 10, Duration::ZERO), Duration::from_secs(1), 1000);
        let mut body = std::pin::pin!(body);
        let mut n = 0;
        while let Some(frame) = body.frame().await {
            n += frame
                .expect("never the client's fault")
                .data_ref()
                .map_or(0, |d| d.len());
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        assert_eq!(n, 50);
    }
}

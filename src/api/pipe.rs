//! Pipes between async bodies and a blocking worker thread, for answers streamed while the
//! request is still arriving (`POST /api/v1/annotate`): the worker reads the request body
//! through [`BodyReader`] (`std::io::Read`) and writes the answer through [`BodyWriter`]
//! (`std::io::Write`) into a [`ResponseBody`].
//!
//! Both directions are bounded channels of chunks, so memory is bounded whatever the size of
//! the input: a worker that falls behind stops the reading of the request body (and TCP tells
//! the client to wait), and a client that stops reading the answer stops the worker. When
//! either end goes away the other sees it: a client gone makes the worker's next write fail
//! (`BrokenPipe`), a worker gone ends the forwarding of the request body.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use http_body::Frame;
use tokio::sync::mpsc;

/// Chunks of request body in flight to the worker.
const INPUT_CHUNKS: usize = 16;
/// Chunks of answer in flight to the client (each up to [`OUTPUT_CHUNK`]): 2 MiB of slack
/// for clients that upload first and read later.
const OUTPUT_CHUNKS: usize = 32;
/// Bytes the worker gathers before handing a chunk over.
const OUTPUT_CHUNK: usize = 64 << 10;

/// Starts forwarding `body` (on the current runtime) into a reader for a worker thread.
/// `max_line`, if given, bounds the bytes between two newlines: a longer "line" is an input
/// error rather than a buffer grown without end (a CSV parser buffers a whole record).
pub fn body_reader(body: Body, max_line: Option<usize>) -> BodyReader {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(INPUT_CHUNKS);
    tokio::spawn(async move {
        use http_body_util::BodyExt;
        let mut body = body;
        loop {
            let next = tokio::select! {
                frame = body.frame() => frame,
                // The worker is gone: stop reading the upload.
                () = tx.closed() => return,
            };
            let chunk = match next {
                None => return,
                Some(Err(e)) => {
                    let kind = timed_out_kind(&e);
                    let _ = tx.send(Err(io::Error::new(kind, e.to_string()))).await;
                    return;
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue, // trailers
                },
            };
            if tx.send(Ok(chunk)).await.is_err() {
                return;
            }
        }
    });
    BodyReader {
        rx,
        current: Bytes::new(),
        max_line,
        line: 0,
        failed: None,
    }
}

/// `TimedOut` for a paced body's "too slow" (its error wraps an `io::Error` of that kind),
/// else `Other`.
fn timed_out_kind(e: &axum::Error) -> io::ErrorKind {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            return io.kind();
        }
        source = err.source();
    }
    io::ErrorKind::Other
}

/// The request body as `std::io::Read`, for a blocking thread (never an async task: reads
/// block until a chunk arrives).
pub struct BodyReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    max_line: Option<usize>,
    /// Bytes since the last newline.
    line: usize,
    failed: Option<(io::ErrorKind, String)>,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((kind, message)) = &self.failed {
            return Err(io::Error::new(*kind, message.clone()));
        }
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => {
                    self.failed = Some((e.kind(), e.to_string()));
                    return Err(e);
                }
            }
        }
        let n = buf.len().min(self.current.len());
        let chunk = self.current.split_to(n);
        if let Some(max) = self.max_line {
            self.line = match chunk.iter().rposition(|&b| b == b'\n') {
                Some(i) => n - i - 1,
                None => self.line + n,
            };
            if self.line > max {
                let message = format!("a line of the input is longer than {max} bytes");
                self.failed = Some((io::ErrorKind::InvalidData, message.clone()));
                return Err(io::Error::new(io::ErrorKind::InvalidData, message));
            }
        }
        buf[..n].copy_from_slice(&chunk);
        Ok(n)
    }
}

/// A writer for a blocking thread whose bytes become a [`ResponseBody`].
pub fn body_writer() -> (BodyWriter, ResponseBody) {
    let (tx, rx) = mpsc::channel(OUTPUT_CHUNKS);
    (
        BodyWriter {
            tx,
            buf: Vec::with_capacity(OUTPUT_CHUNK),
        },
        ResponseBody { rx },
    )
}

/// See [`body_writer`]. Dropped without [`BodyWriter::fail`], the answer ends normally once
/// what was written is sent (call `flush` first: what is still buffered is sent on drop).
pub struct BodyWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl BodyWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(OUTPUT_CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }

    /// Ends the answer with an error: the client sees the stream cut off (on HTTP/1, no final
    /// chunk; on HTTP/2, a reset), never a complete-looking answer.
    pub fn fail(mut self, why: String) {
        let _ = self.send();
        let _ = self.tx.blocking_send(Err(io::Error::other(why)));
    }
}

impl Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= OUTPUT_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        let _ = self.send();
    }
}

/// The answer's body, fed by a [`BodyWriter`].
pub struct ResponseBody {
    rx: mpsc::Receiver<io::Result<Bytes>>,
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.rx.poll_recv(cx).map(|chunk| chunk.map(|c| c.map(Frame::data)))
    }
}

impl From<ResponseBody> for Body {
    fn from(body: ResponseBody) -> Body {
        Body::new(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bytes_go_through_and_long_lines_are_refused() {
        let body = Body::from("a,b\n1,2\n".repeat(1000));
        let mut reader = body_reader(body, Some(100));
        let text = tokio::task::spawn_blocking(move || {
            let mut s = String::new();
            reader.read_to_string(&mut s).map(|_| s)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(text.len(), 8000);

        let long = Body::from(format!("{}\n", "x".repeat(500)));
        let mut reader = body_reader(long, Some(100));
        let err = tokio::task::spawn_blocking(move || reader.read_to_end(&mut vec![]))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_sees_its_reader_gone_and_a_failure_cuts_the_body() {
        use http_body_util::BodyExt;
        let (mut writer, body) = body_writer();
        drop(body);
        let err = tokio::task::spawn_blocking(move || {
            writer.write_all(&vec![b'x'; OUTPUT_CHUNK * 2])?;
            writer.flush()
        })
        .await
        .unwrap()
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);

        let (mut writer, body) = body_writer();
        tokio::task::spawn_blocking(move || {
            let _ = writer.write_all(b"partial");
            writer.fail("input broke".into());
        });
        assert!(Body::from(body).collect().await.is_err());
    }
}

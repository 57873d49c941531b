//! Compresses JSON answers of at least [`MIN_BYTES`] for clients that accept brotli or gzip.
//!
//! The map's documents (tiles, boundary documents, pages, scripts) come pre-compressed from
//! [`crate::maplayers::asset::Asset`]; this layer is for everything a handler writes per
//! request as JSON (`/api/v1/alliances`, `/api/v1/config`, timelines, crosswalks, bulk
//! answers, problems). Small answers are left alone: a single lookup (~430 bytes) would gain
//! a few hundred bytes and pay a compressor's set-up on the hottest path, so below the
//! threshold the layer only reads two headers and the body's exact size. Compressed answers
//! carry `Vary: Accept-Encoding`; so does an uncompressed one at or above the threshold (its
//! encoding depended on the request). Bodies are already in memory (handlers write whole
//! buffers), so collecting one costs no waiting.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Request, Response};
use http_body::Body as _;
use tower::{Layer, Service};

use crate::maplayers::asset::{negotiate, Encoding};

/// Answers shorter than this are sent as they are.
pub const MIN_BYTES: u64 = 1024;

/// Bodies larger than this are sent as they are too: no handler writes one (the largest,
/// a crosswalk of CCGs, is about 100 KB), and compressing a huge one would hold a runtime
/// thread.
const MAX_BYTES: usize = 16 << 20;

/// Brotli quality for per-request compression: quality 5 compresses JSON about as well as
/// gzip -9 at several times its speed (the pre-compressed documents use 9, once).
const BROTLI_QUALITY: i32 = 5;

/// The layer; see the module documentation.
#[derive(Clone, Copy, Default)]
pub struct CompressJsonLayer;

impl<S> Layer<S> for CompressJsonLayer {
    type Service = CompressJson<S>;
    fn layer(&self, inner: S) -> CompressJson<S> {
        CompressJson { inner }
    }
}

#[derive(Clone)]
pub struct CompressJson<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for CompressJson<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = CompressFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let encoding = negotiate(request.headers());
        CompressFuture::Inner {
            inner: self.inner.call(request),
            encoding,
        }
    }
}

type Collecting = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

pin_project_lite::pin_project! {
    /// The handler's future, then (only for a large JSON answer) the collection and
    /// compression of its body.
    #[project = Project]
    pub enum CompressFuture<F, E> {
        Inner { #[pin] inner: F, encoding: Encoding },
        Compressing { collecting: Collecting, _error: std::marker::PhantomData<fn() -> E> },
    }
}

impl<F, E> Future for CompressFuture<F, E>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                Project::Inner { inner, encoding } => {
                    let mut response = match inner.poll(cx) {
                        Poll::Ready(Ok(r)) => r,
                        other => return other,
                    };
                    let encoding = *encoding;
                    if !worth_compressing(&response) {
                        return Poll::Ready(Ok(response));
                    }
                    let varies = response.headers().get_all(header::VARY).iter().any(|v| {
                        v.to_str()
                            .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
                    });
                    if !varies {
                        response
                            .headers_mut()
                            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
                    }
                    if encoding == Encoding::Identity {
                        return Poll::Ready(Ok(response));
                    }
                    let collecting: Collecting = Box::pin(compress(response, encoding));
                    self.set(CompressFuture::Compressing {
                        collecting,
                        _error: std::marker::PhantomData,
                    });
                }
                Project::Compressing { collecting, .. } => return collecting.as_mut().poll(cx).map(Ok),
            }
        }
    }
}

/// A JSON answer (problems included) of at least [`MIN_BYTES`], not encoded yet.
fn worth_compressing(response: &Response<Body>) -> bool {
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json);
    if !json || response.headers().contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let size = response.body().size_hint();
    // A body of unknown length is a stream, not one of the handlers' buffers: leave it.
    size.exact()
        .is_some_and(|n| (MIN_BYTES..=MAX_BYTES as u64).contains(&n))
}

/// `application/json`, `application/problem+json`, `application/geo+json` and the like.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence
            .get(essence.len().saturating_sub(5)..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case("+json"))
}

async fn compress(response: Response<Body>, encoding: Encoding) -> Response<Body> {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BYTES).await {
        Ok(b) => b,
        // The body said how long it was and was not: the handler's bug, but still an answer.
        Err(e) => {
            tracing::warn!(error = %e, "a JSON body could not be read for compression");
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, Body::empty());
        }
    };
    let (encoded, name) = match encoding {
        Encoding::Brotli => (brotli_bytes(&bytes), "br"),
        Encoding::Gzip => (gzip_bytes(&bytes), "gzip"),
        Encoding::Identity => (None, ""),
    };
    let Some(encoded) = encoded else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    Response::from_parts(parts, Body::from(encoded))
}

fn brotli_bytes(body: &[u8]) -> Option<Bytes> {
    let mut out = Vec::with_capacity(body.len() / 4);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
    Some(Bytes::from(out))
}

fn gzip_bytes(body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::new(6));
    enc.write_all(body).ok()?;
    enc.finish().ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("application/problem+json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/geo+json"));
        assert!(!is_json("text/html; charset=utf-8"));
        assert!(!is_json("application/vnd.mapbox-vector-tile"));
        assert!(!is_json("json"));
    }

    #[test]
    fn brotli_and_gzip_round_trip() {
        use std::io::Read;
        let body = br#"{"a":"#.repeat(300);
        let br = brotli_bytes(&body).unwrap_or_default();
        let mut back = Vec::new();
        let _ = brotli::BrotliDecompress(&mut &br[..], &mut back);
        assert_eq!(back, body);
        let gz = gzip_bytes(&body).unwrap_or_default();
        let mut back = Vec::new();
        let _ = flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back);
        assert_eq!(back, body);
    }
}

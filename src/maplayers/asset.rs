//! An HTTP representation served with a strong ETag, revalidation and pre-compressed
//! gzip/brotli variants (compressed once, on first request, then kept).

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub struct Asset {
    body: Vec<u8>,
    content_type: &'static str,
    cache_control: &'static str,
    etag: String,
    gzip: OnceLock<Vec<u8>>,
    brotli: OnceLock<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Asset {
    pub fn new(body: Vec<u8>, content_type: &'static str, cache_control: &'static str) -> Self {
        let digest = Sha256::digest(&body);
        let etag = format!(
            "\"{}\"",
            digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>()
        );
        Asset {
            body,
            content_type,
            cache_control,
            etag,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        }
    }

    pub fn etag(&self) -> &str {
        &self.etag
    }

    pub fn len(&self) -> usize {
        self.body.len()
    }

    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// The body in `encoding`, compressing it the first time it is asked for.
    pub fn encoded(&self, encoding: Encoding) -> &[u8] {
        match encoding {
            Encoding::Identity => &self.body,
            Encoding::Gzip => self.gzip.get_or_init(|| {
                use std::io::Write;
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                // Writing to a Vec cannot fail.
                let _ = enc.write_all(&self.body);
                enc.finish().unwrap_or_default()
            }),
            Encoding::Brotli => self.brotli.get_or_init(|| {
                let mut out = Vec::new();
                let params = brotli::enc::BrotliEncoderParams {
                    quality: 9,
                    ..Default::default()
                };
                let _ = brotli::BrotliCompress(&mut &self.body[..], &mut out, &params);
                out
            }),
        }
    }

    /// Answers a GET: 304 when `If-None-Match` matches, else the best encoding the client accepts.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ETAG,
            HeaderValue::from_str(&self.etag).unwrap_or(HeaderValue::from_static("\"\"")),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(self.cache_control));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if if_none_match(request, &self.etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        let encoding = negotiate(request);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        match encoding {
            Encoding::Gzip => headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            Encoding::Brotli => headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
            Encoding::Identity => None,
        };
        (StatusCode::OK, headers, self.encoded(encoding).to_vec()).into_response()
    }
}

fn if_none_match(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t == etag || t.strip_prefix("W/") == Some(etag)
        })
}

/// Brotli, else gzip, else identity, honouring `q=0`.
pub fn negotiate(request: &HeaderMap) -> Encoding {
    let accepted = |name: &str| {
        request
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|item| {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or("").trim();
                let q_zero = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                coding.eq_ignore_ascii_case(name) && !q_zero
            })
    };
    if accepted("br") {
        Encoding::Brotli
    } else if accepted("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn negotiates_and_revalidates() {
        assert_eq!(
            negotiate(&headers(&[("accept-encoding", "gzip, deflate, br")])),
            Encoding::Brotli
        );
        assert_eq!(
            negotiate(&headers(&[("accept-encoding", "gzip, br;q=0")])),
            Encoding::Gzip
        );
        assert_eq!(negotiate(&headers(&[])), Encoding::Identity);
        let a = Asset::new(b"{\"a\":1}".repeat(100), "application/json", "no-cache");
        let r = a.respond(&headers(&[("if-none-match", "\"nope\"")]));
        assert_eq!(r.status(), StatusCode::OK);
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(a.etag()).unwrap());
        assert_eq!(a.respond(&h).status(), StatusCode::NOT_MODIFIED);
        assert!(a.encoded(Encoding::Brotli).len() < a.len());
        assert!(a.encoded(Encoding::Gzip).len() < a.len());
    }
}

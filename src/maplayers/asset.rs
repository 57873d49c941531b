//! An HTTP representation served with strong ETags, revalidation and pre-compressed
//! gzip/brotli variants (compressed once, on first request, then kept).
//!
//! Bodies are [`Bytes`]: every response shares the one buffer by reference count, so a
//! thousand clients reading a 5 MB document slowly hold one copy, not a thousand. Each
//! encoding is its own representation with its own strong ETag (`"…"`, `"…-gzip"`,
//! `"…-br"`): a strong validator promises byte-identical bodies, which two encodings are not.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub struct Asset {
    body: Bytes,
    content_type: &'static str,
    cache_control: &'static str,
    /// By [`Encoding`] as index: identity, gzip, brotli.
    etags: [HeaderValue; 3],
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
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
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        // Hex digits and a suffix: always a valid header value.
        let etag = |suffix: &str| {
            HeaderValue::from_str(&format!("\"{hex}{suffix}\"")).unwrap_or(HeaderValue::from_static("\"\""))
        };
        Asset {
            body: Bytes::from(body),
            content_type,
            cache_control,
            etags: [etag(""), etag("-gzip"), etag("-br")],
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        }
    }

    /// The ETag of the identity representation.
    pub fn etag(&self) -> &str {
        self.etag_of(Encoding::Identity)
    }

    /// The ETag of the representation in `encoding`.
    pub fn etag_of(&self, encoding: Encoding) -> &str {
        self.etags[encoding as usize].to_str().unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.body.len()
    }

    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// The body in `encoding`, compressing it the first time it is asked for. A clone is a
    /// reference count, never a copy.
    pub fn encoded(&self, encoding: Encoding) -> &Bytes {
        match encoding {
            Encoding::Identity => &self.body,
            Encoding::Gzip => self.gzip.get_or_init(|| {
                use std::io::Write;
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                // Writing to a Vec cannot fail.
                let _ = enc.write_all(&self.body);
                Bytes::from(enc.finish().unwrap_or_default())
            }),
            Encoding::Brotli => self.brotli.get_or_init(|| {
                let mut out = Vec::new();
                let params = brotli::enc::BrotliEncoderParams {
                    quality: 9,
                    ..Default::default()
                };
                let _ = brotli::BrotliCompress(&mut &self.body[..], &mut out, &params);
                Bytes::from(out)
            }),
        }
    }

    /// Answers a GET: the best encoding the client accepts, or 304 when `If-None-Match`
    /// names that representation's ETag.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let encoding = negotiate(request);
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, self.etags[encoding as usize].clone());
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(self.cache_control));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if if_none_match(request, self.etag_of(encoding)) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        match encoding {
            Encoding::Gzip => headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            Encoding::Brotli => headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
            Encoding::Identity => None,
        };
        (StatusCode::OK, headers, self.encoded(encoding).clone()).into_response()
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

    #[test]
    fn each_encoding_has_its_own_etag_and_bodies_are_shared_not_copied() {
        let a = Asset::new(b"{\"a\":1}".repeat(1000), "application/json", "no-cache");
        let tags = [Encoding::Identity, Encoding::Gzip, Encoding::Brotli].map(|e| a.etag_of(e).to_string());
        assert!(
            tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
            "{tags:?}"
        );
        assert!(tags.iter().all(|t| t.starts_with('"')), "strong: {tags:?}");
        // A gzip client revalidating its gzip copy gets 304; presenting the identity tag
        // while asking for gzip is a different representation: 200.
        let mut h = headers(&[("accept-encoding", "gzip")]);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&tags[1]).unwrap());
        let r = a.respond(&h);
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(r.headers()[header::ETAG], tags[1].as_str());
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&tags[0]).unwrap());
        assert_eq!(a.respond(&h).status(), StatusCode::OK);
    }
}

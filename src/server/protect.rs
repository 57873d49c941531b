//! The protection stack around the public routes, outermost first:
//!
//! 1. the [guard](super::guard): metrics (every answer counted by route and status, shed,
//!    timed-out and panicked ones included), security headers (nosniff and no framing on
//!    every answer; a CSP allowing only this origin on pages and scripts and
//!    `default-src 'none'` on everything else, which is never rendered as a document; the
//!    referrer policy, `X-Frame-Options` and CORP on pages and scripts), catch-panic (500 problem),
//!    load shedding (at most `concurrency` requests in handlers, one semaphore for every
//!    route; beyond that an immediate 503 with `Retry-After`, never a queue), a handling
//!    timeout (503 problem), a request-body read timeout, and CORS open for the read-only
//!    API (any origin, no credentials).
//!
//! Applied to every route at once (`Router::layer`): after routing, so the guard knows the
//! route template, and boxed once (each further `Router::layer` call adds a boxed service).
//!
//! Size limits (body, query string, path segment, bulk items) live with the API
//! (`api::body`, `api::query`, `api::extract`) where the problem can name the field.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;

use super::guard::{GuardConfig, GuardLayer};
use crate::metrics::Metrics;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Single requests (everything but POST) in handlers at once; more are shed with 503.
    pub concurrency: usize,
    /// Bulk requests (POST) in handlers or queued for the bulk worker at once; more are shed
    /// with 503. A budget of its own, so bulk traffic cannot starve single lookups (nor the
    /// reverse).
    pub bulk_concurrency: usize,
    /// Threads running bulk handlers, at a lower scheduling priority than the threads
    /// answering single requests.
    pub bulk_threads: usize,
    /// Streamed annotations (`POST /api/v1/annotate`) at once, each a worker thread at the
    /// bulk pool's priority, from the request to the answer's last byte; more are shed with 503.
    pub stream_concurrency: usize,
    /// Longest a handler may take.
    pub handler_timeout: Duration,
    /// Longest a request body may pause between chunks, and the grace before
    /// [`min_body_rate`](Self::min_body_rate) applies.
    pub body_timeout: Duration,
    /// Slowest average rate (bytes a second) a request body may arrive at, after the grace.
    pub min_body_rate: u64,
    /// Longest a client may take to send request headers; a new connection's first request
    /// must be complete this long after it was accepted; a later request's head, within one
    /// to two of these (enforced by each connection's watchdog, [`super::listen`]).
    pub header_timeout: Duration,
    /// Longest a connection may stay open with nothing in a handler and nothing sent.
    pub idle_timeout: Duration,
    /// Longest a write may stay blocked because the client does not read.
    pub write_timeout: Duration,
    /// Open connections at most on the public listener (lowered to fit the open-file limit).
    pub max_connections: usize,
    /// How long `POST /admin/reload` waits for its reload before answering 202 (the reload
    /// goes on either way).
    pub reload_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            concurrency: 512,
            bulk_concurrency: 256,
            bulk_threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
            stream_concurrency: 8,
            handler_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            min_body_rate: 4096,
            header_timeout: super::listen::HEADER_READ_TIMEOUT,
            idle_timeout: super::listen::IDLE_TIMEOUT,
            write_timeout: super::listen::WRITE_TIMEOUT,
            max_connections: super::listen::MAX_CONNECTIONS,
            reload_wait: Duration::from_secs(5),
        }
    }
}

/// The Content-Security-Policy of everything but pages and scripts (JSON, GeoJSON, styles).
pub const NON_DOCUMENT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The Content-Security-Policy of the pages: this origin only, plus a configured basemap's origin.
pub fn content_security_policy(extra_origin: Option<&str>) -> String {
    let extra = extra_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{extra}; \
         connect-src 'self'{extra}; worker-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Wraps every route of `router` in the stack, counting into `metrics`.
pub fn protect(router: Router, metrics: Arc<Metrics>, limits: &Limits, csp: &str) -> Router {
    let page_csp = HeaderValue::from_str(csp).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let guard = GuardLayer::new(GuardConfig {
        metrics,
        concurrency: limits.concurrency,
        bulk_concurrency: limits.bulk_concurrency,
        bulk_threads: limits.bulk_threads,
        stream_concurrency: limits.stream_concurrency,
        streaming_routes: crate::api::STREAMING_ROUTES,
        handler_timeout: limits.handler_timeout,
        body_timeout: limits.body_timeout,
        min_body_rate: limits.min_body_rate,
        max_body_bytes: crate::api::body::MAX_BODY_BYTES,
        document_headers: vec![
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("cross-origin"),
            ),
        ],
        page_csp,
        other_csp: HeaderValue::from_static(NON_DOCUMENT_CSP),
    });
    router.layer(guard)
}

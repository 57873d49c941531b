//! The protection stack, outermost first:
//!
//! 1. security headers on every response (CSP allowing only this origin, nosniff,
//!    referrer policy, frame-ancestors none);
//! 2. CORS open for the read-only API (any origin, no credentials);
//! 3. load shedding: at most `concurrency` requests in handlers at once; beyond that an
//!    immediate 503 with `Retry-After`, never an unbounded queue;
//! 4. a handling timeout (503 problem) and a request-body read timeout.
//!
//! Size limits (body, query string, path segment, bulk items) live with the API
//! (`api::body`, `api::params`, `api::extract`) where the problem can name the field.

use std::convert::Infallible;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Router};
use tower::ServiceBuilder;
use tower_http::cors::{Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::api::error::ApiError;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests in handlers at once; more are shed with 503.
    pub concurrency: usize,
    /// Longest a handler may take.
    pub handler_timeout: Duration,
    /// Longest a client may take to send a request body.
    pub body_timeout: Duration,
    /// Longest a client may take to send request headers (enforced by the accept loop).
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            concurrency: 512,
            handler_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            header_timeout: super::listen::HEADER_READ_TIMEOUT,
        }
    }
}

/// The Content-Security-Policy: this origin only, plus a configured basemap's origin.
pub fn content_security_policy(extra_origin: Option<&str>) -> String {
    let extra = extra_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{extra}; \
         connect-src 'self'{extra}; worker-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Wraps the whole router (so the concurrency limit is global, not per route).
pub fn protect(router: Router, limits: &Limits, csp: &str) -> Router {
    let overload = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .concurrency_limit(limits.concurrency)
        .timeout(limits.handler_timeout)
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .service(router);
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::IF_NONE_MATCH])
        .expose_headers([header::ETAG, header::RETRY_AFTER])
        .max_age(Duration::from_secs(3600));
    let csp = HeaderValue::from_str(csp).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, csp))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ));
    Router::new().fallback_service(overload).layer(cors).layer(headers)
}

async fn overloaded(error: BoxError) -> Result<Response, Infallible> {
    let detail = if error.is::<tower::load_shed::error::Overloaded>() {
        "the server is at capacity; retry in a moment".to_string()
    } else if error.is::<tower::timeout::error::Elapsed>() {
        "the request took too long to handle".to_string()
    } else {
        format!("the request could not be handled: {error}")
    };
    Ok(ApiError::Overloaded { detail }.into_response())
}

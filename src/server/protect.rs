//! The protection stack around the public routes, outermost first:
//!
//! 1. security headers on every response (CSP allowing only this origin, nosniff,
//!    referrer policy, frame-ancestors none);
//! 2. CORS open for the read-only API (any origin, no credentials);
//! 3. metrics: every request counted by route and status with its latency — outside what
//!    follows, so shed, timed-out and panicked requests are counted too;
//! 4. catch-panic: a handler bug answers a 500 problem instead of dropping the connection;
//! 5. load shedding: at most `concurrency` requests in handlers at once (one semaphore shared
//!    by every route); beyond that an immediate 503 with `Retry-After`, never a queue;
//! 6. a handling timeout (503 problem) and a request-body read timeout.
//!
//! The stack is applied per route (`Router::layer`), after routing, so the metrics layer
//! knows the route template.
//!
//! Size limits (body, query string, path segment, bulk items) live with the API
//! (`api::body`, `api::params`, `api::extract`) where the problem can name the field.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::error_handling::HandleErrorLayer;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Router};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::api::error::ApiError;
use crate::metrics::Metrics;

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

/// Wraps every route of `router` in the stack, counting into `metrics`.
pub fn protect(router: Router, metrics: Arc<Metrics>, limits: &Limits, csp: &str) -> Router {
    let overload = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(limits.concurrency))
        .timeout(limits.handler_timeout)
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout));
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
    router
        .layer(overload)
        .layer(CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn_with_state(metrics, track))
        .layer(cors)
        .layer(headers)
}

/// Counts each request by its route template and status, with its latency.
async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("(unmatched)", |m| m.as_str());
    metrics.record(route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked; answered 500");
    ApiError::Internal {
        detail: "the server failed to handle this request".into(),
    }
    .into_response()
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

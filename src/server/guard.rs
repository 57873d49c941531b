//! The guard: one tower layer doing, per request, what a stack of generic layers did —
//! load shedding, a handling timeout, a body read timeout, catching panics, counting into
//! the metrics and setting the security headers. Profiled in `benches/http_stack.rs`: the
//! generic stack (tower's load-shed, global concurrency limit and timeout, axum's
//! HandleError, tower-http's catch-panic, set-header ×5 and body timeout, a `from_fn`
//! metrics middleware) cost about 2.9 µs a request, mostly allocations (a boxed future per
//! layer, a boxed body for catch-panic and the body timeout) and a timer per request. Here:
//!
//! - **shedding**: a permit from one semaphore shared by every route, taken with
//!   `try_acquire` (no waiting, no queue); none left → 503 problem with `Retry-After` at once;
//! - **timeout**: the handler is polled first and a timer is armed only if it is still
//!   pending (lookups finish on their first poll, so they never touch the timer wheel); the
//!   deadline counts from the request's start; expired → 503 problem;
//! - **body timeout**: only a request that has a body gets its body wrapped (GETs don't);
//! - **panics**: caught at every poll; the request answers a 500 problem;
//! - **metrics**: every answer, the 503s and 500s above included, is counted by route
//!   template and status with its latency;
//! - **headers**: `nosniff` and a CSP on every answer — the page CSP on HTML and scripts,
//!   [`NON_DOCUMENT_CSP`](super::protect::NON_DOCUMENT_CSP) on everything else — and the
//!   document-only headers on pages and scripts ([`finish`] says why);
//! - **CORS** ([`cors`]): open for the read-only API — any origin, no credentials — with
//!   preflights answered before any handler. (tower-http's `Cors` did the same; cloning its
//!   configuration per request was a measurable share of the stack's cost.)

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tower_http::timeout::TimeoutBody;

use crate::api::error::ApiError;
use crate::metrics::Metrics;

/// What every guarded route shares.
struct Shared {
    metrics: Arc<Metrics>,
    permits: Arc<Semaphore>,
    handler_timeout: Duration,
    body_timeout: Duration,
    /// Set on pages and scripts only (see [`finish`]).
    document_headers: Vec<(HeaderName, HeaderValue)>,
    page_csp: HeaderValue,
    other_csp: HeaderValue,
}

#[derive(Clone)]
pub struct GuardLayer {
    shared: Arc<Shared>,
}

/// The guard's settings.
pub struct GuardConfig {
    pub metrics: Arc<Metrics>,
    /// Requests in handlers at once.
    pub concurrency: usize,
    pub handler_timeout: Duration,
    pub body_timeout: Duration,
    /// Headers set on pages and scripts besides the CSP, `nosniff` and CORS, which every
    /// response gets.
    pub document_headers: Vec<(HeaderName, HeaderValue)>,
    /// Content-Security-Policy of HTML responses, and of everything else.
    pub page_csp: HeaderValue,
    pub other_csp: HeaderValue,
}

impl GuardLayer {
    pub fn new(config: GuardConfig) -> Self {
        GuardLayer {
            shared: Arc::new(Shared {
                metrics: config.metrics,
                permits: Arc::new(Semaphore::new(config.concurrency.min(Semaphore::MAX_PERMITS))),
                handler_timeout: config.handler_timeout,
                body_timeout: config.body_timeout,
                document_headers: config.document_headers,
                page_csp: config.page_csp,
                other_csp: config.other_csp,
            }),
        }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;
    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> tower::Service<Request<Body>> for Guard<S>
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = GuardFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let started = Instant::now();
        let route = request.extensions().get::<MatchedPath>().cloned();
        let shared = self.shared.clone();
        let done = |response: Response| GuardFuture {
            state: State::Done {
                response: Some(response),
            },
            shared: shared.clone(),
            route: route.clone(),
            started,
        };
        if let Some(answer) = cors::preflight(&request) {
            return done(answer);
        }
        let Ok(permit) = shared.permits.clone().try_acquire_owned() else {
            let shed = ApiError::Overloaded {
                detail: "the server is at capacity; retry in a moment".into(),
            };
            return done(shed.into_response());
        };
        use http_body::Body as _;
        let request = if request.body().is_end_stream() {
            request
        } else {
            let timeout = shared.body_timeout;
            request.map(|body| Body::new(TimeoutBody::new(timeout, body)))
        };
        GuardFuture {
            state: State::Running {
                inner: self.inner.call(request),
                deadline: None,
                permit: Some(permit),
            },
            shared,
            route,
            started,
        }
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F> {
        Running {
            #[pin]
            inner: F,
            // Armed on the first poll that leaves the handler pending.
            deadline: Option<Pin<Box<Sleep>>>,
            permit: Option<OwnedSemaphorePermit>,
        },
        // An answer ready at once (shed, preflight); taken on the first poll.
        Done { response: Option<Response> },
    }
}

pin_project_lite::pin_project! {
    pub struct GuardFuture<F> {
        #[pin]
        state: State<F>,
        shared: Arc<Shared>,
        route: Option<MatchedPath>,
        started: Instant,
    }
}

impl<F> Future for GuardFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let response = match this.state.as_mut().project() {
            StateProj::Done { response } => response.take().unwrap_or_else(|| {
                ApiError::Internal {
                    detail: "the answer was already taken".into(),
                }
                .into_response()
            }),
            StateProj::Running {
                inner,
                deadline,
                permit,
            } => {
                let polled = std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
                if !matches!(polled, Ok(Poll::Pending)) {
                    permit.take(); // the handler is done: free its slot before answering
                }
                match polled {
                    Ok(Poll::Ready(Ok(response))) => response,
                    Ok(Poll::Ready(Err(never))) => match never {},
                    Err(_) => {
                        tracing::error!("a handler panicked; answered 500");
                        ApiError::Internal {
                            detail: "the server failed to handle this request".into(),
                        }
                        .into_response()
                    }
                    Ok(Poll::Pending) => {
                        // A deadline past the clock's range never comes: wait a year instead.
                        let until = this
                            .started
                            .checked_add(this.shared.handler_timeout)
                            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 86_400));
                        let sleep = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until.into())));
                        if sleep.as_mut().poll(cx).is_pending() {
                            return Poll::Pending;
                        }
                        ApiError::Overloaded {
                            detail: "the request took too long to handle".into(),
                        }
                        .into_response()
                    }
                }
            }
        };
        // A timed-out or panicked handler's future is dropped here, never polled again.
        this.state.set(State::Done { response: None });
        Poll::Ready(Ok(finish(this.shared, this.route.as_ref(), *this.started, response)))
    }
}

/// The headers every answer carries, and its count in the metrics.
///
/// Every answer gets `nosniff`, a CSP (which also forbids framing: `frame-ancestors`) and the
/// CORS origin. The headers that only mean something for a document a browser renders or
/// runs — `Referrer-Policy`, `X-Frame-Options` for browsers older than `frame-ancestors`,
/// `Cross-Origin-Resource-Policy` for no-cors loads of scripts — go on pages and scripts only:
/// a JSON answer is fetched, never rendered, and its CSP lets it load nothing that could leak
/// a referrer. `Access-Control-Expose-Headers` goes only where there is a header to expose.
/// Each header costs every answer its insert and its bytes: on single lookups that was about
/// half the stack's overhead (docs/PERFORMANCE.md).
fn finish(shared: &Shared, route: Option<&MatchedPath>, started: Instant, mut response: Response) -> Response {
    {
        let headers = response.headers_mut();
        // Pages, and scripts (a worker script's own CSP governs the worker: MapLibre's worker
        // fetches the map's data), get the page policy.
        let document = headers.get(header::CONTENT_TYPE).is_some_and(|ct| {
            let ct = ct.as_bytes();
            ct.starts_with(b"text/html") || ct.starts_with(b"text/javascript")
        });
        let exposes = headers.contains_key(header::ETAG) || headers.contains_key(header::RETRY_AFTER);
        // One growth of the map, not one per insert.
        headers.reserve(3 + usize::from(exposes) + if document { shared.document_headers.len() } else { 0 });
        let csp = if document { &shared.page_csp } else { &shared.other_csp };
        headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if document {
            for (name, value) in &shared.document_headers {
                headers.insert(name.clone(), value.clone());
            }
        }
        // On every answer, not only those to requests with an `Origin`: a cache may serve a
        // same-origin answer to a cross-origin fetch (and the wildcard needs no `Vary`).
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        if exposes {
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(cors::EXPOSE_HEADERS),
            );
        }
    }
    let route = route.map_or("(unmatched)", |m| m.as_str());
    shared
        .metrics
        .record(route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// CORS, open for the read-only API: any origin, no credentials, so every origin gets the
/// same answer (no `Vary`). A preflight is answered here, before any handler.
pub mod cors {
    use axum::http::{header, HeaderValue, Method, Request, StatusCode};
    use axum::response::{IntoResponse, Response};

    pub const ALLOW_METHODS: &str = "GET, POST, OPTIONS";
    pub const ALLOW_HEADERS: &str = "content-type, if-none-match";
    pub const EXPOSE_HEADERS: &str = "etag, retry-after";
    /// How long a browser may cache a preflight answer, seconds.
    pub const MAX_AGE: &str = "3600";

    /// The preflight answer, if `request` is a CORS preflight.
    pub fn preflight<B>(request: &Request<B>) -> Option<Response> {
        let headers = request.headers();
        let is_preflight = request.method() == Method::OPTIONS
            && headers.contains_key(header::ORIGIN)
            && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        is_preflight.then(|| {
            (
                StatusCode::OK,
                [
                    (
                        header::ACCESS_CONTROL_ALLOW_METHODS,
                        HeaderValue::from_static(ALLOW_METHODS),
                    ),
                    (
                        header::ACCESS_CONTROL_ALLOW_HEADERS,
                        HeaderValue::from_static(ALLOW_HEADERS),
                    ),
                    (header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE)),
                ],
            )
                .into_response()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::routing::{get, post};
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    fn guarded(concurrency: usize, metrics: Arc<Metrics>) -> Router {
        guarded_with(concurrency, metrics, 100)
    }

    fn guarded_with(concurrency: usize, metrics: Arc<Metrics>, handler_ms: u64) -> Router {
        let guard = GuardLayer::new(GuardConfig {
            metrics,
            concurrency,
            handler_timeout: Duration::from_millis(handler_ms),
            body_timeout: Duration::from_millis(100),
            document_headers: vec![(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"))],
            page_csp: HeaderValue::from_static("default-src 'self'"),
            other_csp: HeaderValue::from_static("default-src 'none'"),
        });
        Router::new()
            .route("/fast", get(|| async { "ok" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/panic", get(|| async { panic!("a handler bug") as &str }))
            .route("/echo", post(|body: String| async move { body }))
            .layer(guard)
    }

    async fn call(router: &Router, request: Request<Body>) -> Response {
        match router.clone().oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        }
    }

    fn get_req(path: &str) -> Request<Body> {
        Request::get(path).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn answers_carry_headers_and_are_counted() {
        let metrics = Arc::new(Metrics::new());
        let router = guarded(4, metrics.clone());
        let r = call(&router, get_req("/fast")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.headers()["content-security-policy"], "default-src 'none'");
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "always: caches");
        let r = call(
            &router,
            Request::get("/fast")
                .header("origin", "https://a.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        let text = metrics.render(1);
        assert!(
            text.contains("alliance_map_http_requests_total{route=\"/fast\",status=\"200\"} 2"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_slow_handler_times_out_and_a_panic_is_a_500_both_counted() {
        let metrics = Arc::new(Metrics::new());
        let router = guarded(4, metrics.clone());
        let started = Instant::now();
        let r = call(&router, get_req("/slow")).await;
        assert_eq!(r.status(), 503);
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let r = call(&router, get_req("/panic")).await;
        assert_eq!(r.status(), 500);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        // The server goes on.
        assert_eq!(call(&router, get_req("/fast")).await.status(), 200);
        let text = metrics.render(1);
        assert!(text.contains("route=\"/slow\",status=\"503\"} 1"), "{text}");
        assert!(text.contains("route=\"/panic\",status=\"500\"} 1"), "{text}");
    }

    #[tokio::test]
    async fn without_permits_requests_are_shed_and_permits_come_back() {
        let metrics = Arc::new(Metrics::new());
        let r = call(&guarded(0, metrics.clone()), get_req("/fast")).await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
        // One permit: used and returned by each request in turn, so none is lost.
        let router = guarded(1, metrics);
        for _ in 0..3 {
            assert_eq!(call(&router, get_req("/fast")).await.status(), 200);
        }
        assert_eq!(call(&router, get_req("/panic")).await.status(), 500);
        assert_eq!(call(&router, get_req("/slow")).await.status(), 503);
        assert_eq!(
            call(&router, get_req("/fast")).await.status(),
            200,
            "permits are returned"
        );
    }

    #[tokio::test]
    async fn a_preflight_is_answered_before_any_handler() {
        let router = guarded(0, Arc::new(Metrics::new()));
        let r = call(
            &router,
            Request::builder()
                .method("OPTIONS")
                .uri("/echo")
                .header("origin", "https://a.example")
                .header("access-control-request-method", "POST")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status(), 200, "answered even with no permits: no handler runs");
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        assert_eq!(r.headers()["access-control-allow-methods"], cors::ALLOW_METHODS);
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_is_cut_off() {
        // The handler may take 5 s: only the body timeout (100 ms) can end this quickly.
        let router = guarded_with(4, Arc::new(Metrics::new()), 5_000);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
        let stream = tokio_stream_from(rx);
        let request = Request::post("/echo").body(Body::from_stream(stream)).unwrap();
        tx.send(Ok(axum::body::Bytes::from_static(b"partial"))).await.unwrap();
        let started = Instant::now();
        let r = call(&router, request).await;
        drop(tx);
        assert!(r.status().is_client_error(), "{}", r.status());
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    /// A stream over a channel's receiver (keeps the test free of extra crates).
    fn tokio_stream_from<T: Send + 'static>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> + Send {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }
}

//! The guard: one tower layer doing, per request, what a stack of generic layers did —
//! load shedding, a handling timeout, a body read timeout, catching panics, counting into
//! the metrics and setting the security headers. Profiled in `benches/http_stack.rs`: the
//! generic stack (tower's load-shed, global concurrency limit and timeout, axum's
//! HandleError, tower-http's catch-panic, set-header ×5 and body timeout, a `from_fn`
//! metrics middleware) cost about 2.9 µs a request, mostly allocations (a boxed future per
//! layer, a boxed body for catch-panic and the body timeout) and a timer per request. Here:
//!
//! - **classes**: a request is *bulk* (POST: bulk lookups, many postcodes) or *single*
//!   (everything else); each class has its own budget of permits, so a flood of one cannot
//!   starve the other;
//! - **shedding**: a permit from the request's class budget, taken with `try_acquire` (no
//!   waiting, no queue); none left → 503 problem with `Retry-After` at once, counted in the
//!   metrics by class and reason;
//! - **bodies outside the budget**: a request with a body has it read here first, *before*
//!   any permit is taken, at a minimum average rate (after a grace) and with an idle limit
//!   between chunks, capped at the API's body size: a client trickling its upload holds a
//!   connection, never a permit. A single GET (no body) skips all of this: its fast path is
//!   unchanged (no allocation, no timer);
//! - **bulk work off the request threads**: bulk handlers run on a small pool of
//!   lower-priority threads ([`bulk_runtime`]), so their CPU time cannot delay single
//!   lookups queued on the request threads; a bulk request over its budget gets its 503
//!   after [`BULK_SHED_DELAY`], which caps how fast a flood can retry;
//! - **timeout**: the handler is polled first and a timer is armed only if it is still
//!   pending (lookups finish on their first poll, so they never touch the timer wheel); the
//!   deadline counts from the handler's start; expired → 503 problem;
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

use axum::body::{Body, Bytes};
use axum::extract::MatchedPath;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, Version};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

use super::paced::{Holding, PacedBody};
use crate::api::error::ApiError;
use crate::metrics::Metrics;

/// What every guarded route shares.
struct Shared {
    metrics: Arc<Metrics>,
    /// Single requests' budget.
    permits: Arc<Semaphore>,
    /// Bulk requests' budget.
    bulk_permits: Arc<Semaphore>,
    /// Streamed requests' budget.
    stream_permits: Arc<Semaphore>,
    /// Route templates whose POST bodies are streamed to the handler, not read first.
    streaming_routes: &'static [&'static str],
    bulk: tokio::runtime::Handle,
    handler_timeout: Duration,
    body_timeout: Duration,
    min_body_rate: u64,
    max_body_bytes: usize,
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
    /// Single requests in handlers at once.
    pub concurrency: usize,
    /// Bulk (POST) requests in handlers at once.
    pub bulk_concurrency: usize,
    /// Threads of the bulk pool (the pool is the process's; the first guard sizes it).
    pub bulk_threads: usize,
    /// Streamed requests (POST to `streaming_routes`) at once, from the handler's start to
    /// the answer's last byte.
    pub stream_concurrency: usize,
    /// Route templates whose POST bodies are streamed to the handler instead of read whole:
    /// they get no body size limit, but the same pacing ([`super::paced::PacedBody`]).
    pub streaming_routes: &'static [&'static str],
    pub handler_timeout: Duration,
    /// Longest pause between body chunks, and the grace before `min_body_rate` applies.
    pub body_timeout: Duration,
    /// Slowest average body rate, bytes a second, after the grace.
    pub min_body_rate: u64,
    /// Largest body read (a larger one is a 413 problem).
    pub max_body_bytes: usize,
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
                bulk_permits: Arc::new(Semaphore::new(config.bulk_concurrency.min(Semaphore::MAX_PERMITS))),
                stream_permits: Arc::new(Semaphore::new(config.stream_concurrency.min(Semaphore::MAX_PERMITS))),
                streaming_routes: config.streaming_routes,
                bulk: bulk_runtime(config.bulk_threads),
                handler_timeout: config.handler_timeout,
                body_timeout: config.body_timeout,
                min_body_rate: config.min_body_rate.max(1),
                max_body_bytes: config.max_body_bytes,
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
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
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
        use http_body::Body as _;
        let class = if request.method() != Method::POST {
            Class::Single
        } else if route
            .as_ref()
            .is_some_and(|r| shared.streaming_routes.contains(&r.as_str()))
        {
            Class::Stream
        } else {
            Class::Bulk
        };
        if class == Class::Stream {
            let version = request.version();
            let Ok(permit) = shared.stream_permits.clone().try_acquire_owned() else {
                return done(closing(shed(&shared, class), version));
            };
            let fut = Box::pin(streamed(shared.clone(), self.inner.clone(), request, permit));
            return GuardFuture {
                state: State::Boxed { fut },
                shared,
                route,
                started,
            };
        }
        if class == Class::Single && request.body().is_end_stream() {
            // The fast path: no body to read, the handler runs here.
            let Ok(permit) = shared.permits.clone().try_acquire_owned() else {
                return done(shed(&shared, class));
            };
            return GuardFuture {
                state: State::Running {
                    inner: self.inner.call(request),
                    deadline: None,
                    permit: Some(permit),
                },
                shared,
                route,
                started,
            };
        }
        // A full budget now will most likely be full once the body is in: shed before
        // reading it rather than after.
        if shared.budget(class).available_permits() == 0 {
            let version = request.version();
            if class == Class::Bulk {
                // A bulk flood retries as fast as it is refused: answering its 503s a moment
                // later caps its retry rate (connections / delay) and so the request threads'
                // time it takes, without holding a permit or reading its body.
                let later = shared.clone();
                return GuardFuture {
                    state: State::Boxed {
                        fut: Box::pin(async move {
                            tokio::time::sleep(BULK_SHED_DELAY).await;
                            closing(shed(&later, class), version)
                        }),
                    },
                    shared,
                    route,
                    started,
                };
            }
            return done(closing(shed(&shared, class), version));
        }
        // The inner service is a router's route: always ready, cheap to clone.
        let inner = self.inner.clone();
        let fut = Box::pin(with_body(shared.clone(), inner, request, class));
        GuardFuture {
            state: State::Boxed { fut },
            shared,
            route,
            started,
        }
    }
}

/// How long a bulk request over its budget waits for its 503.
pub const BULK_SHED_DELAY: Duration = Duration::from_millis(100);

/// The request classes, each with its own budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Single,
    Bulk,
    /// A POST to a streaming route: its body goes to the handler as it arrives.
    Stream,
}

impl Class {
    fn label(self) -> &'static str {
        match self {
            Class::Single => "single",
            Class::Bulk => "bulk",
            Class::Stream => "stream",
        }
    }
}

impl Shared {
    fn budget(&self, class: Class) -> &Arc<Semaphore> {
        match class {
            Class::Single => &self.permits,
            Class::Bulk => &self.bulk_permits,
            Class::Stream => &self.stream_permits,
        }
    }
}

/// The 503 for a request over its class's budget, counted.
fn shed(shared: &Shared, class: Class) -> Response {
    shared.metrics.count_shed(class.label(), "capacity");
    ApiError::Overloaded {
        detail: "the server is at capacity; retry in a moment".into(),
    }
    .into_response()
}

/// The 503 for a handler past its deadline, counted.
fn timed_out(shared: &Shared, class: Class) -> Response {
    shared.metrics.count_shed(class.label(), "timeout");
    ApiError::Overloaded {
        detail: "the request took too long to handle".into(),
    }
    .into_response()
}

/// A request with a body: read it without a permit, then take one from the class budget and
/// run the handler (bulk ones on the bulk pool) within the handler timeout.
async fn with_body<S>(shared: Arc<Shared>, inner: S, request: Request<Body>, class: Class) -> Response
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let bytes = match read_body(&shared, body, declared).await {
        Ok(bytes) => bytes,
        Err(problem) => return closing(problem.into_response(), parts.version),
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    let Ok(permit) = shared.budget(class).clone().try_acquire_owned() else {
        return shed(&shared, class);
    };
    use tower::ServiceExt;
    let deadline = tokio::time::Instant::now() + shared.handler_timeout;
    match class {
        // (A streamed request never reaches here: `streamed` runs it.)
        Class::Single | Class::Stream => {
            let handled = tokio::time::timeout_at(deadline, inner.oneshot(request)).await;
            drop(permit);
            match handled {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => timed_out(&shared, class),
            }
        }
        Class::Bulk => {
            // The permit goes with the job: the budget counts work actually running, even
            // past a timeout (a CPU-bound handler cannot be stopped halfway).
            let job = shared.bulk.spawn(async move {
                let _permit = permit;
                inner.oneshot(request).await
            });
            let abort = job.abort_handle();
            match tokio::time::timeout_at(deadline, job).await {
                Ok(Ok(Ok(response))) => response,
                Ok(Ok(Err(never))) => match never {},
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "a bulk handler failed; answered 500");
                    ApiError::Internal {
                        detail: "the server failed to handle this request".into(),
                    }
                    .into_response()
                }
                Err(_) => {
                    abort.abort();
                    timed_out(&shared, class)
                }
            }
        }
    }
}

/// A streamed request: its body paced ([`PacedBody`]) instead of read first, the handler
/// within the handler timeout (it answers once it has checked the start of the input), and
/// the permit kept by the answer's body until its last byte is sent or the client goes.
async fn streamed<S>(shared: Arc<Shared>, inner: S, request: Request<Body>, permit: OwnedSemaphorePermit) -> Response
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let version = request.version();
    let request = request.map(|body| Body::new(PacedBody::new(body, shared.body_timeout, shared.min_body_rate)));
    use tower::ServiceExt;
    let deadline = tokio::time::Instant::now() + shared.handler_timeout;
    match tokio::time::timeout_at(deadline, inner.oneshot(request)).await {
        Ok(Ok(response)) => {
            let unread = !response.status().is_success();
            let response = response.map(|body| Body::new(Holding::new(body, permit)));
            // A refusal (a bad header, say) leaves the rest of the upload unread.
            if unread {
                closing(response, version)
            } else {
                response
            }
        }
        Ok(Err(never)) => match never {},
        Err(_) => closing(timed_out(&shared, Class::Stream), version),
    }
}

/// `response` to a request whose body is left unread. On HTTP/1 the rest of that body makes
/// the connection unusable and hyper closes it; saying so keeps a client's pool from sending
/// its next request down a socket about to close. (HTTP/2 resets just the stream.)
fn closing(mut response: Response, version: Version) -> Response {
    if version < Version::HTTP_2 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads a request body whole: at most `max_body_bytes`, with at most `body_timeout` between
/// chunks, and arriving at `min_body_rate` on average after a grace of `body_timeout`.
async fn read_body(shared: &Shared, mut body: Body, declared: Option<u64>) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    let limit = shared.max_body_bytes;
    let too_large = || ApiError::PayloadTooLarge {
        detail: format!("request body is larger than {limit} bytes"),
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let started = tokio::time::Instant::now();
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    loop {
        let earned = Duration::from_secs_f64(buf.len() as f64 / shared.min_body_rate as f64);
        let deadline = (started + shared.body_timeout + earned).min(tokio::time::Instant::now() + shared.body_timeout);
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(ApiError::RequestTimeout {
                    detail: format!(
                        "the request body arrived too slowly (at least {} bytes a second after {} s)",
                        shared.min_body_rate,
                        shared.body_timeout.as_secs_f64()
                    ),
                })
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(ApiError::body(None, format!("could not read the request body: {e}"))),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// The process's pool for bulk handlers: `threads` threads (fixed by the first caller) at a
/// lower CPU priority (nice 5: about a third of a request thread's weight), so that under a
/// bulk flood the request threads, which answer single lookups, get the CPU first, while an
/// ordinary mix of bulk and single requests still gets its bulk work done. Process-wide and never dropped: a tokio
/// runtime may not be dropped from async code, where a server's router ends.
pub fn bulk_runtime(threads: usize) -> tokio::runtime::Handle {
    static BULK: std::sync::OnceLock<Option<tokio::runtime::Runtime>> = std::sync::OnceLock::new();
    let runtime = BULK.get_or_init(|| {
        let nice = crate::priority::bulk_nice();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("bulk")
            .enable_all()
            .on_thread_start(move || crate::priority::lower_this_thread(nice))
            .build()
            .map_err(
                |e| tracing::error!(error = %e, "cannot start the bulk pool; bulk requests run on the request threads"),
            )
            .ok()
    });
    match runtime {
        Some(rt) => rt.handle().clone(),
        // Without a pool of its own, bulk work shares the request threads.
        None => tokio::runtime::Handle::current(),
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
        // A request with a body (see `with_body`): its own future, boxed.
        Boxed { fut: Pin<Box<dyn Future<Output = Response> + Send>> },
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
            StateProj::Boxed { fut } => match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(response)) => response,
                Err(_) => {
                    tracing::error!("a handler panicked; answered 500");
                    ApiError::Internal {
                        detail: "the server failed to handle this request".into(),
                    }
                    .into_response()
                }
            },
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
                        timed_out(this.shared, Class::Single)
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
        let response_status = response.status();
        let headers = response.headers_mut();
        // Pages, and scripts (a worker script's own CSP governs the worker: MapLibre's worker
        // fetches the map's data), get the page policy.
        let document = match headers.get(header::CONTENT_TYPE) {
            Some(ct) => {
                let ct = ct.as_bytes();
                ct.starts_with(b"text/html") || ct.starts_with(b"text/javascript")
            }
            // A 304 carries no content type, but the browser stores its headers over the cached
            // ones: a revalidated page or worker script must keep the page policy, or the
            // worker (MapLibre's) could fetch nothing on the next visit.
            None => {
                response_status == axum::http::StatusCode::NOT_MODIFIED
                    && route.is_some_and(|m| matches!(m.as_str(), "/" | "/docs" | "/assets/{name}"))
            }
        };
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
            bulk_concurrency: concurrency,
            bulk_threads: 1,
            stream_concurrency: concurrency,
            streaming_routes: &["/stream"],
            handler_timeout: Duration::from_millis(handler_ms),
            body_timeout: Duration::from_millis(100),
            min_body_rate: 1024,
            max_body_bytes: 1 << 16,
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
        assert_eq!(
            r.headers()["connection"],
            "close",
            "the unread rest makes the socket unusable"
        );
    }

    #[tokio::test]
    async fn a_body_refused_unread_closes_an_http1_connection_only() {
        let router = guarded(4, Arc::new(Metrics::new()));
        let oversized = |version| {
            Request::post("/echo")
                .version(version)
                .header("content-length", (1 << 17).to_string())
                .body(Body::from(vec![b'x'; 1 << 17]))
                .unwrap()
        };
        let r = call(&router, oversized(Version::HTTP_11)).await;
        assert_eq!(r.status(), 413);
        assert_eq!(r.headers()["connection"], "close");
        let r = call(&router, oversized(Version::HTTP_2)).await;
        assert_eq!(r.status(), 413);
        assert!(r.headers().get("connection").is_none(), "not allowed in HTTP/2");
        let r = call(&router, Request::post("/echo").body(Body::from("ok")).unwrap()).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers().get("connection").is_none(),
            "a body read whole keeps the connection"
        );
    }

    /// A stream over a channel's receiver (keeps the test free of extra crates).
    fn tokio_stream_from<T: Send + 'static>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> + Send {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }
}

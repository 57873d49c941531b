//! In-process stack tier: the public routes inside the protection stack
//! (`server::protect`: security headers, CORS, metrics, load shedding) and the admin router
//! (`server::admin`: `/metrics`, `/admin/reload`), driven with `tower::ServiceExt::oneshot`
//! on the synthetic dataset. Each test builds its own state, so the metrics it reads are its
//! own. What needs real sockets (header timeouts, slow bodies, graceful drain, signals) stays
//! in `hardening.rs`.

#[path = "support/mod.rs"]
mod support;

use alliance_map::api::{app, AppState};
use alliance_map::server::admin::{self, AdminState};
use alliance_map::server::protect::content_security_policy;
use alliance_map::server::{protect, Limits};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::Router;
use serde_json::json;
use support::{assert_problem, assert_problem_says, post_json_to, request, send, Names, Reply};

/// A state of its own (own metrics) over the synthetic boundaries: the stack does not need
/// postcodes.
fn own_state() -> AppState {
    AppState::new(support::load_boundaries())
}

/// The public app as `server::run` wires it, over `state`.
fn protected(state: &AppState, limits: &Limits) -> Router {
    protect(
        app(state.clone()),
        state.metrics.clone(),
        limits,
        &content_security_policy(None),
    )
}

fn admin_router(state: &AppState) -> Router {
    admin::app(AdminState {
        app: state.clone(),
        reloader: None,
        reload_wait: std::time::Duration::from_secs(1),
    })
}

async fn get(router: &Router, path: &str) -> Reply {
    send(router.clone(), request(Method::GET, path, &[], Body::empty())).await
}

/// The admin listener's `/metrics` text.
async fn metrics(state: &AppState) -> String {
    let r = get(&admin_router(state), "/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics text: {text}");
    text
}

/// The value of the sample line starting with `series` (`name{labels}`), if any.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// The security headers. Pages and scripts (a worker script's CSP governs the worker) get the
/// page CSP (this origin only); everything else, never rendered as a document, a CSP that
/// allows nothing. Neither may be framed.
fn assert_security_headers(r: &Reply, what: &str) {
    let csp = r.header("content-security-policy");
    let ct = r.content_type();
    if ct.starts_with("text/html") || ct.starts_with("text/javascript") {
        assert_eq!(csp, content_security_policy(None), "{what}");
    } else {
        assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    }
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains('*') && !csp.contains("unsafe"), "{what}: {csp}");
    assert_eq!(r.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(r.header("access-control-allow-origin"), "*", "{what}");
    // Only what is rendered or run needs these (a JSON answer's CSP already forbids framing and
    // loading anything); each costs every answer its bytes.
    let document_only = [
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cross-origin-resource-policy", "cross-origin"),
    ];
    let document = ct.starts_with("text/html") || ct.starts_with("text/javascript");
    for (name, value) in document_only {
        if document {
            assert_eq!(r.header(name), value, "{what}");
        } else {
            assert!(r.headers.get(name).is_none(), "{what}: {name} on a non-document");
        }
    }
    // Exposed only where there is something to expose.
    let exposable = r.headers.contains_key("etag") || r.headers.contains_key("retry-after");
    assert_eq!(
        r.headers.contains_key("access-control-expose-headers"),
        exposable,
        "{what}"
    );
    assert!(r.headers.get("server").is_none(), "{what}: no banner");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let state = own_state();
    let router = protected(&state, &Limits::default());
    for (path, status) in [
        ("/api/v1/lookup?lon=11&lat=50.5", 200),
        ("/", 200),
        ("/docs", 200),
        ("/assets/app.js", 200),
        ("/api/v1/boundaries/stps.geojson", 200),
        ("/api/v1/lookup?lon=x&lat=50.5", 400),
        ("/api/v1/alliances/E56900099", 404),
        ("/nope", 404),
        ("/metrics", 404),
    ] {
        let r = get(&router, path).await;
        assert_eq!(r.status.as_u16(), status, "{path}: {}", r.text());
        assert_security_headers(&r, path);
    }
    let r = send(
        router.clone(),
        request(Method::DELETE, "/api/v1/lookup", &[], Body::empty()),
    )
    .await;
    assert_problem(&r, 405, Names::Nothing);
    assert_security_headers(&r, "405");
    // A configured basemap's origin is allowed for images and fetches, nothing else.
    let csp = content_security_policy(Some("https://tiles.example"));
    assert!(
        csp.contains("img-src 'self' data: blob: https://tiles.example"),
        "{csp}"
    );
    assert!(csp.contains("connect-src 'self' https://tiles.example"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
}

#[tokio::test]
async fn the_stack_answers_like_the_bare_routes() {
    let state = support::fresh_state();
    let router = protected(&state, &Limits::default());
    for path in [
        "/api/v1/lookup?lon=12.995&lat=51.5",
        "/api/v1/postcodes/ZZ3%201AB",
        "/api/v1/lookup?lon=11&lat=91",
    ] {
        let through_stack = get(&router, path).await;
        let bare = support::get(path).await;
        assert_eq!(through_stack.status, bare.status, "{path}");
        assert_eq!(through_stack.json, bare.json, "{path}");
        assert!(!bare.json.is_null(), "{path}");
    }
    let body = json!({"points": [{"lon": 11.0, "lat": 50.5, "id": "a"}]}).to_string();
    let r = post_json_to(router, "/api/v1/lookup", body).await;
    assert_eq!(r.ok_json()["results"][0]["id"], "a");
}

#[tokio::test]
async fn cors_is_open_without_credentials() {
    let state = own_state();
    let router = protected(&state, &Limits::default());
    let preflight = request(
        Method::OPTIONS,
        "/api/v1/lookup",
        &[
            ("origin", "https://example.org"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        Body::empty(),
    );
    let r = send(router.clone(), preflight).await;
    assert!(r.status.is_success(), "{}: {}", r.status, r.text());
    assert_eq!(r.header("access-control-allow-origin"), "*");
    let methods = r.header("access-control-allow-methods").to_uppercase();
    assert!(methods.contains("GET") && methods.contains("POST"), "{methods}");
    assert!(!methods.contains("DELETE"), "{methods}");
    assert!(
        r.header("access-control-allow-headers")
            .to_lowercase()
            .contains("content-type"),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header("access-control-max-age"), "3600");
    assert!(r.headers.get("access-control-allow-credentials").is_none());
    assert_security_headers(&r, "preflight");

    let r = send(
        router,
        request(
            Method::GET,
            "/api/v1/boundaries/alliances.geojson",
            &[("origin", "https://example.org")],
            Body::empty(),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), "*");
    let exposed = r.header("access-control-expose-headers").to_lowercase();
    assert!(exposed.contains("etag") && exposed.contains("retry-after"), "{exposed}");
    assert!(r.headers.get("access-control-allow-credentials").is_none());
}

/// The protected app with no capacity at all: every request is shed.
fn shedding_everything(state: &AppState) -> Router {
    protected(
        state,
        &Limits {
            concurrency: 0,
            ..Limits::default()
        },
    )
}

#[tokio::test]
async fn over_capacity_requests_are_shed_with_503_and_retry_after() {
    let state = own_state();
    let router = shedding_everything(&state);
    for path in ["/api/v1/lookup?lon=11&lat=50.5", "/healthz", "/api/v1/alliances"] {
        let r = get(&router, path).await;
        assert_problem_says(&r, 503, Names::Nothing, "capacity");
        assert_eq!(r.json["type"], "/docs#problem-overloaded", "{path}");
        assert_eq!(r.header("retry-after"), "1", "{path}");
        assert_security_headers(&r, path);
    }
    let m = metrics(&state).await;
    assert_eq!(
        sample(
            &m,
            "alliance_map_http_requests_total{route=\"/api/v1/lookup\",status=\"503\"}"
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            "alliance_map_http_requests_total{route=\"/healthz\",status=\"503\"}"
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        sample(&m, "alliance_map_lookups_total{match=\"contains\"}"),
        Some(0.0),
        "shed, not looked up"
    );
}

#[tokio::test]
async fn shed_requests_are_counted() {
    let state = own_state();
    let router = shedding_everything(&state);
    for _ in 0..3 {
        let r = get(&router, "/api/v1/lookup?lon=11&lat=50.5").await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    }
    let m = metrics(&state).await;
    assert_eq!(
        sample(
            &m,
            "alliance_map_http_requests_total{route=\"/api/v1/lookup\",status=\"503\"}"
        ),
        Some(3.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            "alliance_map_http_requests_total{route=\"/api/v1/lookup\",status=\"200\"}"
        ),
        None,
        "{m}"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_lookups_by_match() {
    let state = own_state();
    let router = protected(&state, &Limits::default());
    let before = metrics(&state).await;
    assert_eq!(
        sample(&before, "alliance_map_lookups_total{match=\"contains\"}"),
        Some(0.0),
        "{before}"
    );
    assert_eq!(sample(&before, "alliance_map_data_version"), Some(1.0), "{before}");

    // GET: contains, contains, outside (sea), outside (Scotland); and one 400.
    for (query, status) in [
        ("lon=11&lat=50.5", 200),
        ("lon=12&lat=51.5", 200),
        ("lon=14&lat=51", 200),
        ("lon=11&lat=52.5", 200),
        ("lon=x&lat=50.5", 400),
    ] {
        let r = get(&router, &format!("/api/v1/lookup?{query}")).await;
        assert_eq!(r.status.as_u16(), status, "{query}");
    }
    // POST: nearest (coastal gap), nearest (lake shore), contains; counted per point.
    let body = json!({"points": [
        {"lon": 12.995, "lat": 51.5}, {"lon": 10.41, "lat": 51.5}, {"lon": 10.2, "lat": 51.5},
    ]})
    .to_string();
    let r = post_json_to(router.clone(), "/api/v1/lookup", body).await;
    assert_eq!(r.status, StatusCode::OK);
    for path in ["/api/v1/alliances/E56900001", "/api/v1/alliances/E56900099", "/nope"] {
        get(&router, path).await;
    }

    let m = metrics(&state).await;
    for (series, value) in [
        // Route templates, never request paths: GET and POST share the lookup route.
        (
            "alliance_map_http_requests_total{route=\"/api/v1/lookup\",status=\"200\"}",
            5.0,
        ),
        (
            "alliance_map_http_requests_total{route=\"/api/v1/lookup\",status=\"400\"}",
            1.0,
        ),
        (
            "alliance_map_http_requests_total{route=\"/api/v1/alliances/{code}\",status=\"200\"}",
            1.0,
        ),
        (
            "alliance_map_http_requests_total{route=\"/api/v1/alliances/{code}\",status=\"404\"}",
            1.0,
        ),
        (
            "alliance_map_http_request_duration_seconds_count{route=\"/api/v1/lookup\"}",
            6.0,
        ),
        ("alliance_map_lookups_total{match=\"contains\"}", 3.0),
        ("alliance_map_lookups_total{match=\"nearest\"}", 2.0),
        ("alliance_map_lookups_total{match=\"outside\"}", 2.0),
        ("alliance_map_data_version", 1.0),
    ] {
        assert_eq!(sample(&m, series), Some(value), "{series} in\n{m}");
    }
    assert!(
        !m.contains("E56900099") && !m.contains("/nope"),
        "no request text in labels:\n{m}"
    );
    // A request no route matched is counted under a fixed label.
    assert_eq!(
        sample(
            &m,
            "alliance_map_http_requests_total{route=\"(unmatched)\",status=\"404\"}"
        ),
        Some(1.0),
        "{m}"
    );
}

#[tokio::test]
async fn the_admin_router_serves_operations_only() {
    let state = own_state();
    let admin = admin_router(&state);
    let r = get(&admin, "/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.content_type().starts_with("application/openmetrics-text"),
        "{}",
        r.content_type()
    );
    assert!(
        r.text().contains("# TYPE alliance_map_http_requests counter"),
        "{}",
        r.text()
    );

    let r = send(
        admin.clone(),
        request(Method::POST, "/admin/reload", &[], Body::empty()),
    )
    .await;
    assert_problem_says(&r, 503, Names::Nothing, "reload");
    assert_eq!(r.json["type"], "/docs#problem-unavailable");

    let r = get(&admin, "/healthz").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "ok\n"));
    assert_problem_says(&get(&admin, "/admin/reload").await, 503, Names::Nothing, "reload");
    let r = send(
        admin.clone(),
        request(Method::DELETE, "/admin/reload", &[], Body::empty()),
    )
    .await;
    assert_problem(&r, 405, Names::Nothing);
    assert_problem(
        &get(&admin, "/api/v1/lookup?lon=11&lat=50.5").await,
        404,
        Names::Nothing,
    );
    // Still one generation: nothing was reloaded.
    assert_eq!(
        sample(&metrics(&state).await, "alliance_map_reloads_total{outcome=\"ok\"}"),
        Some(0.0)
    );
}

/// A revalidated page or script (304, no content type) keeps the page policy: the browser
/// stores a 304's headers over the cached ones, and a worker script whose stored policy
/// became `default-src 'none'` could fetch no tile on the next visit.
#[tokio::test]
async fn revalidated_pages_and_scripts_keep_the_page_policy() {
    let state = support::fresh_state();
    let router = protected(&state, &Limits::default());
    for path in ["/", "/assets/maplibre-gl-csp-worker.js", "/assets/app.js"] {
        let first = get(&router, path).await;
        assert_eq!(first.status, StatusCode::OK, "{path}");
        let etag = first.header("etag").to_string();
        let again = send(
            router.clone(),
            request(Method::GET, path, &[("if-none-match", &etag)], Body::empty()),
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(
            again.header("content-security-policy"),
            content_security_policy(None),
            "{path}"
        );
    }
    // A revalidated JSON document keeps the policy that allows nothing.
    let first = get(&router, "/api/v1/config").await;
    let etag = first.header("etag").to_string();
    let again = send(
        router.clone(),
        request(
            Method::GET,
            "/api/v1/config",
            &[("if-none-match", &etag)],
            Body::empty(),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.header("content-security-policy").contains("default-src 'none'"));
}

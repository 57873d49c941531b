//! Shared by the in-process test tier (`inprocess_api`, `inprocess_stack`, `openapi_snapshot`):
//! the synthetic dataset in `tests/synthetic/` loaded once per test binary, and helpers that
//! send requests straight into a `Router` with `tower::ServiceExt::oneshot` — no socket, no
//! real data.
//!
//! Include it with `#[path = "support/mod.rs"] mod support;`.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;
use std::sync::OnceLock;

use alliance_map::api::{app, AppState};
use alliance_map::atlas::{Atlas, Options, PostcodeOptions, PostcodeSource};
use alliance_map::model::Manifest;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Live postcodes in `postcodes-synthetic.csv` (12 rows, one of them terminated).
pub const SYNTHETIC_POSTCODES: u64 = 11;

/// `tests/synthetic/`.
pub fn synthetic_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/synthetic")
}

pub fn manifest_path() -> PathBuf {
    synthetic_dir().join("manifest-synthetic.toml")
}

/// The synthetic dataset's manifest, read independently of the service.
pub fn manifest() -> Manifest {
    Manifest::from_file(&manifest_path()).expect("the synthetic manifest reads")
}

/// A fresh atlas of the synthetic data with its postcodes. The postcode index is imported into
/// a temporary cache that is removed once loaded (the index lives in memory), so every test
/// process imports it afresh from the current code.
pub fn load_atlas() -> Atlas {
    let dir = synthetic_dir();
    let cache = tempfile::tempdir().expect("temp dir");
    let options = Options {
        manifest: Some(manifest_path()),
        postcodes: Some(PostcodeOptions {
            source: PostcodeSource::Default,
            cache_dir: cache.path().to_path_buf(),
        }),
        ..Options::default()
    };
    let atlas = Atlas::load(&alliance_map::model::DataSource::Dir(dir.to_path_buf()), &options)
        .expect("the synthetic data and postcodes load");
    assert!(
        atlas.postcodes.is_some(),
        "the synthetic manifest names its postcode file"
    );
    atlas
}

/// The synthetic boundaries alone: the postcode endpoints answer 503.
pub fn load_boundaries() -> Atlas {
    Atlas::load_boundaries_with(&synthetic_dir(), manifest(), 2000.0).expect("the synthetic data loads")
}

/// State over [`load_atlas`] with metrics of its own (for tests that count).
pub fn fresh_state() -> AppState {
    AppState::new(load_atlas())
}

/// The state shared by the tests of one binary (its metrics are shared too: do not count them).
pub fn state() -> &'static AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE.get_or_init(fresh_state)
}

/// The public routes (`api::app`) over [`state`], without the protection stack.
pub fn api() -> Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| app(state().clone())).clone()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The body parsed as JSON, or `Null` when it is not JSON.
    pub json: Value,
}

impl Reply {
    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn content_type(&self) -> &str {
        self.header(header::CONTENT_TYPE.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn detail(&self) -> &str {
        self.json["detail"].as_str().unwrap_or("")
    }

    /// Asserts a 200 `application/json` answer and returns its body.
    pub fn ok_json(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text());
        assert_eq!(self.content_type(), "application/json", "{}", self.text());
        assert!(!self.json.is_null(), "a JSON body");
        &self.json
    }
}

/// Sends `request` to `router` in-process and reads the whole response.
pub async fn send(router: Router, request: Request<Body>) -> Reply {
    let response = router.oneshot(request).await.expect("routers are infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("the body reads").to_bytes();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
        json,
    }
}

/// A request with headers and a body.
/// POSTs a JSON body to `path` of `router`.
pub async fn post_json_to(router: Router, path: &str, body: String) -> Reply {
    send(
        router,
        request(Method::POST, path, &[("content-type", "application/json")], body),
    )
    .await
}

pub fn request(method: Method, path: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body.into()).expect("a valid request")
}

/// `GET path` on [`api`].
pub async fn get(path: &str) -> Reply {
    get_with(path, &[]).await
}

/// `GET path` with request headers on [`api`].
pub async fn get_with(path: &str, headers: &[(&str, &str)]) -> Reply {
    send(api(), request(Method::GET, path, headers, Body::empty())).await
}

/// `method path` with no body on [`api`].
pub async fn call(method: Method, path: &str) -> Reply {
    send(api(), request(method, path, &[], Body::empty())).await
}

/// `POST path` with a JSON body (`Content-Type: application/json`) on [`api`].
pub async fn post_json(path: &str, body: impl Into<Body>) -> Reply {
    post(path, body, Some("application/json")).await
}

/// `POST path` with `body` and an optional content type on [`api`].
pub async fn post(path: &str, body: impl Into<Body>, content_type: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = content_type.map(|ct| ("content-type", ct)).into_iter().collect();
    send(api(), request(Method::POST, path, &headers, body)).await
}

/// What a problem must name.
#[derive(Debug, Clone, Copy)]
pub enum Names<'a> {
    /// A query or path parameter (`parameter`), and no `pointer`.
    Parameter(&'a str),
    /// A JSON Pointer into the body (`pointer`), and no `parameter`.
    Pointer(&'a str),
    /// Neither.
    Nothing,
}

/// The problem `type` and `title` for a status (503 is `unavailable` or `overloaded`).
fn kinds(status: u16) -> &'static [(&'static str, &'static str)] {
    match status {
        400 => &[("invalid-parameter", "Invalid parameter")],
        404 => &[("not-found", "Not found")],
        405 => &[("method-not-allowed", "Method not allowed")],
        409 => &[("conflict", "Conflict")],
        413 => &[("payload-too-large", "Request too large")],
        415 => &[("unsupported-media-type", "Unsupported media type")],
        422 => &[("invalid-body", "Invalid request body")],
        500 => &[("internal", "Internal error")],
        503 => &[
            ("unavailable", "Service unavailable"),
            ("overloaded", "Server overloaded"),
        ],
        other => panic!("no problem type is defined for status {other}"),
    }
}

/// Asserts an RFC 9457 `application/problem+json` answer with `status`, its `type` and
/// `title`, a non-empty `detail`, and the field it names.
pub fn assert_problem(reply: &Reply, status: u16, names: Names) {
    let body = &reply.json;
    assert_eq!(reply.status.as_u16(), status, "status of {}", reply.text());
    assert_eq!(reply.content_type(), "application/problem+json", "{}", reply.text());
    assert_eq!(body["status"], status, "{body}");
    let (type_, title) = (
        body["type"].as_str().unwrap_or(""),
        body["title"].as_str().unwrap_or(""),
    );
    assert!(
        kinds(status)
            .iter()
            .any(|(slug, t)| type_ == format!("/docs#problem-{slug}") && title == *t),
        "type {type_:?} and title {title:?} for status {status}: {body}"
    );
    assert!(!reply.detail().is_empty(), "a detail: {body}");
    let (parameter, pointer) = (body.get("parameter"), body.get("pointer"));
    match names {
        Names::Parameter(p) => {
            assert_eq!(parameter, Some(&Value::from(p)), "parameter: {body}");
            assert_eq!(pointer, None, "no pointer: {body}");
        }
        Names::Pointer(p) => {
            assert_eq!(pointer, Some(&Value::from(p)), "pointer: {body}");
            assert_eq!(parameter, None, "no parameter: {body}");
        }
        Names::Nothing => assert!(parameter.is_none() && pointer.is_none(), "names nothing: {body}"),
    }
}

/// Asserts a problem whose detail mentions `says` (case-insensitively: wording is loose).
pub fn assert_problem_says(reply: &Reply, status: u16, names: Names, says: &str) {
    assert_problem(reply, status, names);
    assert!(
        reply.detail().to_lowercase().contains(&says.to_lowercase()),
        "detail {:?} should mention {says:?}",
        reply.detail()
    );
}

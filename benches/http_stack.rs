//! CPU per request of the HTTP stack, in process (no sockets): a bare axum router answering a
//! fixed JSON body of a lookup's size, the API's routes alone (`api::app`), and the API behind
//! the protection stack (`server::protect`, what `serve` runs). Each request is a single
//! lookup at a random point in England's bounding box, read to the end of its body.
//! Run: `cargo bench --bench http_stack`. Results and method: docs/PERFORMANCE.md.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use alliance_map::api::{self, AppState};
use alliance_map::atlas::Atlas;
use alliance_map::server::{self, Limits};
use axum::body::Body;
use axum::http::{header, Request};
use axum::routing::get;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng};
use tower::ServiceExt;

const BODY: &str = r#"{"lon":-1.5492,"lat":53.7997,"match":"contains","distance_m":0.0,"alliance":{"code":"E56000003","name":"West Yorkshire","kind":"cancer_alliance"},"stp":{"code":"E54000005","name":"West Yorkshire"},"country":"England"}"#;

fn data_dir() -> PathBuf {
    std::env::var_os("ALLIANCE_MAP_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

fn uris(n: usize) -> Vec<String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    (0..n)
        .map(|_| {
            let lon = rng.gen_range(-6.42..1.77);
            let lat = rng.gen_range(49.86..55.82);
            format!("/api/v1/lookup?lon={lon:.5}&lat={lat:.5}")
        })
        .collect()
}

/// Time for `iters` requests through `router`, cycling through `uris`.
fn run(rt: &tokio::runtime::Runtime, router: &Router, uris: &[String], iters: u64) -> Duration {
    rt.block_on(async {
        let started = Instant::now();
        for i in 0..iters as usize {
            let request = Request::get(&uris[i % uris.len()])
                .body(Body::empty())
                .expect("request");
            let response = router.clone().oneshot(request).await.expect("infallible");
            let body = response.into_body().collect().await.expect("body").to_bytes();
            std::hint::black_box(body);
        }
        started.elapsed()
    })
}

fn bench_stack(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let atlas = Atlas::load_boundaries(&data_dir(), 2000.0).expect("data loads");
    atlas.locator().grid();
    let state = AppState::new(atlas);
    let uris = uris(10_000);
    let bare = Router::new().route(
        "/api/v1/lookup",
        get(|| async { ([(header::CONTENT_TYPE, "application/json")], BODY) }),
    );
    let routes = api::app(state.clone());
    let csp = server::protect::content_security_policy(None);
    let protected = server::protect(api::app(state.clone()), state.metrics.clone(), &Limits::default(), &csp);
    let mut g = c.benchmark_group("http_stack");
    for (name, router) in [
        ("bare_fixed_body", &bare),
        ("api_routes", &routes),
        ("protected", &protected),
    ] {
        g.bench_function(name, |b| b.iter_custom(|iters| run(&rt, router, &uris, iters)));
    }
    g.finish();
}

criterion_group!(benches, bench_stack);
criterion_main!(benches);

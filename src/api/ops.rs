//! Operations: `/readyz`, `/metrics` (Prometheus text format), and data reload without
//! downtime (`POST /admin/reload` from loopback, or SIGHUP).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::error::ApiError;
use super::AppState;
use crate::locate::MatchKind;

/// Latency histogram bucket bounds, seconds.
const BUCKETS: [f64; 10] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0];

#[derive(Default)]
struct RouteStats {
    /// Count per status code.
    statuses: BTreeMap<u16, u64>,
    /// Cumulative counts per bucket, plus +Inf.
    buckets: [u64; BUCKETS.len() + 1],
    sum_seconds: f64,
}

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
    lookups: [AtomicU64; 3],
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

impl Metrics {
    pub fn count_lookup(&self, kind: MatchKind) {
        self.lookups[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn record(&self, route: &str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else { return };
        let stats = routes.entry(route.to_string()).or_default();
        *stats.statuses.entry(status).or_default() += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                stats.buckets[i] += 1;
            }
        }
        stats.buckets[BUCKETS.len()] += 1;
        stats.sum_seconds += seconds;
    }

    fn render(&self, version: u64) -> String {
        let mut out = String::new();
        out += "# HELP alliance_map_http_requests_total HTTP requests by route and status.\n";
        out += "# TYPE alliance_map_http_requests_total counter\n";
        let routes = self.routes.lock().map(|r| {
            r.iter()
                .map(|(k, v)| (k.clone(), v.statuses.clone(), v.buckets, v.sum_seconds))
                .collect::<Vec<_>>()
        });
        let routes = routes.unwrap_or_default();
        for (route, statuses, _, _) in &routes {
            for (status, n) in statuses {
                let _ = writeln!(
                    out,
                    "alliance_map_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out += "# HELP alliance_map_http_request_duration_seconds Time to produce a response, by route.\n";
        out += "# TYPE alliance_map_http_request_duration_seconds histogram\n";
        for (route, _, buckets, sum) in &routes {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "alliance_map_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    buckets[i]
                );
            }
            let total = buckets[BUCKETS.len()];
            let _ = writeln!(
                out,
                "alliance_map_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {total}"
            );
            let _ = writeln!(
                out,
                "alliance_map_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "alliance_map_http_request_duration_seconds_count{{route=\"{route}\"}} {total}"
            );
        }
        out += "# HELP alliance_map_lookups_total Point lookups by match kind.\n# TYPE alliance_map_lookups_total counter\n";
        for (i, kind) in ["contains", "nearest", "outside"].iter().enumerate() {
            let _ = writeln!(
                out,
                "alliance_map_lookups_total{{match=\"{kind}\"}} {}",
                self.lookups[i].load(Ordering::Relaxed)
            );
        }
        out += "# HELP alliance_map_data_version Generation of the loaded data (1 at start, +1 per reload).\n# TYPE alliance_map_data_version gauge\n";
        let _ = writeln!(out, "alliance_map_data_version {version}");
        out +=
            "# HELP alliance_map_reloads_total Data reloads by outcome.\n# TYPE alliance_map_reloads_total counter\n";
        let _ = writeln!(
            out,
            "alliance_map_reloads_total{{outcome=\"ok\"}} {}",
            self.reloads_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "alliance_map_reloads_total{{outcome=\"failed\"}} {}",
            self.reloads_failed.load(Ordering::Relaxed)
        );
        out
    }
}

/// Middleware: counts each request by its route template and status, with its latency.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .ops
        .metrics
        .record(&route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// Shared operational state.
pub struct Ops {
    pub metrics: Metrics,
    pub version: AtomicU64,
    /// Builds a new data generation; `None` where reload is not configured.
    pub reloader: Option<Box<dyn Fn() -> Result<crate::service::Service, String> + Send + Sync>>,
    reloading: tokio::sync::Mutex<()>,
}

impl Ops {
    pub fn new(reloader: Option<Box<dyn Fn() -> Result<crate::service::Service, String> + Send + Sync>>) -> Self {
        Ops {
            metrics: Metrics::default(),
            version: AtomicU64::new(1),
            reloader,
            reloading: tokio::sync::Mutex::new(()),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    ready: bool,
    data_version: u64,
    postcodes: usize,
}

/// 200 when data is loaded and requests are being served.
#[utoipa::path(get, path = "/readyz", tag = "service", responses((status = 200, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> Json<Readiness> {
    let service = state.service();
    Json(Readiness {
        ready: true,
        data_version: state.ops.version.load(Ordering::Relaxed),
        postcodes: service.postcodes.as_ref().map_or(0, |p| p.len()),
    })
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.ops.metrics.render(state.ops.version.load(Ordering::Relaxed));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReloadResult {
    data_version: u64,
    millis: u64,
}

impl AppState {
    /// Loads and validates a new data generation off the async threads and swaps it in;
    /// on failure the current data keeps serving and the error is returned (and logged).
    pub async fn reload(&self) -> Result<u64, ApiError> {
        let Some(_guard) = self.ops.reloading.try_lock().ok() else {
            return Err(ApiError::Conflict {
                detail: "a reload is already running".into(),
            });
        };
        if self.ops.reloader.is_none() {
            return Err(ApiError::Unavailable {
                detail: "reload is not configured for this server".into(),
            });
        }
        let state = self.clone();
        let started = Instant::now();
        let loaded = tokio::task::spawn_blocking(move || state.ops.reloader.as_ref().map(|load| load()))
            .await
            .map_err(|e| format!("reload task failed: {e}"))
            .and_then(|r| r.unwrap_or_else(|| Err("reload is not configured".into())));
        match loaded {
            Ok(service) => {
                let service = std::sync::Arc::new(service);
                let warm = service.clone();
                std::thread::spawn(move || {
                    warm.locator.grid();
                    warm.map_layers();
                });
                self.swap(service);
                let version = self.ops.version.fetch_add(1, Ordering::Relaxed) + 1;
                self.ops.metrics.reloads_ok.fetch_add(1, Ordering::Relaxed);
                tracing::info!(version, ms = started.elapsed().as_millis() as u64, "data reloaded");
                Ok(version)
            }
            Err(e) => {
                self.ops.metrics.reloads_failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "reload rejected; the current data keeps serving");
                Err(ApiError::body(
                    None,
                    format!("new data rejected, current data kept: {e}"),
                ))
            }
        }
    }
}

/// Reloads the data now. Only from loopback.
#[utoipa::path(post, path = "/admin/reload", tag = "service",
    responses((status = 200, body = ReloadResult),
              (status = 403, description = "Not from loopback", body = super::error::Problem, content_type = "application/problem+json"),
              (status = 409, description = "A reload is running", body = super::error::Problem, content_type = "application/problem+json"),
              (status = 422, description = "New data invalid; old data kept", body = super::error::Problem, content_type = "application/problem+json")))]
pub async fn admin_reload(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
) -> Result<Json<ReloadResult>, ApiError> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
    let from_loopback = peer.is_some_and(|ConnectInfo(addr)| addr.ip().is_loopback());
    if !from_loopback {
        return Err(ApiError::Forbidden {
            detail: "reload is only accepted from loopback".into(),
        });
    }
    let started = Instant::now();
    let data_version = state.reload().await?;
    Ok(Json(ReloadResult {
        data_version,
        millis: started.elapsed().as_millis() as u64,
    }))
}

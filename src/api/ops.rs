//! Readiness on the public port (`/healthz`, `/readyz`): what a load balancer asks. Metrics
//! and reload are operations, served only on the admin listener (`server::admin`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use super::query::{NoParams, Query};
use super::AppState;

/// 200 once data is loaded (it always is once the server listens).
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "ok")))]
pub async fn healthz(Query(NoParams {}): Query<NoParams>) -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    ready: bool,
    /// Generation of the data being served: 1 at start, +1 per reload.
    data_version: u64,
    postcodes: usize,
}

/// 200 when data is loaded and requests are being served.
#[utoipa::path(get, path = "/readyz", tag = "service", responses((status = 200, body = Readiness),
    (status = 400, description = "A query parameter", body = super::error::Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>, Query(NoParams {}): Query<NoParams>) -> Json<Readiness> {
    let atlas = state.atlas();
    Json(Readiness {
        ready: true,
        data_version: atlas.version,
        postcodes: atlas.postcodes.as_ref().map_or(0, |p| p.len()),
    })
}

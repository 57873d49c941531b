//! The admin listener (`--admin-addr`, loopback by default): `/metrics` and `/admin/reload`
//! (`POST` asks for a reload job and waits a little for it; `GET` says where reloads stand).
//! Never routed on the public port, so no peer-address check is needed: who can reach this
//! listener is decided by the address it binds.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::reload::{ReloadStatus, Reloader};
use crate::api::error::ApiError;
use crate::api::AppState;

#[derive(Clone)]
pub struct AdminState {
    pub app: AppState,
    /// `None` where reload is not configured.
    pub reloader: Option<Arc<Reloader>>,
    /// How long `POST /admin/reload` waits for its job before answering 202.
    pub reload_wait: std::time::Duration,
}

pub fn app(state: AdminState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/admin/reload", post(reload).get(reload_status))
        .route("/healthz", get(crate::api::ops::healthz))
        .fallback(crate::api::not_found)
        .method_not_allowed_fallback(crate::api::method_not_allowed)
        .with_state(state)
}

/// Prometheus metrics (OpenMetrics text format).
async fn metrics(State(state): State<AdminState>) -> Response {
    let body = state.app.metrics.render(state.app.atlas().version);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Asks for a reload and waits up to `reload_wait` for it: 200 with the outcome when it
/// finished and was applied, 422 when the new data was rejected (the old data keeps serving),
/// 202 with the job number when it is still running — it goes on, and its outcome appears in
/// `GET /admin/reload`. Asks during a reload are served by one more reload after it.
async fn reload(State(state): State<AdminState>) -> Result<Response, ApiError> {
    let reloader = configured(&state)?;
    let job = reloader.request();
    match reloader.wait_for(job, state.reload_wait).await {
        Some(outcome) if outcome.ok => Ok(Json(outcome).into_response()),
        Some(outcome) => Err(ApiError::body(None, outcome.error.unwrap_or_default())),
        None => Ok((
            axum::http::StatusCode::ACCEPTED,
            [(header::LOCATION, "/admin/reload")],
            Json(serde_json::json!({"job": job, "status": reloader.status()})),
        )
            .into_response()),
    }
}

/// Where reloads stand: asked, finished, running, and the latest outcome.
async fn reload_status(State(state): State<AdminState>) -> Result<Json<ReloadStatus>, ApiError> {
    Ok(Json(configured(&state)?.status()))
}

fn configured(state: &AdminState) -> Result<&Arc<Reloader>, ApiError> {
    state.reloader.as_ref().ok_or_else(|| ApiError::Unavailable {
        detail: "reload is not configured for this server".into(),
    })
}

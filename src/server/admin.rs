//! The admin listener (`--admin-addr`, loopback by default): `/metrics` and `/admin/reload`.
//! Never routed on the public port, so no peer-address check is needed: who can reach this
//! listener is decided by the address it binds.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::reload::{ReloadError, Reloaded, Reloader};
use crate::api::error::ApiError;
use crate::api::AppState;

#[derive(Clone)]
pub struct AdminState {
    pub app: AppState,
    /// `None` where reload is not configured.
    pub reloader: Option<Arc<Reloader>>,
}

pub fn app(state: AdminState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/admin/reload", post(reload))
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

/// Reloads the data now: 200 with the new generation, 409 while another reload runs, 422 when
/// the new data is invalid (the old data keeps serving).
async fn reload(State(state): State<AdminState>) -> Result<Json<Reloaded>, ApiError> {
    let reloader = state.reloader.as_ref().ok_or_else(|| ApiError::Unavailable {
        detail: "reload is not configured for this server".into(),
    })?;
    match reloader.reload().await {
        Ok(done) => Ok(Json(done)),
        Err(e @ ReloadError::Busy) => Err(ApiError::Conflict { detail: e.to_string() }),
        Err(e @ ReloadError::Rejected(_)) => Err(ApiError::body(None, e.to_string())),
    }
}

//! The HTTP API: one routes table, one handler module per resource.

pub mod areas;
pub mod body;
pub mod boundaries;
pub mod error;
pub mod extract;
pub mod lookup;
pub mod openapi;
pub mod ops;
pub mod params;
pub mod postcodes;
pub mod web;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::service::Service;
use error::ApiError;

/// Shared by every handler: the current data generation, swappable as a whole.
#[derive(Clone)]
pub struct AppState {
    current: Arc<ArcSwap<Service>>,
    pub web: Arc<web::WebConfig>,
    pub ops: Arc<ops::Ops>,
}

/// Builds a fresh data generation for a reload.
pub type Reloader = Box<dyn Fn() -> Result<Service, String> + Send + Sync>;

impl AppState {
    pub fn new(service: Service) -> Self {
        Self::with(service, web::WebConfig::from_env(), None)
    }

    pub fn with(service: Service, web: web::WebConfig, reloader: Option<Reloader>) -> Self {
        AppState {
            current: Arc::new(ArcSwap::from_pointee(service)),
            web: Arc::new(web),
            ops: Arc::new(ops::Ops::new(reloader)),
        }
    }

    /// Swaps in a new data generation atomically: requests in flight keep the one they hold.
    pub fn swap(&self, service: Arc<Service>) {
        self.current.store(service);
    }

    /// Builds the lookup grid and the map's boundary documents in the background: neither
    /// is needed to start serving (lookups take the exact path until the grid is ready).
    pub fn warm_up(&self) {
        let service = self.service();
        std::thread::spawn(move || {
            service.locator.grid();
            service.map_layers();
        });
    }

    /// The data generation to answer this request from.
    pub fn service(&self) -> Arc<Service> {
        self.current.load_full()
    }
}

/// The routes table. Everything the service answers is listed here.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(web::index))
        .route("/docs", get(web::docs))
        .route("/assets/{name}", get(web::asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/admin/reload", axum::routing::post(ops::admin_reload))
        .route("/api/v1/config", get(web::config))
        .route("/api/v1/boundaries/{layer}", get(boundaries::boundaries))
        .route("/api/v1/lookup", get(lookup::lookup_get).post(lookup::lookup_post))
        .route("/api/v1/alliances", get(areas::list_alliances))
        .route("/api/v1/alliances/{code}", get(areas::get_alliance))
        .route("/api/v1/alliances/{code}/geometry", get(areas::alliance_geometry))
        .route("/api/v1/stps", get(areas::list_stps))
        .route("/api/v1/stps/{code}", get(areas::get_stp))
        .route("/api/v1/stps/{code}/geometry", get(areas::stp_geometry))
        .route(
            "/api/v1/postcodes",
            get(postcodes::nearby_postcodes).post(postcodes::post_postcodes),
        )
        .route("/api/v1/postcodes/{postcode}", get(postcodes::get_postcode))
        .route("/api/v1/outcodes/{outcode}", get(postcodes::get_outcode))
        .route("/api/v1/openapi.json", get(openapi::openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::track))
        .with_state(state)
}

/// 200 once data is loaded (it always is once the server listens).
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "ok")))]
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    let path: String = uri.path().chars().take(200).collect();
    ApiError::not_found(format!("nothing is served at {path}"))
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
    }
}

//! The HTTP API: one routes table ([`app`]), one handler module per resource, problem+json
//! errors ([`error`]) and strict extractors for queries ([`query`]), bodies ([`body`]) and
//! paths ([`extract`]).
//!
//! Handlers only read the current [`Atlas`]; the protection stack, the listeners and the
//! admin endpoints are the server's (`crate::server`).

pub mod areas;
pub mod body;
pub mod boundaries;
pub mod error;
pub mod extract;
pub mod lookup;
pub mod openapi;
pub mod ops;
pub mod postcodes;
pub mod query;
pub mod web;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::get;
use axum::Router;

use crate::atlas::Atlas;
use crate::metrics::Metrics;
use error::ApiError;

/// Shared by every handler: the current data generation (swappable as a whole), the map's
/// settings and the metrics handlers count into.
#[derive(Clone)]
pub struct AppState {
    current: Arc<ArcSwap<Atlas>>,
    pub web: Arc<web::WebConfig>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// State for `atlas`, with the map settings from the environment.
    pub fn new(atlas: Atlas) -> Self {
        let web = web::WebConfig::from_env(&atlas.data.manifest);
        Self::with_web(atlas, web)
    }

    pub fn with_web(atlas: Atlas, web: web::WebConfig) -> Self {
        AppState {
            current: Arc::new(ArcSwap::from_pointee(atlas)),
            web: Arc::new(web),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// The data generation to answer this request from. Requests in flight keep the one they
    /// hold across a swap.
    #[inline]
    pub fn atlas(&self) -> arc_swap::Guard<Arc<Atlas>> {
        self.current.load()
    }

    /// Swaps in `atlas` as the next generation and warms it up; returns its version.
    pub fn swap(&self, atlas: Atlas) -> u64 {
        let version = self.current.load().version + 1;
        let atlas = Arc::new(atlas.with_version(version));
        warm_up(atlas.clone());
        self.current.store(atlas);
        version
    }

    /// Builds the lookup grid and the map's boundary documents in the background: neither
    /// is needed to start serving (lookups take the exact path until the grid is ready).
    pub fn warm_up(&self) {
        warm_up(self.current.load_full());
    }
}

fn warm_up(atlas: Arc<Atlas>) {
    std::thread::spawn(move || {
        atlas.locator.grid();
        atlas.map_layers();
    });
}

/// The routes table. Everything the public port answers is listed here.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(web::index))
        .route("/docs", get(web::docs))
        .route("/assets/{name}", get(web::asset))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
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
        .with_state(state)
}

/// A 404 problem for any path not in the table (the admin paths included).
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    let path: String = uri.path().chars().take(200).collect();
    ApiError::not_found(format!("nothing is served at {path}"))
}

pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
    }
}

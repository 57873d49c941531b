//! The HTTP API: one routes table ([`app`]), one handler module per resource, problem+json
//! errors ([`error`]) and strict extractors for queries ([`query`]), bodies ([`body`]) and
//! paths ([`extract`]).
//!
//! Handlers only read the current [`Atlas`]; the protection stack, the listeners and the
//! admin endpoints are the server's (`crate::server`).

pub mod annotate;
pub mod areas;
pub mod body;
pub mod boundaries;
pub mod compress;
pub mod dated_areas;
pub mod editions;
pub mod error;
pub mod extract;
pub mod lookup;
pub mod openapi;
pub mod ops;
pub mod pipe;
pub mod postcodes;
pub mod query;
pub mod surroundings;
pub mod tiles;
pub mod web;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;

use crate::atlas::Atlas;
use crate::metrics::Metrics;
use error::ApiError;

/// Shared by every handler: the current data generation (swappable as a whole), the map's
/// settings and the metrics handlers count into. A handle to one shared [`Shared`] (axum
/// clones the state for every request: one reference count, not one per field).
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

/// What an [`AppState`] points at; its fields are read through the handle.
pub struct Shared {
    current: ArcSwap<Atlas>,
    pub web: web::WebConfig,
    pub metrics: Arc<Metrics>,
    /// The pages with the current generation's licence attribution.
    pages: ArcSwap<web::RenderedPages>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl AppState {
    /// State for `atlas`, with the map settings from the environment.
    pub fn new(atlas: Atlas) -> Self {
        Self::with_web(atlas, web::WebConfig::from_env())
    }

    pub fn with_web(atlas: Atlas, web: web::WebConfig) -> Self {
        AppState {
            shared: Arc::new(Shared {
                pages: ArcSwap::from_pointee(web::RenderedPages::for_atlas(&atlas, &web)),
                current: ArcSwap::from_pointee(atlas),
                web,
                metrics: Arc::new(Metrics::new()),
            }),
        }
    }

    /// The data generation to answer this request from. Requests in flight keep the one they
    /// hold across a swap.
    /// The current generation, owned: for work that outlives the request's handler.
    pub fn atlas_full(&self) -> Arc<Atlas> {
        self.current.load_full()
    }

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

    /// Builds the lookup grids and the map's boundary documents in the background: neither
    /// is needed to start serving (lookups take the exact path until the grid is ready).
    pub fn warm_up(&self) {
        warm_up(self.current.load_full());
    }
}

fn warm_up(atlas: Arc<Atlas>) {
    std::thread::spawn(move || {
        // The default period first: it answers requests without a date.
        atlas.locator().grid();
        atlas.map_layers();
        use rayon::prelude::*;
        atlas.locators().par_iter().for_each(|l| {
            l.grid();
        });
        atlas.timeline_grid();
        atlas.crosswalks();
        // The default period's tiles at every zoom (a few seconds): the first tile of each
        // zoom is then cut in milliseconds too.
        let period = atlas.data.default_period;
        atlas
            .tiles
            .prepare(&atlas.data, &atlas.map_layers_at(period).colours, period);
        // The district index the page's answers name districts from.
        atlas.tiles.district_at(&atlas.data, 0.0, 0.0);
        // Everything that reads the packed boundaries has (the map's context files last):
        // their decoded form can go (decoded again if anything asks).
        if let crate::model::DataSource::Packed(pack) = &atlas.data.source {
            pack.release_decoded();
        }
        crate::atlas::release_free_memory();
    });
}

/// Routes whose POST bodies stream into their handler as they arrive (no body size limit;
/// the protection stack paces them instead of reading them first).
pub const STREAMING_ROUTES: &[&str] = &["/api/v1/annotate"];

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
        .route("/api/v1/tiles.json", get(tiles::tilejson))
        .route("/api/v1/tiles/{z}/{x}/{y}", get(tiles::tile))
        .route("/api/v1/fonts/{fontstack}/{range}", get(tiles::glyphs))
        .route("/api/v1/lookup", get(lookup::lookup_get).post(lookup::lookup_post))
        .route("/api/v1/surroundings", get(surroundings::surroundings))
        .route("/api/v1/editions", get(editions::list_editions))
        .route("/api/v1/timeline", get(editions::timeline))
        .route("/api/v1/crosswalk", get(editions::crosswalk))
        .route("/api/v1/alliances", get(areas::list_alliances))
        .route("/api/v1/alliances/{code}", get(areas::get_alliance))
        .route("/api/v1/alliances/{code}/geometry", get(areas::alliance_geometry))
        .route("/api/v1/footprints", get(dated_areas::list_footprints))
        .route("/api/v1/footprints/{code}", get(dated_areas::get_footprint))
        .route("/api/v1/sub-areas", get(dated_areas::list_sub_areas))
        .route("/api/v1/sub-areas/{code}", get(dated_areas::get_sub_area))
        .route("/api/v1/stps", get(areas::list_stps))
        .route("/api/v1/stps/{code}", get(areas::get_stp))
        .route("/api/v1/stps/{code}/geometry", get(areas::stp_geometry))
        .route(
            "/api/v1/postcodes",
            get(postcodes::nearby_postcodes).post(postcodes::post_postcodes),
        )
        .route("/api/v1/postcodes/{postcode}", get(postcodes::get_postcode))
        .route(
            "/api/v1/postcodes/{postcode}/timeline",
            get(postcodes::postcode_timeline),
        )
        .route("/api/v1/outcodes/{outcode}", get(postcodes::get_outcode))
        .route("/api/v1/annotate", post(annotate::annotate))
        .route("/api/v1/openapi.json", get(openapi::openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // One layer for both (each `Router::layer` call adds a boxed service per route).
        .layer((DefaultBodyLimit::max(body::MAX_BODY_BYTES), compress::CompressJsonLayer))
        .with_state(state)
}

/// A JSON answer. Like `axum::Json`, but serialized into a buffer sized for a typical answer
/// (one lookup is ~430 bytes since the editions; axum starts at 128 and grows), which the
/// lookup path measures.
pub fn json_response<T: serde::Serialize>(value: &T) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut buf = Vec::with_capacity(512);
    match serde_json::to_writer(&mut buf, value) {
        Ok(()) => raw_json_response(buf),
        Err(e) => ApiError::Internal {
            detail: format!("the answer could not be encoded: {e}"),
        }
        .into_response(),
    }
}

/// A JSON answer already encoded.
pub fn raw_json_response(json: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response()
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

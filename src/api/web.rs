//! The web page, its API docs page and their assets, embedded in the binary.
//!
//! Only the files in [`ASSETS`] are served, looked up by exact name: there is no file system
//! access, so no path can reach anything else (`../`, encoded dots, NUL bytes, backslashes).

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::PathText;
use super::query::{NoParams, Query};
use super::AppState;
use crate::maplayers::asset::Asset;

const NO_CACHE: &str = "no-cache";

/// (name under /assets/, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/app.js"),
    ),
    (
        "boot.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/boot.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/style.css"),
    ),
    (
        "docs.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/docs.js"),
    ),
    (
        "docs.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/docs.css"),
    ),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../web/favicon.svg")),
    (
        "maplibre-gl.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/node_modules/maplibre-gl/dist/maplibre-gl-csp.js"),
    ),
    (
        "maplibre-gl-csp-worker.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/node_modules/maplibre-gl/dist/maplibre-gl-csp-worker.js"),
    ),
    (
        "maplibre-gl.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/node_modules/maplibre-gl/dist/maplibre-gl.css"),
    ),
];

const PAGES: &[(&str, &[u8])] = &[
    ("index", include_bytes!("../../web/index.html")),
    ("docs", include_bytes!("../../web/docs.html")),
];

fn assets() -> &'static Vec<Asset> {
    static ASSET_CACHE: OnceLock<Vec<Asset>> = OnceLock::new();
    ASSET_CACHE.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(_, ct, b)| Asset::new(b.to_vec(), ct, NO_CACHE))
            .collect()
    })
}

/// Where a page carries the data's licence attribution (filled from the manifest, so the
/// text lives in one place).
const ATTRIBUTION_SLOT: &str = "<!--attribution-->";

/// The pages with the attribution filled in, HTML-escaped.
fn render_pages(attribution: &str) -> Vec<Asset> {
    let escaped = attribution
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    PAGES
        .iter()
        .map(|(_, b)| {
            let html = String::from_utf8_lossy(b).replace(ATTRIBUTION_SLOT, &escaped);
            Asset::new(html.into_bytes(), "text/html; charset=utf-8", NO_CACHE)
        })
        .collect()
}

/// The pages and the map settings rendered for one data generation (its manifest's
/// attribution), each an [`Asset`]: compressed once, with an ETag.
pub struct RenderedPages {
    version: u64,
    pages: Vec<Asset>,
    config: Asset,
}

/// The current generation's rendering, made again once after a reload brought a new manifest.
fn rendered(state: &AppState) -> std::sync::Arc<RenderedPages> {
    let atlas = state.atlas();
    let current = state.pages.load_full();
    if current.version == atlas.version {
        return current;
    }
    let fresh = std::sync::Arc::new(RenderedPages::for_atlas(&atlas, &state.web));
    state.pages.store(fresh.clone());
    fresh
}

fn page(state: &AppState, name: &str, headers: &HeaderMap) -> Response {
    let i = PAGES.iter().position(|(n, _)| *n == name).unwrap_or(0);
    rendered(state).pages[i].respond(headers)
}

impl RenderedPages {
    pub fn for_atlas(atlas: &crate::atlas::Atlas, web: &WebConfig) -> Self {
        let config = MapConfig {
            basemap: web.basemap.clone(),
            attribution: atlas.data.manifest.attribution.clone(),
        };
        // Serialising two strings and an option cannot fail; an empty object would still load.
        let json = serde_json::to_vec(&config).unwrap_or_else(|_| b"{}".to_vec());
        RenderedPages {
            version: atlas.version,
            pages: render_pages(&atlas.data.manifest.attribution),
            config: Asset::new(json, "application/json", NO_CACHE),
        }
    }
}

/// The map page keeps its state in `?postcode=` or `?lon=&lat=`, and the editions shown in
/// `?date=` (read by the page's script, which falls back to the default date when it is not a
/// held one); nothing else is expected. The server only checks the names.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    #[serde(rename = "postcode")]
    _postcode: Option<serde::de::IgnoredAny>,
    #[serde(rename = "lon")]
    _lon: Option<serde::de::IgnoredAny>,
    #[serde(rename = "lat")]
    _lat: Option<serde::de::IgnoredAny>,
    #[serde(rename = "date")]
    _date: Option<serde::de::IgnoredAny>,
}

pub async fn index(State(state): State<AppState>, headers: HeaderMap, Query(_): Query<PageParams>) -> Response {
    page(&state, "index", &headers)
}

pub async fn docs(State(state): State<AppState>, headers: HeaderMap, Query(NoParams {}): Query<NoParams>) -> Response {
    page(&state, "docs", &headers)
}

pub async fn asset(PathText(name): PathText, headers: HeaderMap) -> Result<Response, ApiError> {
    let i = ASSETS
        .iter()
        .position(|(n, _, _)| *n == name)
        .ok_or_else(|| ApiError::not_found("no such asset"))?;
    Ok(assets()[i].respond(&headers))
}

/// Map settings from the environment: an optional basemap, off by default.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// A raster tile URL template (`…/{z}/{x}/{y}.png`) and its attribution, or null.
    pub basemap: Option<Basemap>,
}

/// What the map page is told: the basemap, and the attribution the data's licence requires
/// (from the manifest of the data being served).
#[derive(Serialize, ToSchema)]
pub struct MapConfig {
    /// A raster tile URL template (`…/{z}/{x}/{y}.png`) and its attribution, or null.
    pub basemap: Option<Basemap>,
    /// The attribution the data's licence requires.
    pub attribution: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Basemap {
    pub tiles: String,
    pub attribution: String,
}

pub const BASEMAP_ENV: &str = "ALLIANCE_MAP_BASEMAP_URL";
pub const BASEMAP_ATTRIBUTION_ENV: &str = "ALLIANCE_MAP_BASEMAP_ATTRIBUTION";

impl WebConfig {
    /// The basemap from the environment.
    pub fn from_env() -> Self {
        let tiles = std::env::var(BASEMAP_ENV).ok().filter(|t| !t.trim().is_empty());
        WebConfig {
            basemap: tiles.map(|tiles| Basemap {
                tiles,
                attribution: std::env::var(BASEMAP_ATTRIBUTION_ENV).unwrap_or_default(),
            }),
        }
    }

    /// `scheme://host[:port]` of the basemap's URL template, for the Content-Security-Policy.
    pub fn basemap_origin(&self) -> Option<String> {
        let url = &self.basemap.as_ref()?.tiles;
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next().filter(|h| !h.is_empty() && !h.contains('{'))?;
        Some(format!("{scheme}://{host}"))
    }
}

/// The map page's settings.
// The same for a whole data generation: served with an ETag, compressed once.
#[utoipa::path(get, path = "/api/v1/config", tag = "map", responses((status = 200, body = MapConfig),
    (status = 400, description = "A query parameter", body = super::error::Problem, content_type = "application/problem+json")))]
pub async fn config(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(NoParams {}): Query<NoParams>,
) -> Response {
    rendered(&state).config.respond(&headers)
}

//! `GET /api/v1/boundaries/{layer}.geojson?detail=overview|full`: what the map draws.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::error::ApiError;
use super::extract::PathText;
use super::params::Params;
use super::AppState;
use crate::maplayers::{Detail, Layer};

/// A layer's boundaries as a GeoJSON FeatureCollection. `overview` (default) is simplified
/// with borders kept shared between neighbours and across the two layers; `full` is the
/// loaded geometry. Alliance features carry their map colour. Strong ETag, gzip and brotli.
#[utoipa::path(get, path = "/api/v1/boundaries/{layer}", tag = "map",
    params(
        ("layer" = String, Path, description = "alliances.geojson, stps.geojson or countries.geojson"),
        ("detail" = Option<String>, Query, description = "overview (default) or full"),
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn boundaries(
    State(state): State<AppState>,
    PathText(layer): PathText,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref(), &["detail"])?;
    let detail = match params.get("detail") {
        None | Some("overview") => Detail::Overview,
        Some("full") => Detail::Full,
        Some(other) => {
            let shown: String = other.chars().take(20).collect();
            return Err(ApiError::parameter(
                "detail",
                format!("detail must be overview or full, got {shown:?}"),
            ));
        }
    };
    let layer = match layer.as_str() {
        "alliances.geojson" => Layer::Alliances,
        "stps.geojson" => Layer::Stps,
        "countries.geojson" => Layer::Countries,
        _ => {
            return Err(ApiError::not_found(
                "boundary layers are alliances.geojson, stps.geojson and countries.geojson",
            ))
        }
    };
    let service = state.service();
    Ok(service.map_layers().document(layer, detail).respond(&headers))
}

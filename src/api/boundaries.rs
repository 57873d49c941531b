//! `GET /api/v1/boundaries/{layer}.geojson?detail=overview|full`: what the map draws.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::PathText;
use super::query::Query;
use super::AppState;
use crate::maplayers::{Detail, Layer};

/// How detailed a boundary document is.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DetailParams {
    /// `overview` (default) or `full`.
    #[param(value_type = Option<String>)]
    detail: Option<DetailParam>,
    /// The date whose editions to draw, `YYYY-MM-DD` or `latest` (default: 2017).
    #[param(value_type = Option<String>)]
    date: Option<super::query::DateParam>,
}

#[derive(Clone, Copy)]
struct DetailParam(Detail);

impl<'de> Deserialize<'de> for DetailParam {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.as_str() {
            "overview" => Ok(DetailParam(Detail::Overview)),
            "full" => Ok(DetailParam(Detail::Full)),
            other => {
                let shown: String = other.chars().take(20).collect();
                Err(serde::de::Error::custom(format!(
                    "must be overview or full, got {shown:?}"
                )))
            }
        }
    }
}

/// A layer's boundaries as a GeoJSON FeatureCollection. `overview` (default) is simplified
/// with borders kept shared between neighbours and across the two layers; `full` is the
/// loaded geometry. Alliance features carry their map colour. Strong ETag, gzip and brotli.
#[utoipa::path(get, path = "/api/v1/boundaries/{layer}", tag = "map",
    params(
        ("layer" = String, Path, description = "alliances.geojson, footprints.geojson (stps.geojson: the same) or countries.geojson"),
        DetailParams,
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
    Query(params): Query<DetailParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let detail = params.detail.map_or(Detail::Overview, |d| d.0);
    let layer = match layer.as_str() {
        "alliances.geojson" => Layer::Alliances,
        "stps.geojson" | "footprints.geojson" => Layer::Stps,
        "countries.geojson" => Layer::Countries,
        _ => {
            return Err(ApiError::not_found(
                "boundary layers are alliances.geojson, footprints.geojson (or stps.geojson) and countries.geojson",
            ))
        }
    };
    let atlas = state.atlas();
    let when = super::query::when(&atlas.data, params.date)?;
    Ok(atlas
        .map_layers_at(when.period)
        .document(layer, detail)
        .respond(&headers))
}

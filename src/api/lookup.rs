//! `GET /api/v1/lookup` and `POST /api/v1/lookup`: alliance and STP for coordinates.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::{self, BulkRequest, ItemId, Json, Object};
use super::error::{ApiError, Problem};
use super::query::{when, DateParams, Point, PointParams, Query};
use super::AppState;
use crate::views::LookupResult;

/// Which Cancer Alliance and STP cover a point.
#[utoipa::path(get, path = "/api/v1/lookup", tag = "lookup",
    params(PointParams),
    responses(
        (status = 200, description = "The areas covering the point", body = LookupResult),
        (status = 400, description = "lon or lat missing, not a number, not finite or out of range; date malformed or outside every edition held; or an unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lookup_get(State(state): State<AppState>, Point(p): Point) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    if p.date.is_none() {
        if let Some((json, kind)) = atlas.lookup_json(p.lon.0, p.lat.0) {
            state.metrics.count_lookup(kind);
            return Ok(super::raw_json_response(json));
        }
    }
    let result = atlas.lookup_at(p.lon.0, p.lat.0, &when(&atlas.data, p.date)?);
    state.metrics.count_lookup(result.match_kind);
    Ok(super::json_response(&result))
}

/// A bulk lookup: 1 to 1000 points.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkLookupRequest {
    /// 1 to 1000 points.
    #[schema(value_type = Vec<BulkPoint>)]
    points: Vec<Object<BulkPoint>>,
}

impl BulkRequest for BulkLookupRequest {
    fn items(&self) -> (&'static str, usize) {
        ("points", self.points.len())
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkPoint {
    /// Longitude, WGS84 degrees (-180 to 180).
    #[serde(deserialize_with = "body::lon_value")]
    lon: f64,
    /// Latitude, WGS84 degrees (-90 to 90).
    #[serde(deserialize_with = "body::lat_value")]
    lat: f64,
    /// Optional caller id (string or number), echoed back.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    id: Option<ItemId>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkLookupItem<'a> {
    #[serde(flatten)]
    result: LookupResult<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    id: Option<&'a ItemId>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkLookupResponse<'a> {
    results: Vec<BulkLookupItem<'a>>,
}

/// The same lookup for 1 to 1000 points; results come back in request order.
#[utoipa::path(post, path = "/api/v1/lookup", tag = "lookup",
    params(DateParams),
    request_body = BulkLookupRequest,
    responses(
        (status = 200, description = "One result per point, in order", body = BulkLookupResponse),
        (status = 400, description = "date malformed or outside every edition held, or an unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB or more than 1000 points", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Body malformed; `pointer` names the item", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lookup_post(
    State(state): State<AppState>,
    Query(params): Query<DateParams>,
    Json(request): Json<BulkLookupRequest>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let when = when(&atlas.data, params.date)?;
    let results = request
        .points
        .iter()
        .map(|p| {
            let result = atlas.lookup_at(p.lon, p.lat, &when);
            state.metrics.count_lookup(result.match_kind);
            BulkLookupItem {
                result,
                id: p.id.as_ref(),
            }
        })
        .collect();
    Ok(super::json_response(&BulkLookupResponse { results }))
}

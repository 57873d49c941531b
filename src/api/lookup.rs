//! `GET /api/v1/lookup` and `POST /api/v1/lookup`: alliance and STP for coordinates.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::body;
use super::error::{ApiError, Problem};
use super::params::{self, Params};
use super::AppState;
use crate::views::LookupResult;

/// Which Cancer Alliance and STP cover a point.
#[utoipa::path(get, path = "/api/v1/lookup", tag = "lookup",
    params(
        ("lon" = f64, Query, description = "Longitude, WGS84 degrees (-180 to 180)", example = -1.5492),
        ("lat" = f64, Query, description = "Latitude, WGS84 degrees (-90 to 90)", example = 53.7997),
    ),
    responses(
        (status = 200, description = "The areas covering the point", body = LookupResult),
        (status = 400, description = "lon or lat missing, not a number, not finite or out of range; or an unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lookup_get(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), &["lon", "lat"])?;
    let (lon, lat) = params::lon_lat(&params)?;
    let service = state.service();
    let result = service.lookup(lon, lat);
    state.ops.metrics.count_lookup(result.match_kind);
    Ok(Json(result).into_response())
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documents the request shape for OpenAPI; parsing is item by item
pub struct BulkLookupRequest {
    /// 1 to 1000 points.
    points: Vec<BulkPoint>,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct BulkPoint {
    lon: f64,
    lat: f64,
    /// Optional caller id (string or number), echoed back.
    id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkLookupItem<'a> {
    #[serde(flatten)]
    result: LookupResult<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    id: Option<&'a Value>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkLookupResponse<'a> {
    results: Vec<BulkLookupItem<'a>>,
}

/// The same lookup for 1 to 1000 points; results come back in request order.
#[utoipa::path(post, path = "/api/v1/lookup", tag = "lookup",
    request_body = BulkLookupRequest,
    responses(
        (status = 200, description = "One result per point, in order", body = BulkLookupResponse),
        (status = 413, description = "Body over 256 KiB or more than 1000 points", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Body malformed; `pointer` names the item", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lookup_post(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    Params::parse(query.as_deref(), &[])?;
    let json = body::json(&headers, bytes)?;
    let items = body::bulk_items(&json, "points")?;
    let points = items
        .iter()
        .enumerate()
        .map(|(i, item)| bulk_point(i, item))
        .collect::<Result<Vec<_>, _>>()?;
    let service = state.service();
    let results = points
        .iter()
        .map(|&(lon, lat, id)| {
            let result = service.lookup(lon, lat);
            state.ops.metrics.count_lookup(result.match_kind);
            BulkLookupItem { result, id }
        })
        .collect();
    Ok(Json(BulkLookupResponse { results }).into_response())
}

/// Validates item `i` of a bulk lookup: `{"lon": n, "lat": n, "id"?: string|number}`.
fn bulk_point(i: usize, item: &Value) -> Result<(f64, f64, Option<&Value>), ApiError> {
    let at = |field: &str| Some(format!("/points/{i}{field}"));
    let obj = item
        .as_object()
        .ok_or_else(|| ApiError::body(at(""), format!("points[{i}] must be an object with lon and lat")))?;
    if let Some(k) = obj.keys().find(|k| !matches!(k.as_str(), "lon" | "lat" | "id")) {
        return Err(ApiError::body(
            at(&format!("/{k}")),
            format!("points[{i}] has unknown field \"{k}\"; expected lon, lat, id"),
        ));
    }
    let coordinate = |name: &str, range| -> Result<f64, ApiError> {
        let v = obj
            .get(name)
            .ok_or_else(|| ApiError::body(at(&format!("/{name}")), format!("points[{i}].{name} is missing")))?;
        let n = v.as_f64().ok_or_else(|| {
            ApiError::body(
                at(&format!("/{name}")),
                format!("points[{i}].{name} must be a number, got {v}"),
            )
        })?;
        params::check_range(name, n, range)
            .map_err(|e| ApiError::body(at(&format!("/{name}")), format!("points[{i}].{e}")))
    };
    let lon = coordinate("lon", params::LON_RANGE)?;
    let lat = coordinate("lat", params::LAT_RANGE)?;
    let id = match obj.get("id") {
        None | Some(Value::Null) => None,
        Some(v @ (Value::String(_) | Value::Number(_))) => Some(v),
        Some(other) => {
            return Err(ApiError::body(
                at("/id"),
                format!("points[{i}].id must be a string or a number, got {other}"),
            ));
        }
    };
    Ok((lon, lat, id))
}

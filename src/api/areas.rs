//! `/api/v1/alliances…` and `/api/v1/stps…`: the areas, how they relate, their geometry.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use geo::Rect;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::extract::PathText;
use super::query::{DateParams, NoParams, Query};
use super::AppState;
use crate::atlas::{AreaKind, Atlas};
use crate::model::{Alliance, AllianceKind, Dataset, Stp};
use crate::views::AllianceRef;

/// `[min_lon, min_lat, max_lon, max_lat]`.
type Bbox = [f64; 4];

fn bbox(r: &Rect<f64>) -> Bbox {
    [r.min().x, r.min().y, r.max().x, r.max().y]
}

#[derive(Serialize, ToSchema)]
pub struct CcgRef<'a> {
    #[schema(example = "E38000001")]
    code: &'a str,
    name: &'a str,
}

#[derive(Serialize, ToSchema)]
pub struct MemberStp<'a> {
    code: &'a str,
    name: &'a str,
    /// True when the whole STP lies in this alliance.
    whole: bool,
    /// For a partial STP, the CCGs that carry it into this alliance; empty when whole.
    ccgs: Vec<CcgRef<'a>>,
}

#[derive(Serialize, ToSchema)]
pub struct AllianceDetail<'a> {
    code: &'a str,
    name: &'a str,
    kind: AllianceKind,
    #[schema(value_type = [f64])]
    bbox: Bbox,
    stps: Vec<MemberStp<'a>>,
    ccgs: Vec<CcgRef<'a>>,
}

#[derive(Serialize, ToSchema)]
pub struct StpDetail<'a> {
    code: &'a str,
    name: &'a str,
    #[schema(value_type = [f64])]
    bbox: Bbox,
    /// Usually one; two where the STP is split between alliances along CCG lines.
    alliances: Vec<AllianceRef<'a>>,
    ccgs: Vec<CcgRef<'a>>,
}

#[derive(Serialize, ToSchema)]
pub struct AllianceList<'a> {
    alliances: Vec<AllianceDetail<'a>>,
}

#[derive(Serialize, ToSchema)]
pub struct StpList<'a> {
    stps: Vec<StpDetail<'a>>,
}

fn ccg_refs<'a>(data: &'a Dataset, ccgs: impl Iterator<Item = usize>) -> Vec<CcgRef<'a>> {
    ccgs.map(|i| CcgRef {
        code: &data.ccgs[i].code,
        name: &data.ccgs[i].name,
    })
    .collect()
}

pub fn alliance_detail<'a>(data: &'a Dataset, a: &'a Alliance) -> AllianceDetail<'a> {
    let index = data.alliances.iter().position(|x| std::ptr::eq(x, a)).unwrap_or(0);
    let stps = a
        .stps
        .iter()
        .map(|&s| {
            let stp = &data.stps[s];
            let whole = data.stp_is_whole_in(s, index);
            let carrying = stp
                .ccgs
                .iter()
                .copied()
                .filter(|&c| !whole && data.ccgs[c].alliance == index);
            MemberStp {
                code: &stp.code,
                name: &stp.name,
                whole,
                ccgs: ccg_refs(data, carrying),
            }
        })
        .collect();
    AllianceDetail {
        code: &a.code,
        name: &a.name,
        kind: a.kind,
        bbox: bbox(&a.bbox),
        stps,
        ccgs: ccg_refs(data, a.ccgs.iter().copied()),
    }
}

fn stp_detail<'a>(data: &'a Dataset, s: &'a Stp) -> StpDetail<'a> {
    StpDetail {
        code: &s.code,
        name: &s.name,
        bbox: bbox(&s.bbox),
        alliances: s.alliances.iter().map(|&a| data.alliance_ref(a as u16)).collect(),
        ccgs: ccg_refs(data, s.ccgs.iter().copied()),
    }
}

fn find_alliance<'a>(data: &'a Dataset, code: &str) -> Result<&'a Alliance, ApiError> {
    data.alliance(code).ok_or_else(|| {
        ApiError::not_found(format!(
            "no Cancer Alliance has code {:?}; the codes are {}",
            truncate(code),
            code_ranges(data.alliances.iter().map(|a| a.code.as_str()))
        ))
    })
}

fn find_stp<'a>(data: &'a Dataset, code: &str) -> Result<&'a Stp, ApiError> {
    data.stp(code).ok_or_else(|| {
        ApiError::not_found(format!(
            "no STP has code {:?}; the codes are {}",
            truncate(code),
            code_ranges(data.stps.iter().map(|s| s.code.as_str()))
        ))
    })
}

/// `E56000003–E56000018 and E57000001–E57000003`: sorted codes, first and last per prefix.
fn code_ranges<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    let mut ranges: Vec<(&str, &str)> = Vec::new();
    for code in codes {
        match ranges.last_mut() {
            Some((first, last)) if first.get(..3) == code.get(..3) => *last = code,
            _ => ranges.push((code, code)),
        }
    }
    let parts: Vec<String> = ranges
        .iter()
        .map(|(a, b)| if a == b { a.to_string() } else { format!("{a}–{b}") })
        .collect();
    parts.join(" and ")
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Every Cancer Alliance and National Cancer Vanguard (19 in 2017). With `date`: the alliances
/// of that date's edition in the dated shape (`{as_of, edition, areas: [DatedArea]}`).
#[utoipa::path(get, path = "/api/v1/alliances", tag = "areas",
    params(DateParams),
    responses((status = 200, body = AllianceList),
              (status = 400, description = "An unknown query parameter, or a path segment over 64 bytes", body = Problem, content_type = "application/problem+json")))]
pub async fn list_alliances(State(state): State<AppState>, Query(p): Query<DateParams>) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let data = &atlas.data;
    if p.date.is_some() {
        return super::dated_areas::list(data, p.date, crate::model::Kind::Alliance);
    }
    let alliances = data.alliances.iter().map(|a| alliance_detail(data, a)).collect();
    Ok(Json(AllianceList { alliances }).into_response())
}

/// One alliance: its STPs (whole or partial, with the CCGs carrying a partial one) and CCGs.
/// With `date`: the alliance of that date's edition in the dated shape (`DatedArea`).
#[utoipa::path(get, path = "/api/v1/alliances/{code}", tag = "areas",
    params(("code" = String, Path, example = "E56000006"), DateParams),
    responses((status = 200, body = AllianceDetail),
              (status = 400, description = "An unknown query parameter, or a path segment over 64 bytes", body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_alliance(
    State(state): State<AppState>,
    PathText(code): PathText,
    Query(p): Query<DateParams>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    if p.date.is_some() {
        return super::dated_areas::one(&atlas.data, p.date, crate::model::Kind::Alliance, &code);
    }
    let a = find_alliance(&atlas.data, &code)?;
    Ok(Json(alliance_detail(&atlas.data, a)).into_response())
}

/// Every STP footprint (44 in 2017).
#[utoipa::path(get, path = "/api/v1/stps", tag = "areas", responses((status = 200, body = StpList),
              (status = 400, description = "An unknown query parameter, or a path segment over 64 bytes", body = Problem, content_type = "application/problem+json")))]
pub async fn list_stps(
    State(state): State<AppState>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let data = &atlas.data;
    let stps = data.stps.iter().map(|s| stp_detail(data, s)).collect();
    Ok(Json(StpList { stps }).into_response())
}

/// One STP and the alliance(s) it belongs to.
#[utoipa::path(get, path = "/api/v1/stps/{code}", tag = "areas",
    params(("code" = String, Path, example = "E54000012")),
    responses((status = 200, body = StpDetail),
              (status = 400, description = "An unknown query parameter, or a path segment over 64 bytes", body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_stp(
    State(state): State<AppState>,
    PathText(code): PathText,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let s = find_stp(&atlas.data, &code)?;
    Ok(Json(stp_detail(&atlas.data, s)).into_response())
}

/// Area `index`'s Feature, rendered once per data generation and shared by every response.
fn feature(
    atlas: &Atlas,
    kind: AreaKind,
    index: usize,
    geometry: &geo::MultiPolygon<f64>,
    properties: serde_json::Value,
) -> Response {
    let render = || {
        serde_json::json!({
            "type": "Feature",
            "properties": properties,
            "geometry": geojson::Geometry::from(geometry),
        })
        .to_string()
        .into_bytes()
    };
    match atlas.feature(kind, index, render) {
        Some(body) => ([(axum::http::header::CONTENT_TYPE, "application/geo+json")], body).into_response(),
        None => ApiError::Internal {
            detail: "the area's index is out of range".into(),
        }
        .into_response(),
    }
}

/// The alliance's boundary as a GeoJSON Feature (full detail, WGS84).
#[utoipa::path(get, path = "/api/v1/alliances/{code}/geometry", tag = "areas",
    params(("code" = String, Path, example = "E56000003")),
    responses((status = 200, description = "GeoJSON Feature", content_type = "application/geo+json"),
              (status = 400, description = "An unknown query parameter, or a path segment over 64 bytes", body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn alliance_geometry(
    State(state): State<AppState>,
    PathText(code): PathText,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let a = find_alliance(&atlas.data, &code)?;
    let index = atlas
        .data
        .alliances
        .iter()
        .position(|x| x.code == a.code)
        .unwrap_or(usize::MAX);
    Ok(feature(
        &atlas,
        AreaKind::Alliance,
        index,
        &a.geometry,
        serde_json::json!({"code": a.code, "name": a.name, "kind": a.kind}),
    ))
}

/// The STP's boundary as a GeoJSON Feature (full detail, WGS84).
#[utoipa::path(get, path = "/api/v1/stps/{code}/geometry", tag = "areas",
    params(("code" = String, Path, example = "E54000005")),
    responses((status = 200, description = "GeoJSON Feature", content_type = "application/geo+json"),
              (status = 400, description = "An unknown query parameter, or a path segment over 64 bytes", body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn stp_geometry(
    State(state): State<AppState>,
    PathText(code): PathText,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let s = find_stp(&atlas.data, &code)?;
    let index = atlas
        .data
        .stps
        .iter()
        .position(|x| x.code == s.code)
        .unwrap_or(usize::MAX);
    Ok(feature(
        &atlas,
        AreaKind::Stp,
        index,
        &s.geometry,
        serde_json::json!({"code": s.code, "name": s.name}),
    ))
}

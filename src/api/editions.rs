//! `/api/v1/editions` (every layer edition and the periods they form) and
//! `/api/v1/timeline` (what covered a point in each period, and what changed).

use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::query::{NoParams, PointOnlyParams, Query};
use super::AppState;
use crate::model::Dataset;
use crate::views::Timeline;

/// One layer edition.
#[derive(Serialize, ToSchema)]
pub struct EditionInfo<'a> {
    /// `alliance`, `footprint` or `sub_area`.
    #[schema(example = "alliance")]
    kind: &'a str,
    #[schema(example = "CAL19")]
    edition: &'a str,
    title: &'a str,
    /// `stp`/`icb` for footprints, `ccg`/`sub_icb_location` for sub-areas.
    #[serde(skip_serializing_if = "Option::is_none")]
    area_kind: Option<&'a str>,
    /// In force from this date.
    #[schema(value_type = String, example = "2019-07-01")]
    from: NaiveDate,
    /// The first day it is no longer in force (the next edition's start, or the day a
    /// successor not held here took over); null: still in force as far as this data knows.
    #[schema(value_type = Option<String>)]
    until: Option<NaiveDate>,
    /// Set when the successor is not held here.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    superseded_since: Option<NaiveDate>,
    /// Areas in the edition.
    count: usize,
    /// Made by this project from other official files (e.g. dissolved or overlaid), not
    /// published as is.
    derived: bool,
    source: &'a str,
}

/// A span of dates with the same editions in force.
#[derive(Serialize, ToSchema)]
pub struct PeriodInfo<'a> {
    #[schema(value_type = String, example = "2019-07-01")]
    from: NaiveDate,
    /// The first day after the period; null: open-ended.
    #[schema(value_type = Option<String>)]
    until: Option<NaiveDate>,
    /// The editions in force (null: none held for the period).
    alliance: Option<&'a str>,
    footprint: Option<&'a str>,
    sub_area: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notes: &'a [String],
}

#[derive(Serialize, ToSchema)]
pub struct EditionsResponse<'a> {
    /// What answers without `date` are for.
    #[schema(value_type = String, example = "2017-04-01")]
    default_date: NaiveDate,
    /// The period `date=latest` answers for.
    #[schema(value_type = String, example = "2023-07-01")]
    latest: NaiveDate,
    editions: Vec<EditionInfo<'a>>,
    periods: Vec<PeriodInfo<'a>>,
}

pub fn editions_response(data: &Dataset) -> EditionsResponse<'_> {
    let editions = data
        .editions
        .iter()
        .map(|e| {
            let from = e.spec.from.unwrap_or(NaiveDate::MIN);
            let next = data
                .editions
                .iter()
                .filter(|o| o.spec.kind == e.spec.kind)
                .filter_map(|o| o.spec.from)
                .filter(|f| *f > from)
                .min();
            EditionInfo {
                kind: e.spec.kind.as_str(),
                edition: &e.spec.edition,
                title: &e.spec.title,
                area_kind: e.spec.area_kind.as_deref(),
                from,
                until: next.or(e.spec.superseded_since),
                superseded_since: e.spec.superseded_since,
                count: e.areas.len(),
                derived: e.spec.derived,
                source: &e.spec.source,
            }
        })
        .collect();
    let name = |e: Option<usize>| e.map(|e| data.editions[e].spec.edition.as_str());
    let periods = data
        .periods
        .iter()
        .map(|p| PeriodInfo {
            from: p.from,
            until: p.until,
            alliance: name(p.alliance),
            footprint: name(p.footprint),
            sub_area: name(p.sub_area),
            notes: &p.notes,
        })
        .collect();
    EditionsResponse {
        default_date: data.manifest.default_date,
        latest: data.periods[data.latest_period()].from,
        editions,
        periods,
    }
}

/// Every layer edition held (alliances, footprints, sub-areas) with its dates, and the periods
/// of dates they form.
#[utoipa::path(get, path = "/api/v1/editions", tag = "editions",
    responses(
        (status = 200, description = "Editions and periods, in date order", body = EditionsResponse),
        (status = 400, description = "An unknown query parameter", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_editions(State(state): State<AppState>, Query(NoParams {}): Query<NoParams>) -> Response {
    let atlas = state.atlas();
    super::json_response(&editions_response(&atlas.data))
}

/// What covered a point in every period from the first edition held to the last, and which
/// layers changed (by code) from one period to the next.
#[utoipa::path(get, path = "/api/v1/timeline", tag = "editions",
    params(PointOnlyParams),
    responses(
        (status = 200, description = "One entry per period, in date order", body = Timeline),
        (status = 400, description = "lon or lat missing, malformed or out of range; or an unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn timeline(State(state): State<AppState>, Query(p): Query<PointOnlyParams>) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    Ok(super::json_response(&atlas.timeline(p.lon.0, p.lat.0)))
}

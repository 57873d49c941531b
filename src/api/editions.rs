//! `/api/v1/editions` (every layer edition and the periods they form) and
//! `/api/v1/timeline` (what covered a point in each period, and what changed) and
//! `/api/v1/crosswalk` (how one edition's areas map onto another's).

use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::query::{DateParam, NoParams, PointOnlyParams, Query};
use super::AppState;
use crate::model::{Dataset, Kind};
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
            let next = crate::model::next_start(
                data.editions.iter().map(|e| &e.spec).chain(&data.manifest.unloaded),
                e.spec.kind,
                from,
            );
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

/// Which kind of area a crosswalk is about.
#[derive(Debug, Clone, Copy)]
pub struct KindParam(Kind);

impl<'de> Deserialize<'de> for KindParam {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.as_str() {
            "alliance" => Ok(KindParam(Kind::Alliance)),
            "footprint" => Ok(KindParam(Kind::Footprint)),
            "sub_area" => Ok(KindParam(Kind::SubArea)),
            other => {
                let shown: String = other.chars().take(20).collect();
                Err(serde::de::Error::custom(format!(
                    "must be alliance, footprint or sub_area, got {shown:?}"
                )))
            }
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CrosswalkParams {
    /// `alliance`, `footprint` (STP/ICB) or `sub_area` (CCG/Sub-ICB Location).
    #[param(value_type = String, example = "alliance")]
    kind: KindParam,
    /// A date in the first edition, `YYYY-MM-DD` or `latest`.
    #[param(value_type = String, example = "2017-04-01")]
    from: DateParam,
    /// A date in the second edition, `YYYY-MM-DD` or `latest`.
    #[param(value_type = String, example = "2023-07-01")]
    to: DateParam,
}

#[derive(Serialize, ToSchema)]
pub struct CrosswalkEnd<'a> {
    #[schema(value_type = String, example = "2017-04-01")]
    date: NaiveDate,
    #[schema(example = "CALNCV17")]
    edition: &'a str,
}

#[derive(Serialize, ToSchema)]
pub struct CrosswalkArea<'a> {
    code: &'a str,
    name: &'a str,
}

/// Two areas sharing area or postcodes, with the shares (0 to 1, 4 decimals).
#[derive(Serialize, ToSchema)]
pub struct CrosswalkPair<'a> {
    from: CrosswalkArea<'a>,
    to: CrosswalkArea<'a>,
    /// Share of the `from` area's area lying in the `to` area.
    area_share_of_from: f64,
    /// Share of the `to` area's area lying in the `from` area.
    area_share_of_to: f64,
    /// Share of the `from` area's postcodes lying in the `to` area (null without postcodes).
    postcode_share_of_from: Option<f64>,
    postcode_share_of_to: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct CrosswalkResponse<'a> {
    #[schema(example = "alliance")]
    kind: &'a str,
    from: CrosswalkEnd<'a>,
    to: CrosswalkEnd<'a>,
    /// How the shares were computed.
    method: String,
    pairs: Vec<CrosswalkPair<'a>>,
}

/// How the areas of one edition map onto another's (of the same kind): every pair sharing
/// area or postcodes, with shares of each side, to carry a time series across a
/// reorganisation. Computed once per data generation, not per request.
#[utoipa::path(get, path = "/api/v1/crosswalk", tag = "editions",
    params(CrosswalkParams),
    responses(
        (status = 200, description = "Pairs in code order", body = CrosswalkResponse),
        (status = 400, description = "kind, from or to missing or malformed, a date outside every edition held, or no edition of the kind held on a date", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn crosswalk(State(state): State<AppState>, Query(p): Query<CrosswalkParams>) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let data = &atlas.data;
    let kind = p.kind.0;
    let end = |param: &'static str, date: DateParam| -> Result<(usize, NaiveDate), ApiError> {
        let when = data
            .when(Some(date.0))
            .map_err(|e| ApiError::parameter(param, e.to_string()))?;
        let e = data.periods[when.period].edition(kind).ok_or_else(|| {
            ApiError::parameter(param, format!("no {} edition is held on {}", kind.label(), when.as_of))
        })?;
        Ok((e, when.as_of))
    };
    let ((from, from_date), (to, to_date)) = (end("from", p.from)?, end("to", p.to)?);
    // The crosswalks are computed once per generation, off the async runtime.
    let worker = atlas.clone();
    tokio::task::spawn_blocking(move || {
        worker.crosswalks();
    })
    .await
    .map_err(|_| ApiError::Internal {
        detail: "the crosswalks could not be computed".into(),
    })?;
    let pairs = atlas.crosswalks().between(from, to).unwrap_or_default();
    let round = |v: f64| (v * 1e4).round() / 1e4;
    let area = |e: usize, i: u16| {
        let a = &data.editions[e].areas[i as usize];
        CrosswalkArea {
            code: &a.code,
            name: &a.name,
        }
    };
    let response = CrosswalkResponse {
        kind: kind.as_str(),
        from: CrosswalkEnd {
            date: from_date,
            edition: &data.editions[from].spec.edition,
        },
        to: CrosswalkEnd {
            date: to_date,
            edition: &data.editions[to].spec.edition,
        },
        method: format!(
            "area: a lattice of points every {} degrees answered by this service's lookup for each date; \
             postcodes: the postcode index resolved for each date; pairs below {} % of both areas left out",
            crate::crosswalk::LATTICE_DEG,
            crate::crosswalk::MIN_SHARE * 100.0
        ),
        pairs: pairs
            .iter()
            .map(|q| CrosswalkPair {
                from: area(from, q.from),
                to: area(to, q.to),
                area_share_of_from: round(q.area_share_of_from),
                area_share_of_to: round(q.area_share_of_to),
                postcode_share_of_from: q.postcode_share_of_from.map(round),
                postcode_share_of_to: q.postcode_share_of_to.map(round),
            })
            .collect(),
    };
    Ok(super::json_response(&response))
}

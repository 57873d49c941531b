//! The areas of any date: `/api/v1/footprints…` (STPs and ICBs), `/api/v1/sub-areas…` (CCGs
//! and Sub-ICB Locations), and `/api/v1/alliances…?date=`, each with its parents and members
//! as the relation tables of that date give them (null where no relation links two editions).

use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::extract::PathText;
use super::query::{when, DateParams, Query};
use super::AppState;
use crate::model::{AllianceKind, Dataset, Kind, Period};
use crate::views::{AllianceRef, AreaRef};

/// One area of a date's edition, with its parents and members.
#[derive(Serialize, ToSchema)]
pub struct DatedArea<'a> {
    code: &'a str,
    name: &'a str,
    /// `cancer_alliance`/`national_cancer_vanguard`, `stp`/`icb` or `ccg`/`sub_icb_location`.
    #[schema(example = "icb")]
    kind: &'a str,
    #[schema(example = "ICB23")]
    edition: &'a str,
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    bbox: [f64; 4],
    /// Parents (of footprints and sub-areas): the alliances it lies in.
    #[serde(skip_serializing_if = "Skip::skip")]
    #[schema(value_type = Option<Vec<AllianceRef>>)]
    alliances: Skip<Vec<AllianceRef<'a>>>,
    /// Parent (of sub-areas): the footprint it lies in.
    #[serde(skip_serializing_if = "Skip::skip")]
    #[schema(value_type = Option<AreaRef>)]
    footprint: Skip<AreaRef<'a>>,
    /// Members (of alliances): the footprints in it, wholly or partly.
    #[serde(skip_serializing_if = "Skip::skip")]
    #[schema(value_type = Option<Vec<AreaRef>>)]
    footprints: Skip<Vec<AreaRef<'a>>>,
    /// Members (of alliances and footprints): the sub-areas in it.
    #[serde(skip_serializing_if = "Skip::skip")]
    #[schema(value_type = Option<Vec<AreaRef>>)]
    sub_areas: Skip<Vec<AreaRef<'a>>>,
}

/// A field that is left out (not this kind's), null (no relation links the editions, or no
/// edition of that kind is held for the date), or known.
enum Skip<T> {
    NotThisKind,
    Unknown,
    Known(T),
}

impl<T> Skip<T> {
    fn skip(&self) -> bool {
        matches!(self, Skip::NotThisKind)
    }
}

impl<T: Serialize> Serialize for Skip<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Skip::Known(t) => t.serialize(s),
            _ => s.serialize_none(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DatedAreaList<'a> {
    #[schema(value_type = String, example = "2023-07-01")]
    as_of: NaiveDate,
    #[schema(example = "ICB23")]
    edition: &'a str,
    areas: Vec<DatedArea<'a>>,
}

/// The members of `parents` linked to `i` (`links[member]` lists the member's parents).
fn members(links: &[Vec<u16>], i: u16) -> Vec<u16> {
    (0..links.len() as u16)
        .filter(|&m| links[m as usize].contains(&i))
        .collect()
}

fn detail<'a>(data: &'a Dataset, period: &'a Period, kind: Kind, i: u16) -> DatedArea<'a> {
    let e = period.edition(kind).unwrap_or_default();
    let edition = &data.editions[e];
    let a = &edition.areas[i as usize];
    let alliance_refs = |list: &[u16]| -> Vec<AllianceRef<'a>> {
        let ae = period.alliance.unwrap_or_default();
        list.iter().map(|&x| data.alliance_ref_in(ae, x)).collect()
    };
    let area_refs = |e: Option<usize>, list: &[u16]| -> Vec<AreaRef<'a>> {
        let e = e.unwrap_or_default();
        list.iter().map(|&x| data.area_ref(e, x)).collect()
    };
    let known = |v: Option<Vec<u16>>| v.map_or(Skip::Unknown, Skip::Known);
    let (mut alliances, mut footprint, mut footprints, mut sub_areas) = (
        Skip::NotThisKind,
        Skip::NotThisKind,
        Skip::NotThisKind,
        Skip::NotThisKind,
    );
    let kind_name = match kind {
        Kind::Alliance => {
            footprints = match known(period.footprint_alliances.as_ref().map(|l| members(l, i))) {
                Skip::Known(l) => Skip::Known(area_refs(period.footprint, &l)),
                _ => Skip::Unknown,
            };
            sub_areas = match known(period.sub_area_alliances.as_ref().map(|l| members(l, i))) {
                Skip::Known(l) => Skip::Known(area_refs(period.sub_area, &l)),
                _ => Skip::Unknown,
            };
            match AllianceKind::of(&a.code) {
                AllianceKind::CancerAlliance => "cancer_alliance",
                AllianceKind::NationalCancerVanguard => "national_cancer_vanguard",
            }
        }
        Kind::Footprint => {
            alliances = match &period.footprint_alliances {
                Some(l) => Skip::Known(alliance_refs(&l[i as usize])),
                None => Skip::Unknown,
            };
            sub_areas = match &period.footprint_sub_areas {
                Some(l) => Skip::Known(area_refs(period.sub_area, &l[i as usize])),
                None => Skip::Unknown,
            };
            edition.spec.area_kind.as_deref().unwrap_or_default()
        }
        _ => {
            alliances = match &period.sub_area_alliances {
                Some(l) => Skip::Known(alliance_refs(&l[i as usize])),
                None => Skip::Unknown,
            };
            footprint = match period.footprint_sub_areas.as_ref().map(|l| members(l, i)) {
                Some(parents) => match parents.first() {
                    Some(&f) => Skip::Known(data.area_ref(period.footprint.unwrap_or_default(), f)),
                    None => Skip::Unknown,
                },
                None => Skip::Unknown,
            };
            edition.spec.area_kind.as_deref().unwrap_or_default()
        }
    };
    let b = &a.bbox;
    DatedArea {
        code: &a.code,
        name: &a.name,
        kind: kind_name,
        edition: &edition.spec.edition,
        bbox: [b.min().x, b.min().y, b.max().x, b.max().y],
        alliances,
        footprint,
        footprints,
        sub_areas,
    }
}

/// The period for `date` and its edition of `kind`, or a 404 saying none is held.
fn edition_of(
    data: &Dataset,
    date: Option<super::query::DateParam>,
    kind: Kind,
) -> Result<(crate::views::When, usize), ApiError> {
    let when = when(data, date)?;
    let e = data.periods[when.period].edition(kind).ok_or_else(|| {
        ApiError::not_found(format!(
            "no {} edition is held for {}: {}",
            kind.label(),
            when.as_of,
            data.periods[when.period].notes.join(" ")
        ))
    })?;
    Ok((when, e))
}

pub fn list(data: &Dataset, date: Option<super::query::DateParam>, kind: Kind) -> Result<Response, ApiError> {
    let (when, e) = edition_of(data, date, kind)?;
    let period = &data.periods[when.period];
    let areas = (0..data.editions[e].areas.len() as u16)
        .map(|i| detail(data, period, kind, i))
        .collect();
    Ok(super::json_response(&DatedAreaList {
        as_of: when.as_of,
        edition: &data.editions[e].spec.edition,
        areas,
    }))
}

pub fn one(
    data: &Dataset,
    date: Option<super::query::DateParam>,
    kind: Kind,
    code: &str,
) -> Result<Response, ApiError> {
    let (when, e) = edition_of(data, date, kind)?;
    let edition = &data.editions[e];
    let i = edition.find(code).ok_or_else(|| {
        let shown: String = code.chars().take(40).collect();
        ApiError::not_found(format!(
            "no {} of {} ({}) has code {shown:?}",
            kind.label(),
            edition.spec.edition,
            edition.spec.title
        ))
    })?;
    Ok(super::json_response(&detail(data, &data.periods[when.period], kind, i)))
}

/// Every STP or ICB in force on a date (default: 2017), with its alliances and sub-areas.
#[utoipa::path(get, path = "/api/v1/footprints", tag = "areas",
    params(DateParams),
    responses((status = 200, body = DatedAreaList),
              (status = 400, description = "date malformed or outside every edition held, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No footprint edition is held for the date", body = Problem, content_type = "application/problem+json")))]
pub async fn list_footprints(State(state): State<AppState>, Query(p): Query<DateParams>) -> Result<Response, ApiError> {
    list(&state.atlas().data, p.date, Kind::Footprint)
}

/// One STP or ICB of a date's edition, with its alliances and sub-areas.
#[utoipa::path(get, path = "/api/v1/footprints/{code}", tag = "areas",
    params(("code" = String, Path, example = "E54000060"), DateParams),
    responses((status = 200, body = DatedArea),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such footprint in the date's edition", body = Problem, content_type = "application/problem+json")))]
pub async fn get_footprint(
    State(state): State<AppState>,
    PathText(code): PathText,
    Query(p): Query<DateParams>,
) -> Result<Response, ApiError> {
    one(&state.atlas().data, p.date, Kind::Footprint, &code)
}

/// Every CCG or Sub-ICB Location in force on a date (default: 2017), with its parents.
#[utoipa::path(get, path = "/api/v1/sub-areas", tag = "areas",
    params(DateParams),
    responses((status = 200, body = DatedAreaList),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No sub-area edition is held for the date", body = Problem, content_type = "application/problem+json")))]
pub async fn list_sub_areas(State(state): State<AppState>, Query(p): Query<DateParams>) -> Result<Response, ApiError> {
    list(&state.atlas().data, p.date, Kind::SubArea)
}

/// One CCG or Sub-ICB Location of a date's edition, with its footprint and alliances.
#[utoipa::path(get, path = "/api/v1/sub-areas/{code}", tag = "areas",
    params(("code" = String, Path, example = "E38000008"), DateParams),
    responses((status = 200, body = DatedArea),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_sub_area(
    State(state): State<AppState>,
    PathText(code): PathText,
    Query(p): Query<DateParams>,
) -> Result<Response, ApiError> {
    one(&state.atlas().data, p.date, Kind::SubArea, &code)
}

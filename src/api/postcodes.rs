//! `/api/v1/postcodes…` and `/api/v1/outcodes/{outcode}`: areas by postcode.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::{self, BulkRequest};
use super::error::{ApiError, Problem};
use super::extract::PathText;
use super::query::{when, DateParam, DateParams, Lat, Limit, Lon, NoParams, Query, Radius};
use super::AppState;
use crate::atlas::Atlas;
use crate::model::AllianceKind;
use crate::postcode::index::Found;
use crate::postcode::parse::parse_outward;
use crate::postcode::{Postcode, PostcodeIndex};
use crate::views::PostcodeResult;

fn index(atlas: &Atlas) -> Result<&PostcodeIndex, ApiError> {
    atlas.postcodes.as_ref().ok_or_else(|| ApiError::Unavailable {
        detail: "this server was started without a postcode index".into(),
    })
}

/// Finds one postcode, or says precisely why not.
fn find<'a>(index: &'a PostcodeIndex, raw: &str) -> Result<Found<'a>, ApiError> {
    let shown: String = raw.chars().take(20).collect();
    let postcode = Postcode::parse(raw)
        .map_err(|e| ApiError::parameter("postcode", format!("{shown:?} is not a valid UK postcode: {e}")))?;
    // Northern Ireland's postcodes are served (with no English area) when a source lists them;
    // the Channel Islands' and the Isle of Man's have no location in any source.
    index
        .get(&postcode)
        .ok_or_else(|| match postcode.outside_great_britain() {
            Some(place) => ApiError::not_found(format!(
                "{postcode} is in {place}; the postcodes held ({}) do not include it",
                index.describe_sources()
            )),
            None => ApiError::not_found(format!("postcode {postcode} is not in {}", index.describe_sources())),
        })
}

/// Alliance, footprint and sub-area for one postcode (case and spaces are ignored).
#[utoipa::path(get, path = "/api/v1/postcodes/{postcode}", tag = "postcodes",
    params(("postcode" = String, Path, example = "LS1 1AZ"), DateParams),
    responses(
        (status = 200, body = PostcodeResult),
        (status = 400, description = "Malformed postcode; date malformed or outside every edition held", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Well-formed but not in the data (Channel Islands and Isle of Man postcodes have no location in any source)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No postcode index loaded", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_postcode(
    State(state): State<AppState>,
    PathText(raw): PathText,
    Query(params): Query<DateParams>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let when = when(&atlas.data, params.date)?;
    let index = index(&atlas)?;
    let found = find(index, &raw)?;
    Ok(super::json_response(&atlas.postcode_result(&found, &when)))
}

/// A postcode's areas in every period of editions held, and what changed between them.
#[utoipa::path(get, path = "/api/v1/postcodes/{postcode}/timeline", tag = "postcodes",
    params(("postcode" = String, Path, example = "S40 1LL")),
    responses(
        (status = 200, body = crate::views::Timeline),
        (status = 400, description = "Malformed postcode", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Well-formed but not in the data", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No postcode index loaded", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn postcode_timeline(
    State(state): State<AppState>,
    PathText(raw): PathText,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let index = index(&atlas)?;
    let found = find(index, &raw)?;
    Ok(super::json_response(
        &atlas.data.postcode_timeline(&found, Some(&atlas.fragments)),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ItemError {
    status: u16,
    detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct BulkPostcodeItem<'a> {
    /// The postcode as sent.
    query: &'a str,
    result: Option<PostcodeResult<'a>>,
    error: Option<ItemError>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkPostcodeResponse<'a> {
    results: Vec<BulkPostcodeItem<'a>>,
}

/// A bulk postcode lookup.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkPostcodeRequest {
    /// 1 to 1000 postcodes.
    #[schema(example = json!(["LS1 1AZ", "s40 1ll"]))]
    postcodes: Vec<String>,
}

impl BulkRequest for BulkPostcodeRequest {
    fn items(&self) -> (&'static str, usize) {
        ("postcodes", self.postcodes.len())
    }
}

/// Up to 1000 postcodes; each item carries its own result or error, in request order.
#[utoipa::path(post, path = "/api/v1/postcodes", tag = "postcodes",
    params(DateParams),
    request_body = BulkPostcodeRequest,
    responses(
        (status = 200, body = BulkPostcodeResponse),
        (status = 400, description = "date malformed or outside every edition held, or an unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB or more than 1000 postcodes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Body malformed, or an item is not a string", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No postcode index loaded", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_postcodes(
    State(state): State<AppState>,
    Query(params): Query<DateParams>,
    body::Json(request): body::Json<BulkPostcodeRequest>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let when = when(&atlas.data, params.date)?;
    let index = index(&atlas)?;
    let results = request
        .postcodes
        .iter()
        .map(|query| match find(index, query) {
            Ok(found) => BulkPostcodeItem {
                query,
                result: Some(atlas.postcode_result(&found, &when)),
                error: None,
            },
            Err(e) => BulkPostcodeItem {
                query,
                result: None,
                error: Some(ItemError {
                    status: e.status().as_u16(),
                    detail: e.to_string(),
                }),
            },
        })
        .collect();
    Ok(super::json_response(&BulkPostcodeResponse { results }))
}

#[derive(Clone, Copy, Serialize, ToSchema)]
pub struct AreaShare<'a> {
    code: &'a str,
    name: &'a str,
    /// For alliances: `cancer_alliance` or `national_cancer_vanguard`; for footprints and
    /// sub-areas: `stp`, `icb`, `ccg` or `sub_icb_location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    kind: Option<ShareKind<'a>>,
    postcodes: u64,
    /// Fraction of the district's postcodes, 0 to 1.
    share: f64,
}

#[derive(Clone, Copy, Serialize)]
#[serde(untagged)]
enum ShareKind<'a> {
    Alliance(AllianceKind),
    Area(&'a str),
}

#[derive(Serialize, ToSchema)]
pub struct OutcodeResult<'a> {
    #[schema(example = "S40")]
    outcode: String,
    postcodes: u64,
    /// Mean position of the district's postcodes.
    centroid: Centroid,
    /// True when the district's postcodes fall in more than one alliance.
    straddles_alliances: bool,
    /// True when the district's postcodes fall in more than one footprint.
    straddles_stps: bool,
    alliances: Vec<AreaShare<'a>>,
    /// The footprints when they are STPs (the 2017 shape); absent for ICB editions.
    #[serde(skip_serializing_if = "Option::is_none")]
    stps: Option<Vec<AreaShare<'a>>>,
    footprints: Vec<AreaShare<'a>>,
    sub_areas: Vec<AreaShare<'a>>,
    /// Postcodes with no alliance (outside England, beyond the tolerance, or no edition held).
    without_area: u64,
    #[schema(value_type = String, example = "2017-04-01")]
    as_of: chrono::NaiveDate,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notes: &'a [String],
}

#[derive(Serialize, ToSchema)]
pub struct Centroid {
    lon: f64,
    lat: f64,
}

/// A postcode district: centroid, count, and the alliances, footprints and sub-areas its
/// postcodes fall in.
#[utoipa::path(get, path = "/api/v1/outcodes/{outcode}", tag = "postcodes",
    params(("outcode" = String, Path, example = "S40"), DateParams),
    responses((status = 200, body = OutcodeResult),
              (status = 503, description = "No postcode index loaded", body = Problem, content_type = "application/problem+json"),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_outcode(
    State(state): State<AppState>,
    PathText(raw): PathText,
    Query(params): Query<DateParams>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let when = when(&atlas.data, params.date)?;
    let index = index(&atlas)?;
    let shown: String = raw.chars().take(20).collect();
    let outward = parse_outward(&raw)
        .map_err(|e| ApiError::parameter("outcode", format!("{shown:?} is not a valid outward code: {e}")))?;
    let name = String::from_utf8_lossy(&outward).trim_end().to_string();
    let area: String = name.chars().take_while(char::is_ascii_alphabetic).collect();
    let postcodes = index
        .outcode(&outward)
        .ok_or_else(|| match crate::postcode::parse::area_outside_great_britain(&area) {
            Some(place) => ApiError::not_found(format!(
                "district {name} is in {place}; the postcodes held ({}) include none of it",
                index.describe_sources()
            )),
            None => ApiError::not_found(format!(
                "no postcodes in district {name} in {}",
                index.describe_sources()
            )),
        })?;
    let (mut n, mut sx, mut sy, mut without) = (0u64, 0.0, 0.0, 0u64);
    let mut counts: [BTreeMap<u16, u64>; 3] = Default::default();
    for f in postcodes {
        n += 1;
        sx += f.lon;
        sy += f.lat;
        let at = f.areas.at(when.period);
        if at.alliance.is_none() {
            without += 1;
        }
        for (count, area) in counts.iter_mut().zip([at.alliance, at.footprint, at.sub_area]) {
            if let Some(a) = area {
                *count.entry(a).or_default() += 1;
            }
        }
    }
    let data = &atlas.data;
    let period = &data.periods[when.period];
    let share = |count: u64| (count as f64 / n as f64 * 1e4).round() / 1e4;
    let shares = |counts: &BTreeMap<u16, u64>, edition: Option<usize>| -> Vec<AreaShare<'_>> {
        let Some(e) = edition else { return vec![] };
        let mut list: Vec<AreaShare> = counts
            .iter()
            .map(|(&i, &count)| {
                let (code, name, kind) = match data.editions[e].spec.kind {
                    crate::model::Kind::Alliance => {
                        let r = data.alliance_ref_in(e, i);
                        (r.code, r.name, Some(ShareKind::Alliance(r.kind)))
                    }
                    _ => {
                        let r = data.area_ref(e, i);
                        (r.code, r.name, Some(ShareKind::Area(r.kind)))
                    }
                };
                AreaShare {
                    code,
                    name,
                    kind,
                    postcodes: count,
                    share: share(count),
                }
            })
            .collect();
        list.sort_by(|a, b| b.postcodes.cmp(&a.postcodes).then(a.code.cmp(b.code)));
        list
    };
    let alliances = shares(&counts[0], period.alliance);
    let footprints = shares(&counts[1], period.footprint);
    let stps = data.footprint_is_stp(when.period).then(|| {
        footprints
            .iter()
            .map(|s| AreaShare {
                kind: None, // the 2017 shape
                ..*s
            })
            .collect()
    });
    let round6 = |v: f64| (v * 1e6).round() / 1e6;
    Ok(Json(OutcodeResult {
        outcode: name,
        postcodes: n,
        centroid: Centroid {
            lon: round6(sx / n as f64),
            lat: round6(sy / n as f64),
        },
        straddles_alliances: alliances.len() > 1,
        straddles_stps: footprints.len() > 1,
        alliances,
        stps,
        footprints,
        sub_areas: shares(&counts[2], period.sub_area),
        without_area: without,
        as_of: when.as_of,
        notes: &period.notes,
    })
    .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct NearbyPostcode<'a> {
    #[serde(flatten)]
    result: PostcodeResult<'a>,
    distance_m: f64,
}

#[derive(Serialize, ToSchema)]
pub struct NearbyResponse<'a> {
    lon: f64,
    lat: f64,
    radius_m: f64,
    results: Vec<NearbyPostcode<'a>>,
}

/// Where and how far to search for postcodes.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NearbyParams {
    /// Longitude, WGS84 degrees (-180 to 180).
    #[param(value_type = f64, example = -1.5492)]
    lon: Lon,
    /// Latitude, WGS84 degrees (-90 to 90).
    #[param(value_type = f64, example = 53.7997)]
    lat: Lat,
    /// Metres, 0 to 2000 (default 500).
    #[param(value_type = Option<f64>)]
    radius: Option<Radius>,
    /// 1 to 100 (default 10).
    #[param(value_type = Option<u32>)]
    limit: Option<Limit>,
    /// The date to answer for, `YYYY-MM-DD` or `latest` (default: the 2017 configuration).
    #[param(value_type = Option<String>)]
    date: Option<DateParam>,
}

/// Postcodes nearest a point, within a radius, nearest first.
#[utoipa::path(get, path = "/api/v1/postcodes", tag = "postcodes",
    params(NearbyParams),
    responses((status = 200, body = NearbyResponse),
              (status = 503, description = "No postcode index loaded", body = Problem, content_type = "application/problem+json"),
              (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn nearby_postcodes(
    State(state): State<AppState>,
    Query(p): Query<NearbyParams>,
) -> Result<Response, ApiError> {
    let (lon, lat) = (p.lon.0, p.lat.0);
    let radius = p.radius.map_or(500.0, |r| r.0);
    let limit = p.limit.map_or(10, |l| l.0);
    let atlas = state.atlas();
    let when = when(&atlas.data, p.date)?;
    let index = index(&atlas)?;
    let results = index
        .nearest(lon, lat, radius, limit)
        .into_iter()
        .map(|(f, d)| NearbyPostcode {
            result: atlas.postcode_result(&f, &when),
            distance_m: (d * 10.0).round() / 10.0,
        })
        .collect();
    Ok(Json(NearbyResponse {
        lon,
        lat,
        radius_m: radius,
        results,
    })
    .into_response())
}

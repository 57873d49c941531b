//! `GET /api/v1/surroundings`: what the map page says about a point beyond its areas: the
//! local-authority district it is in, and whether another alliance's border is near.
//!
//! Kept apart from `/api/v1/lookup` on purpose: the lookup is the tracked hot path, and a
//! nearest-edge search over the alliance layer costs far more than the grid's answer. Only
//! the page (and any client that asks) pays for it.

use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::query::{when, Point, PointParams};
use super::AppState;
use crate::views::AllianceRef;

/// How near another alliance must be to be reported, in metres.
pub const BORDER_WITHIN_M: f64 = 100.0;

/// A local-authority district (the map's context file: the districts of 2017).
#[derive(Serialize, ToSchema)]
pub struct District<'a> {
    #[schema(example = "E08000035")]
    pub code: &'a str,
    #[schema(example = "Leeds")]
    pub name: &'a str,
}

/// Another alliance whose boundary is within 100 m of the point.
#[derive(Serialize, ToSchema)]
pub struct NearBorder<'a> {
    /// Metres from the point to the other alliance's boundary (to the decimetre); 0 on the
    /// border itself.
    #[schema(example = 42.5)]
    pub distance_m: f64,
    /// The alliance across the border.
    pub alliance: AllianceRef<'a>,
}

/// What is around a point.
#[derive(Serialize, ToSchema)]
pub struct Surroundings<'a> {
    #[schema(example = -1.5492)]
    pub lon: f64,
    #[schema(example = 53.7997)]
    pub lat: f64,
    /// The date the answer is for (without `date`: the 2017 configuration).
    #[schema(value_type = String, example = "2017-04-01")]
    pub as_of: NaiveDate,
    /// The local-authority district covering the point (2017 districts, whatever the date:
    /// the only edition held); null outside every district, or when the data has none.
    pub district: Option<District<'a>>,
    /// How far `border` looks, in metres.
    #[schema(example = 100.0)]
    pub border_within_m: f64,
    /// The nearest alliance other than the one the lookup answers, when its boundary is within
    /// `border_within_m` of the point; else null.
    pub border: Option<NearBorder<'a>>,
}

/// The district a point is in, and the nearest other alliance within 100 m.
#[utoipa::path(get, path = "/api/v1/surroundings", tag = "lookup",
    params(PointParams),
    responses(
        (status = 200, description = "The point's district and any alliance border within 100 m", body = Surroundings),
        (status = 400, description = "lon or lat missing, not a number, not finite or out of range; date malformed or outside every edition held; or an unknown parameter", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn surroundings(State(state): State<AppState>, Point(p): Point) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let data = &atlas.data;
    let when = when(data, p.date)?;
    let (lon, lat) = (p.lon.0, p.lat.0);
    let locator = atlas.locator_at(when.period);
    let answered = locator.locate(lon, lat).alliance;
    let border = data.periods[when.period]
        .alliance
        .zip(locator.alliance_layer())
        .and_then(|(e, layer)| {
            // Another alliance's polygon covering the point (on the border itself, or where the
            // relation tables chose the answer over the alliance layer) is 0 m away; else the
            // nearest edge of any other within reach.
            let covering = layer.covering(lon, lat);
            let (other, d) = match covering.as_slice().iter().find(|&&a| Some(a) != answered) {
                Some(&a) => (a, 0.0),
                None => layer.nearest(lon, lat, BORDER_WITHIN_M, |a| Some(a) != answered)?,
            };
            Some(NearBorder {
                distance_m: (d * 10.0).round() / 10.0,
                alliance: data.alliance_ref_in(e, other),
            })
        });
    let district = atlas
        .tiles
        .district_at(data, lon, lat)
        .map(|(code, name)| District { code, name });
    Ok(super::json_response(&Surroundings {
        lon,
        lat,
        as_of: when.as_of,
        district,
        border_within_m: BORDER_WITHIN_M,
        border,
    }))
}

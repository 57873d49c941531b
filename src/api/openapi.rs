//! The OpenAPI document, generated from the handlers' own annotations and types.

use axum::Json;
use utoipa::OpenApi;

use super::{areas, boundaries, error, lookup, ops, postcodes, web};

pub const ATTRIBUTION: &str = "Contains public sector information licensed under the Open Government Licence v3.0. \
Contains OS data © Crown copyright and database right 2018. Contains Royal Mail data © Royal Mail copyright and database right 2018. \
Contains National Statistics data © Crown copyright and database right 2018.";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "alliance-map",
        description = "Which NHS Cancer Alliance (ONS CALNCV17) and STP footprint (ONS STP17) covers a point or a postcode in England, 2017 configuration.\n\n\
Data licence: Contains public sector information licensed under the Open Government Licence v3.0. \
Contains OS data © Crown copyright and database right 2018. Contains Royal Mail data © Royal Mail copyright and database right 2018. \
Contains National Statistics data © Crown copyright and database right 2018.",
        license(
            name = "Data: Open Government Licence v3.0",
            url = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
        )
    ),
    paths(
        super::healthz,
        lookup::lookup_get,
        lookup::lookup_post,
        areas::list_alliances,
        areas::get_alliance,
        areas::alliance_geometry,
        areas::list_stps,
        areas::get_stp,
        areas::stp_geometry,
        postcodes::get_postcode,
        postcodes::post_postcodes,
        postcodes::nearby_postcodes,
        postcodes::get_outcode,
        boundaries::boundaries,
        web::config,
        ops::readyz,
        ops::metrics,
        ops::admin_reload,
    ),
    components(schemas(error::Problem))
)]
pub struct ApiDoc;

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

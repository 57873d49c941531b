//! `alliance-map lookup`: the answer for one point or one postcode, printed as the API gives it.

use clap::Args;

use super::{load_for_one_run, postcode_index, print_json, DataArgs, Failure, PostcodeArgs};
use crate::atlas::Editions;
use crate::model::coordinates::{check_range, LAT_RANGE, LON_RANGE};
use crate::model::dates::AsOf;
use crate::postcode::Postcode;

#[derive(Args, Debug)]
pub struct LookupArgs {
    #[arg(long, allow_negative_numbers = true, requires = "lat", conflicts_with = "postcode")]
    pub lon: Option<f64>,
    #[arg(long, allow_negative_numbers = true, requires = "lon")]
    pub lat: Option<f64>,
    #[arg(long, required_unless_present = "lon")]
    pub postcode: Option<String>,
    /// The date to answer for, as YYYY-MM-DD, or "latest" (default: the 2017 configuration).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub date: Option<AsOf>,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub postcodes: PostcodeArgs,
}

pub fn run(args: LookupArgs) -> Result<(), Failure> {
    match (args.lon, args.lat, &args.postcode) {
        (Some(lon), Some(lat), _) => {
            for (name, v, range) in [("lon", lon, LON_RANGE), ("lat", lat, LAT_RANGE)] {
                if !v.is_finite() {
                    return Err(Failure::Usage(format!("--{name} must be finite, got {v}")));
                }
                check_range(v, range).map_err(|m| Failure::Usage(format!("--{name} {m}")))?;
            }
            let atlas = load_for_one_run(&args.data, None, Editions::InForceOn(args.date))?;
            let when = atlas
                .data
                .when(args.date)
                .map_err(|e| Failure::Usage(format!("--date: {e}")))?;
            // Without the pre-rendered fragments, so the pretty printer lays every object out.
            let located = atlas.locator_at(when.period).locate(lon, lat);
            print_json(&atlas.data.lookup_result(lon, lat, &when, &located, None))
        }
        (_, _, Some(raw)) => {
            let pc =
                Postcode::parse(raw).map_err(|e| Failure::Usage(format!("{raw:?} is not a valid UK postcode: {e}")))?;
            let atlas = load_for_one_run(&args.data, Some(&args.postcodes), Editions::All)?;
            let index = postcode_index(atlas)?;
            let found = index
                .get(&pc)
                .ok_or_else(|| Failure::NotFound(format!("postcode {pc} is not in {}", index.describe_sources())))?;
            let when = atlas
                .data
                .when(args.date)
                .map_err(|e| Failure::Usage(format!("--date: {e}")))?;
            print_json(&atlas.data.postcode_result(&found, &when, None))
        }
        _ => Err(Failure::Usage("give --lon and --lat, or --postcode".into())),
    }
}

/// `--date`: YYYY-MM-DD or `latest`.
pub fn parse_date(text: &str) -> Result<AsOf, String> {
    text.parse()
}

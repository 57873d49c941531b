//! The lookup query parser: never panics; accepted coordinates are finite and in range.
#![no_main]
use alliance_map::api::params::{lon_lat, Params};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    if let Ok((lon, lat)) = Params::parse(Some(&query), &["lon", "lat"]).and_then(|p| lon_lat(&p)) {
        assert!(lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0);
    }
});

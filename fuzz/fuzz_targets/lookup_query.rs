//! The strict query extractor on the lookup's parameters: never panics; accepted coordinates
//! are finite and in range.
#![no_main]
use alliance_map::api::query::{parse, PointParams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    if let Ok(p) = parse::<PointParams>(Some(&query)) {
        let (lon, lat) = (p.lon.0, p.lat.0);
        assert!(lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0);
    }
});

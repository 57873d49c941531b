//! The coordinate ranges every input is checked against (query, JSON body, CLI, CSV).

use std::ops::RangeInclusive;

/// Longitude, WGS84 degrees.
pub const LON_RANGE: RangeInclusive<f64> = -180.0..=180.0;
/// Latitude, WGS84 degrees.
pub const LAT_RANGE: RangeInclusive<f64> = -90.0..=90.0;

/// `value` if within `range`; else a message that follows the value's name
/// (`must be between -90 and 90, got 123`).
pub fn check_range(value: f64, range: RangeInclusive<f64>) -> Result<f64, String> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "must be between {} and {}, got {value}",
            range.start(),
            range.end()
        ))
    }
}

/// Whether a longitude/latitude pair is finite and in range.
pub fn is_valid(lon: f64, lat: f64) -> bool {
    LON_RANGE.contains(&lon) && LAT_RANGE.contains(&lat)
}

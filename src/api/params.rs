//! Strict query-string parsing: every parameter is known, given once, and well formed.
//!
//! axum's `Query` extractor answers bad input with plain text; these helpers answer with a
//! problem naming the parameter, and reject unknown or repeated parameters so a typo
//! (`lng=`) is not silently ignored.

use super::error::ApiError;

/// The parsed query: (name, value) pairs, each name from the allowed list, at most once.
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Longest query string accepted; real queries are a few dozen bytes.
pub const MAX_QUERY_LEN: usize = 2048;

impl Params {
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Self, ApiError> {
        let raw = raw.unwrap_or("");
        if raw.len() > MAX_QUERY_LEN {
            return Err(ApiError::parameter(
                "(query)",
                format!(
                    "query string is {} bytes; at most {MAX_QUERY_LEN} are accepted",
                    raw.len()
                ),
            ));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            if k.is_empty() {
                return Err(ApiError::parameter(
                    "(query)",
                    "query string has a parameter with an empty name",
                ));
            }
            if !allowed.contains(&k.as_ref()) {
                let expected = if allowed.is_empty() {
                    "this endpoint takes no query parameters".to_string()
                } else {
                    format!("expected {}", allowed.join(", "))
                };
                return Err(ApiError::parameter(
                    k.as_ref(),
                    format!("unknown query parameter {k:?}; {expected}"),
                ));
            }
            if pairs.iter().any(|(seen, _)| seen == &k) {
                return Err(ApiError::parameter(
                    k.as_ref(),
                    format!("query parameter {k} is given more than once"),
                ));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Params { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::parameter(name, format!("query parameter {name} is required")))
    }

    /// A finite number within `range`, as parameter `name`.
    pub fn number(&self, name: &str, range: std::ops::RangeInclusive<f64>) -> Result<Option<f64>, ApiError> {
        self.get(name).map(|v| parse_number(name, v, range)).transpose()
    }
}

/// Parses a finite decimal within `range`; the error names `name` and says what was wrong.
pub fn parse_number(name: &str, raw: &str, range: std::ops::RangeInclusive<f64>) -> Result<f64, ApiError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(ApiError::parameter(name, format!("{name} is empty; expected a number")));
    }
    let shown: String = text.chars().take(40).collect();
    // Only plain decimals: Rust would also accept "inf", "NaN" and "infinity".
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    let value: f64 = match text.parse() {
        Ok(v) if plain => v,
        _ => {
            return Err(ApiError::parameter(
                name,
                format!("{name} must be a decimal number, got {shown:?}"),
            ))
        }
    };
    if !value.is_finite() {
        return Err(ApiError::parameter(
            name,
            format!("{name} must be finite, got {shown:?}"),
        ));
    }
    check_range(name, value, range)
}

pub fn check_range(name: &str, value: f64, range: std::ops::RangeInclusive<f64>) -> Result<f64, ApiError> {
    if !range.contains(&value) {
        return Err(ApiError::parameter(
            name,
            format!(
                "{name} must be between {} and {}, got {value}",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(value)
}

pub const LON_RANGE: std::ops::RangeInclusive<f64> = -180.0..=180.0;
pub const LAT_RANGE: std::ops::RangeInclusive<f64> = -90.0..=90.0;

/// The `lon` and `lat` parameters, both required.
pub fn lon_lat(params: &Params) -> Result<(f64, f64), ApiError> {
    let lon = parse_number("lon", params.required("lon")?, LON_RANGE)?;
    let lat = parse_number("lat", params.required("lat")?, LAT_RANGE)?;
    Ok((lon, lat))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter_of(e: ApiError) -> String {
        match e {
            ApiError::InvalidParameter { parameter, .. } => parameter,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn accepts_plain_decimals() {
        let p = Params::parse(Some("lon=-1.5492&lat=5.37997e1"), &["lon", "lat"]).unwrap();
        assert_eq!(lon_lat(&p).unwrap(), (-1.5492, 53.7997));
    }

    #[test]
    fn rejects_bad_values_naming_the_parameter() {
        for (q, param, says) in [
            ("lat=1", "lon", "required"),
            ("lon=&lat=1", "lon", "empty"),
            ("lon=abc&lat=1", "lon", "decimal number"),
            ("lon=NaN&lat=1", "lon", "decimal number"),
            ("lon=inf&lat=1", "lon", "decimal number"),
            ("lon=1e999&lat=1", "lon", "finite"),
            ("lon=1&lat=91", "lat", "between -90 and 90"),
            ("lon=-180.5&lat=1", "lon", "between -180 and 180"),
            ("lon=1&lat=1&lng=2", "lng", "unknown"),
            ("lon=1&lon=2&lat=1", "lon", "more than once"),
        ] {
            let e = Params::parse(Some(q), &["lon", "lat"])
                .and_then(|p| lon_lat(&p))
                .unwrap_err();
            assert!(e.to_string().contains(says), "{q}: {e}");
            assert_eq!(parameter_of(e), param, "{q}");
        }
        let long = "lon=1&".repeat(400);
        assert!(Params::parse(Some(&long), &["lon"]).is_err());
    }

    proptest::proptest! {
        /// Any query string: parsing never panics, and a failure always names a parameter.
        #[test]
        fn never_panics_on_arbitrary_queries(q in "\\PC{0,80}", raw in proptest::collection::vec(proptest::num::u8::ANY, 0..60)) {
            for query in [q.clone(), String::from_utf8_lossy(&raw).into_owned()] {
                match Params::parse(Some(&query), &["lon", "lat"]).and_then(|p| lon_lat(&p)) {
                    Ok((lon, lat)) => proptest::prop_assert!(lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0),
                    Err(ApiError::InvalidParameter { parameter, .. }) => proptest::prop_assert!(!parameter.is_empty()),
                    Err(other) => proptest::prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }
    }
}

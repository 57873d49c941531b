//! The strict query extractor: `Query<T>` parses the query string into `T`, a serde struct
//! with `deny_unknown_fields` that is also the endpoint's documented parameter list
//! (`utoipa::IntoParams`). Every failure is a 400 problem naming the parameter: unknown
//! (`lng=`, so a typo is never silently ignored), repeated, missing, malformed or out of range.
//!
//! Values arrive as text; the value types here ([`Lon`], [`Lat`], [`Radius`], [`Limit`])
//! parse and range-check them, so a handler only ever sees valid input.

use std::fmt;
use std::ops::RangeInclusive;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::{self, DeserializeOwned, IntoDeserializer};
use serde::Deserialize;

use super::error::ApiError;
use crate::model::coordinates::{check_range, LAT_RANGE, LON_RANGE};
use crate::model::dates::AsOf;

/// Longest query string accepted; real queries are a few dozen bytes.
pub const MAX_QUERY_LEN: usize = 2048;

/// A query string parsed strictly into `T`.
pub struct Query<T>(pub T);

/// For endpoints that take no query parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse(parts.uri.query()).map(Query)
    }
}

/// Parses a raw query string (without `?`) into `T`.
pub fn parse<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
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
    // Decoded text borrows from the query string unless it had escapes.
    let mut pairs = Vec::with_capacity(4);
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        if k.is_empty() {
            return Err(ApiError::parameter(
                "(query)",
                "query string has a parameter with an empty name",
            ));
        }
        pairs.push((k, Text(v)));
    }
    // The common case, valid input, without tracking where in `T` each value goes; on a
    // failure the query is parsed again with tracking, to name the parameter.
    let plain = de::value::MapDeserializer::<_, QueryError>::new(pairs.iter().cloned());
    if let Ok(value) = T::deserialize(plain) {
        return Ok(value);
    }
    let map = de::value::MapDeserializer::<_, QueryError>::new(pairs.into_iter());
    serde_path_to_error::deserialize(map).map_err(|e| {
        let field = e.path().to_string();
        match e.into_inner() {
            QueryError::Unknown { name, expected } => {
                let expected = if expected.is_empty() {
                    "this endpoint takes no query parameters".to_string()
                } else {
                    format!("expected {}", expected.join(", "))
                };
                ApiError::parameter(&name, format!("unknown query parameter {name:?}; {expected}"))
            }
            QueryError::Duplicate(name) => {
                ApiError::parameter(name, format!("query parameter {name} is given more than once"))
            }
            QueryError::Missing(name) => ApiError::parameter(name, format!("query parameter {name} is required")),
            QueryError::Value(message) => ApiError::parameter(&field, format!("{field} {message}")),
        }
    })
}

/// Why a query did not parse; serde reports unknown, repeated and missing fields through
/// these hooks, so the problem can name the parameter.
#[derive(Debug)]
enum QueryError {
    Unknown {
        name: String,
        expected: Vec<&'static str>,
    },
    Duplicate(&'static str),
    Missing(&'static str),
    /// A value's problem, phrased to follow the parameter's name (`must be finite, got …`).
    Value(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Unknown { name, .. } => write!(f, "unknown parameter {name}"),
            QueryError::Duplicate(n) => write!(f, "{n} is given more than once"),
            QueryError::Missing(n) => write!(f, "{n} is required"),
            QueryError::Value(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for QueryError {}

impl de::Error for QueryError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        QueryError::Value(msg.to_string())
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        QueryError::Unknown {
            name: field.chars().take(40).collect(),
            expected: expected.to_vec(),
        }
    }
    fn duplicate_field(field: &'static str) -> Self {
        QueryError::Duplicate(field)
    }
    fn missing_field(field: &'static str) -> Self {
        QueryError::Missing(field)
    }
}

/// One query value. Text that deserializes as an option (present means `Some`), an enum
/// variant name or, through the value types below, a number.
#[derive(Clone)]
struct Text<'a>(std::borrow::Cow<'a, str>);

impl<'de> IntoDeserializer<'de, QueryError> for Text<'_> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Text<'_> {
    type Error = QueryError;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        match self.0 {
            std::borrow::Cow::Borrowed(s) => visitor.visit_str(s),
            std::borrow::Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_some(self)
    }

    /// A flag: `true` or `false`, nothing else (so `timeline=yes` is refused, not guessed).
    fn deserialize_bool<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        match self.0.as_ref() {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(QueryError::Value(format!("must be true or false, got {other:?}"))),
        }
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        let text: de::value::StringDeserializer<QueryError> = self.0.into_owned().into_deserializer();
        de::Deserializer::deserialize_enum(text, name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// Parses a finite plain decimal within `range`. The message follows the parameter's name.
pub fn parse_decimal(raw: &str, range: RangeInclusive<f64>) -> Result<f64, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("is empty; expected a number".into());
    }
    let shown: String = text.chars().take(40).collect();
    // Only plain decimals: Rust would also accept "inf", "NaN" and "infinity".
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    let value: f64 = match text.parse() {
        Ok(v) if plain => v,
        _ => return Err(format!("must be a decimal number, got {shown:?}")),
    };
    if !value.is_finite() {
        return Err(format!("must be finite, got {shown:?}"));
    }
    check_range(value, range)
}

/// Reads query text as a decimal within a range, without copying the text.
struct DecimalVisitor(RangeInclusive<f64>);

impl de::Visitor<'_> for DecimalVisitor {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal number")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<f64, E> {
        parse_decimal(text, self.0).map_err(E::custom)
    }
}

/// Declares a number parsed from query text and checked against a range.
macro_rules! bounded_decimal {
    ($(#[$doc:meta])* $name:ident, $range:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name(pub f64);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(DecimalVisitor($range)).map($name)
            }
        }
    };
}

bounded_decimal!(
    /// Longitude, WGS84 degrees.
    Lon,
    LON_RANGE
);
bounded_decimal!(
    /// Latitude, WGS84 degrees.
    Lat,
    LAT_RANGE
);
bounded_decimal!(
    /// A search radius in metres.
    Radius,
    0.0..=MAX_RADIUS_M
);

/// Largest radius of a nearest-postcodes search, metres.
pub const MAX_RADIUS_M: f64 = 2000.0;
/// Most results of a nearest-postcodes search.
pub const MAX_LIMIT: usize = 100;

/// How many results, 1 to [`MAX_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit(pub usize);

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.trim()
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .map(Limit)
            .ok_or_else(|| de::Error::custom(format!("must be a whole number from 1 to {MAX_LIMIT}")))
    }
}

impl PointParams {
    /// The lookup's own query in its usual plain form (`lon=…&lat=…`, either order, no escapes,
    /// values in range), read without the general parser; anything else (`None`) goes through
    /// [`parse`], which accepts the same queries and words every error. The hot path of a
    /// single lookup: see docs/PERFORMANCE.md.
    pub fn parse_plain(raw: &str) -> Option<PointParams> {
        if raw.len() > MAX_QUERY_LEN {
            return None;
        }
        let (first, second) = raw.split_once('&')?;
        let value = |pair: &str, key: &str| -> Option<f64> {
            let v = pair.strip_prefix(key)?.strip_prefix('=')?;
            let plain = !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E'));
            plain.then(|| v.parse::<f64>().ok()).flatten()
        };
        let (lon, lat) = match (value(first, "lon"), value(second, "lat")) {
            (Some(lon), Some(lat)) => (lon, lat),
            _ => (value(second, "lon")?, value(first, "lat")?),
        };
        let in_range = lon.is_finite() && lat.is_finite() && LON_RANGE.contains(&lon) && LAT_RANGE.contains(&lat);
        in_range.then_some(PointParams {
            lon: Lon(lon),
            lat: Lat(lat),
            date: None,
        })
    }
}

/// `lon` and `lat` by [`PointParams::parse_plain`] when the query is in its plain form, else by
/// the strict parser.
pub struct Point(pub PointParams);

impl<S: Send + Sync> FromRequestParts<S> for Point {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query();
        match raw.and_then(PointParams::parse_plain) {
            Some(p) => Ok(Point(p)),
            None => parse(raw).map(Point),
        }
    }
}

/// `lon` and `lat`, both required; `date` optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PointParams {
    /// Longitude, WGS84 degrees (-180 to 180).
    #[param(value_type = f64, example = -1.5492)]
    pub lon: Lon,
    /// Latitude, WGS84 degrees (-90 to 90).
    #[param(value_type = f64, example = 53.7997)]
    pub lat: Lat,
    /// The date to answer for, `YYYY-MM-DD`, or `latest` for the latest editions held
    /// (without it: the 2017 configuration).
    #[param(value_type = Option<String>, example = "2023-07-01")]
    #[serde(default)]
    pub date: Option<DateParam>,
}

/// `lon` and `lat`, both required, and nothing else.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PointOnlyParams {
    /// Longitude, WGS84 degrees (-180 to 180).
    #[param(value_type = f64, example = -1.4214)]
    pub lon: Lon,
    /// Latitude, WGS84 degrees (-90 to 90).
    #[param(value_type = f64, example = 53.2350)]
    pub lat: Lat,
}

/// Only `date` (optional).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DateParams {
    /// The date to answer for, `YYYY-MM-DD`, or `latest` for the latest editions held
    /// (without it: the 2017 configuration).
    #[param(value_type = Option<String>, example = "2023-07-01")]
    #[serde(default)]
    pub date: Option<DateParam>,
}

/// A `date` parameter: `YYYY-MM-DD` (a real calendar date) or `latest`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DateParam(pub AsOf);

impl<'de> Deserialize<'de> for DateParam {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = DateParam;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a date as YYYY-MM-DD or \"latest\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<DateParam, E> {
                text.parse().map(DateParam).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// The answers' date and period for an optional `date` parameter; a date on which no
/// edition is held is a 400 naming `date`.
pub fn when(data: &crate::model::Dataset, date: Option<DateParam>) -> Result<crate::views::When, ApiError> {
    data.when(date.map(|d| d.0))
        .map_err(|e| ApiError::parameter("date", e.to_string()))
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

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // read through Debug in the tests
    struct WithOptions {
        radius: Option<Radius>,
        limit: Option<Limit>,
        detail: Option<String>,
    }

    #[test]
    fn the_plain_path_agrees_with_the_strict_parser() {
        let strict = |q: &str| parse::<PointParams>(Some(q)).ok().map(|p| (p.lon.0, p.lat.0));
        let plain = |q: &str| PointParams::parse_plain(q).map(|p| (p.lon.0, p.lat.0));
        for q in [
            "lon=-1.5492&lat=53.7997",
            "lat=53.7997&lon=-1.5492",
            "lon=1e1&lat=-2.5E1",
            "lon=180&lat=-90",
        ] {
            assert!(plain(q).is_some(), "{q}");
            assert_eq!(plain(q), strict(q), "{q}");
        }
        // Not plain: left to the strict parser, which accepts or words the error.
        for q in [
            "lon=%2D1.5&lat=53",
            "lon=+1.5&lat=53",
            "lon=1&lat=91",
            "lon=1&lon=2",
            "lon=1&lat=2&x=3",
            "lon=&lat=1",
            "lon=nan&lat=1",
            "lon=1e999&lat=1",
            "lng=1&lat=2",
            "lon=1",
            "",
        ] {
            assert_eq!(plain(q), None, "{q}");
        }
    }

    proptest::proptest! {
        /// Whenever the plain path answers, the strict parser gives the same answer.
        #[test]
        fn plain_never_disagrees(lon in -200.0f64..200.0, lat in -100.0f64..100.0, swap in proptest::bool::ANY) {
            let q = if swap { format!("lat={lat}&lon={lon}") } else { format!("lon={lon}&lat={lat}") };
            if let Some(p) = PointParams::parse_plain(&q) {
                let s = parse::<PointParams>(Some(&q)).map(|s| (s.lon.0, s.lat.0));
                proptest::prop_assert_eq!(Ok((p.lon.0, p.lat.0)), s);
            }
        }
    }

    #[test]
    fn accepts_plain_decimals() {
        let p: PointParams = parse(Some("lon=-1.5492&lat=5.37997e1")).unwrap();
        assert_eq!((p.lon.0, p.lat.0), (-1.5492, 53.7997));
        let o: WithOptions = parse(Some("limit=5&detail=full")).unwrap();
        assert_eq!(
            (o.radius, o.limit, o.detail.as_deref()),
            (None, Some(Limit(5)), Some("full"))
        );
    }

    #[test]
    fn rejects_bad_values_naming_the_parameter() {
        for (q, param, says) in [
            ("lat=1", "lon", "lon is required"),
            ("lon=&lat=1", "lon", "lon is empty"),
            ("lon=abc&lat=1", "lon", "lon must be a decimal number"),
            ("lon=NaN&lat=1", "lon", "decimal number"),
            ("lon=inf&lat=1", "lon", "decimal number"),
            ("lon=1e999&lat=1", "lon", "lon must be finite"),
            ("lon=1&lat=91", "lat", "lat must be between -90 and 90"),
            ("lon=-180.5&lat=1", "lon", "between -180 and 180"),
            (
                "lon=1&lat=1&lng=2",
                "lng",
                "unknown query parameter \"lng\"; expected lon, lat",
            ),
            ("lon=1&lon=2&lat=1", "lon", "more than once"),
            ("=1&lon=1&lat=1", "(query)", "empty name"),
        ] {
            let e = parse::<PointParams>(Some(q)).unwrap_err();
            assert!(e.to_string().contains(says), "{q}: {e}");
            assert_eq!(parameter_of(e), param, "{q}");
        }
        let e = parse::<NoParams>(Some("x=1")).unwrap_err();
        assert!(e.to_string().contains("takes no query parameters"), "{e}");
        let e = parse::<WithOptions>(Some("limit=0")).unwrap_err();
        assert!(
            e.to_string().contains("limit must be a whole number from 1 to 100"),
            "{e}"
        );
        let long = "lon=1&".repeat(400);
        assert!(parse::<PointParams>(Some(&long)).is_err());
    }

    proptest::proptest! {
        /// Any query string: parsing never panics, and a failure always names a parameter.
        #[test]
        fn never_panics_on_arbitrary_queries(q in "\\PC{0,80}", raw in proptest::collection::vec(proptest::num::u8::ANY, 0..60)) {
            for query in [q.clone(), String::from_utf8_lossy(&raw).into_owned()] {
                match parse::<PointParams>(Some(&query)) {
                    Ok(p) => proptest::prop_assert!(p.lon.0.is_finite() && p.lat.0.is_finite() && p.lon.0.abs() <= 180.0 && p.lat.0.abs() <= 90.0),
                    Err(ApiError::InvalidParameter { parameter, .. }) => proptest::prop_assert!(!parameter.is_empty()),
                    Err(other) => proptest::prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }
    }
}

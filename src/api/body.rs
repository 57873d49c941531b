//! JSON request bodies: the `Json<T>` extractor reads a body into a serde type (with
//! `deny_unknown_fields`) that is also its OpenAPI schema, with a problem+json error for every
//! way a body can be wrong: not JSON (415), too large (413), malformed or with a wrong item
//! (422, with a JSON Pointer to the item), or with too many items (413).

use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::model::coordinates::{check_range, LAT_RANGE, LON_RANGE};

/// Largest request body accepted (the router enforces it; this is for messages and docs).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The most items one bulk request may carry.
pub const MAX_BULK_ITEMS: usize = 1000;

/// A JSON body parsed strictly into `T`.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + BulkRequest> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = String::from_utf8_lossy(ct.as_bytes()).into_owned();
            let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(ApiError::UnsupportedMediaType {
                    detail: format!("request body must be application/json, got {ct:?}"),
                });
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    detail: format!("request body is larger than {MAX_BODY_BYTES} bytes"),
                }
            } else {
                ApiError::body(None, format!("could not read the request body: {rejection}"))
            }
        })?;
        let Object(value) = parse::<Object<T>>(&bytes)?;
        value.check_size()?;
        Ok(Json(value))
    }
}

/// Parses `bytes` as JSON into `T`; a failure names the offending item by JSON Pointer.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::body(None, "request body is empty; expected a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let (pointer, shown) = pointer(e.path());
        let inner = e.into_inner();
        if matches!(
            inner.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        ) {
            return ApiError::body(None, format!("request body is not valid JSON: {inner}"));
        }
        // serde's own words, without its "at line 1 column 9" (the pointer says where).
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        // A missing or repeated field is reported at its parent; point at the field itself.
        for (prefix, says) in [
            ("missing field `", "is missing"),
            ("duplicate field `", "is given more than once"),
        ] {
            if let Some(field) = message.strip_prefix(prefix).and_then(|m| m.strip_suffix('`')) {
                let at = pointer.unwrap_or_default();
                let shown = if shown.is_empty() {
                    field.to_string()
                } else {
                    format!("{shown}.{field}")
                };
                return ApiError::body(Some(format!("{at}/{field}")), format!("{shown} {says}"));
            }
        }
        let detail = if shown.is_empty() {
            format!("request body: {message}")
        } else {
            format!("{shown}: {message}")
        };
        ApiError::body(pointer, detail)
    })?;
    de.end()
        .map_err(|e| ApiError::body(None, format!("request body is not valid JSON: {e}")))?;
    Ok(value)
}

/// The JSON Pointer (`/points/3/lat`) and the readable path (`points[3].lat`) of a serde path.
fn pointer(path: &serde_path_to_error::Path) -> (Option<String>, String) {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer += &format!("/{index}"),
            Segment::Map { key } => pointer += &format!("/{}", key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => pointer += &format!("/{variant}"),
            Segment::Unknown => pointer += "/?",
        }
    }
    let shown = path.to_string();
    if pointer.is_empty() {
        (None, String::new())
    } else {
        (Some(pointer), if shown == "." { String::new() } else { shown })
    }
}

/// `T`, read only from a JSON object. serde would also build a struct from an array of its
/// field values (`[1, 2]` for `{"lon": 1, "lat": 2}`); the API takes objects only.
#[derive(Debug, Clone, PartialEq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData)).map(Object)
    }
}

impl<T> std::ops::Deref for Object<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A bulk request: its items are counted against [`MAX_BULK_ITEMS`] after parsing (the body
/// limit keeps parsing cheap).
pub trait BulkRequest {
    /// The items' field name and count.
    fn items(&self) -> (&'static str, usize);

    fn check_size(&self) -> Result<(), ApiError> {
        let (field, n) = self.items();
        if n == 0 {
            return Err(ApiError::body(
                Some(format!("/{field}")),
                format!("\"{field}\" is empty; send 1 to {MAX_BULK_ITEMS} items"),
            ));
        }
        if n > MAX_BULK_ITEMS {
            return Err(ApiError::PayloadTooLarge {
                detail: format!("\"{field}\" has {n} items; at most {MAX_BULK_ITEMS} are accepted per request"),
            });
        }
        Ok(())
    }
}

/// A JSON number within a range, for `#[serde(deserialize_with)]`.
fn number_in<'de, D: de::Deserializer<'de>>(d: D, range: std::ops::RangeInclusive<f64>) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    check_range(v, range).map_err(|m| de::Error::custom(format!("value {m}")))
}

pub fn lon_value<'de, D: de::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    number_in(d, LON_RANGE)
}

pub fn lat_value<'de, D: de::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    number_in(d, LAT_RANGE)
}

/// A caller's id for an item, echoed back: a string or a number.
/// (Documented as a string in the OpenAPI schema: utoipa cannot express "string or number".)
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ItemId {
    Text(String),
    Number(serde_json::Number),
}

impl<'de> Deserialize<'de> for ItemId {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = ItemId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ItemId, E> {
                Ok(ItemId::Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ItemId, E> {
                Ok(ItemId::Number(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ItemId, E> {
                Ok(ItemId::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ItemId, E> {
                // Beyond 2^53 a JSON number is not kept exactly; it would come back changed.
                if v.abs() >= 9_007_199_254_740_992.0 {
                    return Err(E::custom("id is too large to echo exactly; send it as a string"));
                }
                serde_json::Number::from_f64(v)
                    .map(ItemId::Number)
                    .ok_or_else(|| E::custom("id must be a finite number"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // read through Debug
    struct Points {
        points: Vec<Object<Point>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Point {
        #[serde(deserialize_with = "lon_value")]
        lon: f64,
        #[serde(deserialize_with = "lat_value")]
        lat: f64,
        id: Option<ItemId>,
    }

    fn err(body: &str) -> (Option<String>, String) {
        match parse::<Object<Points>>(body.as_bytes()).unwrap_err() {
            ApiError::InvalidBody { pointer, detail } => (pointer, detail),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn errors_point_at_the_item() {
        let (p, d) = err(r#"{"points":[{"lon":1,"lat":2},{"lon":1,"lat":95}]}"#);
        assert_eq!(p.as_deref(), Some("/points/1/lat"));
        assert!(d.contains("points[1].lat") && d.contains("between -90 and 90"), "{d}");
        let (p, d) = err(r#"{"points":[{"lon":"1","lat":2}]}"#);
        assert_eq!(p.as_deref(), Some("/points/0/lon"), "{d}");
        let (p, d) = err(r#"{"points":[{"lon":1,"lat":2,"colour":1}]}"#);
        assert_eq!(p.as_deref(), Some("/points/0/colour"), "{d}");
        assert!(d.contains("unknown field"), "{d}");
        let (p, d) = err(r#"{"points":[{"lon":1,"lat":2,"id":[1]}]}"#);
        assert_eq!(p.as_deref(), Some("/points/0/id"), "{d}");
        let (p, d) = err(r#"{"points":[{"lon":1,"lat":2,"id":18446744073709551616}]}"#);
        assert_eq!(p.as_deref(), Some("/points/0/id"), "{d}");
        assert!(d.contains("as a string"), "{d}");
        let (p, d) = err(r#"{"points":[{"lon":1,"lat":2,"lat":3}]}"#);
        assert_eq!(p.as_deref(), Some("/points/0/lat"), "{d}");
        assert!(d.contains("more than once"), "{d}");
        let (_, d) = err(r#"{"points":["#);
        assert!(d.contains("not valid JSON"), "{d}");
        let (_, d) = err("  ");
        assert!(d.contains("empty"), "{d}");
        let (p, d) = err(r#"{"points":[]} x"#);
        assert!(p.is_none() && d.contains("not valid JSON"), "{d}");
        // Objects only: serde would take a struct's fields from an array.
        let (p, d) = err(r#"{"points":[[1,2]]}"#);
        assert_eq!(p.as_deref(), Some("/points/0"), "{d}");
        assert!(d.contains("expected a JSON object"), "{d}");
        let (p, d) = err(r#"[[{"lon":1,"lat":2}]]"#);
        assert!(p.is_none() && d.contains("expected a JSON object"), "{d}");
        let ok =
            parse::<Object<Points>>(br#"{"points":[{"lon":1,"lat":2,"id":"a"},{"lon":1,"lat":2,"id":7}]}"#).unwrap();
        assert_eq!(ok.points[1].id, Some(ItemId::Number(7.into())));
    }
}

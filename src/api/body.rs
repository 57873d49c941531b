//! Reading JSON request bodies with problem+json errors for every way they can be wrong.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use serde_json::Value;

use super::error::ApiError;

/// Largest request body accepted (the router enforces it; this is for messages and docs).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The most items one bulk request may carry.
pub const MAX_BULK_ITEMS: usize = 1000;

/// Checks the content type and parses the body as JSON.
pub fn json(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType {
                detail: format!("request body must be application/json, got {ct:?}"),
            });
        }
    }
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                detail: format!("request body is larger than {MAX_BODY_BYTES} bytes"),
            }
        } else {
            ApiError::body(None, format!("could not read the request body: {rejection}"))
        }
    })?;
    if bytes.is_empty() {
        return Err(ApiError::body(None, "request body is empty; expected a JSON object"));
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::body(None, format!("request body is not valid JSON: {e}")))
}

/// The array at `field` of a JSON object body, with 1 to `MAX_BULK_ITEMS` items.
pub fn bulk_items<'a>(body: &'a Value, field: &str) -> Result<&'a [Value], ApiError> {
    let pointer = Some(format!("/{field}"));
    let object = body.as_object().ok_or_else(|| {
        ApiError::body(
            None,
            format!("request body must be a JSON object with a \"{field}\" array"),
        )
    })?;
    if let Some(unknown) = object.keys().find(|k| k.as_str() != field) {
        return Err(ApiError::body(
            Some(format!("/{unknown}")),
            format!("unknown field \"{unknown}\"; expected only \"{field}\""),
        ));
    }
    let items = object
        .get(field)
        .ok_or_else(|| ApiError::body(pointer.clone(), format!("request body has no \"{field}\" array")))?
        .as_array()
        .ok_or_else(|| ApiError::body(pointer.clone(), format!("\"{field}\" must be an array")))?;
    if items.is_empty() {
        return Err(ApiError::body(
            pointer,
            format!("\"{field}\" is empty; send 1 to {MAX_BULK_ITEMS} items"),
        ));
    }
    if items.len() > MAX_BULK_ITEMS {
        return Err(ApiError::PayloadTooLarge {
            detail: format!(
                "\"{field}\" has {} items; at most {MAX_BULK_ITEMS} are accepted per request",
                items.len()
            ),
        });
    }
    Ok(items)
}

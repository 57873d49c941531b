//! API errors as RFC 9457 `application/problem+json`.
//!
//! Every rejection a client can cause is one of these variants, so no handler can answer
//! bad input with a 500. `type` points at the problem's entry in the API docs.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// A query or path parameter is missing, malformed or out of range.
    #[error("{detail}")]
    InvalidParameter { parameter: String, detail: String },
    /// A request body is not the JSON the endpoint takes (or an item of it is wrong).
    #[error("{detail}")]
    InvalidBody { pointer: Option<String>, detail: String },
    #[error("{detail}")]
    NotFound { detail: String },
    #[error("{detail}")]
    PayloadTooLarge { detail: String },
    /// The request body did not arrive in time.
    #[error("{detail}")]
    RequestTimeout { detail: String },
    #[error("{detail}")]
    UnsupportedMediaType { detail: String },
    #[error("method {method} is not allowed here")]
    MethodNotAllowed { method: String },
    #[error("{detail}")]
    Unavailable { detail: String },
    /// Shed or timed out under load: 503 with `Retry-After`.
    #[error("{detail}")]
    Overloaded { detail: String },
    /// A bug: a handler panicked (caught by the protection stack).
    #[error("{detail}")]
    Internal { detail: String },
    /// A reload is already running.
    #[error("{detail}")]
    Conflict { detail: String },
}

/// The problem document. `parameter` and `pointer` are extension members naming the
/// offending query parameter or JSON item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "/docs#problem-invalid-parameter")]
    pub type_: String,
    #[schema(example = "Invalid parameter")]
    pub title: &'static str,
    #[schema(example = 400)]
    pub status: u16,
    #[schema(example = "lat must be between -90 and 90, got 123")]
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "lat")]
    pub parameter: Option<String>,
    /// JSON Pointer to the offending part of the body (`/points/3/lat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl ApiError {
    pub fn parameter(parameter: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::InvalidParameter {
            parameter: parameter.into(),
            detail: detail.into(),
        }
    }

    pub fn body(pointer: Option<String>, detail: impl Into<String>) -> Self {
        ApiError::InvalidBody {
            pointer,
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::NotFound { detail: detail.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::InvalidBody { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable { .. } | ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::InvalidParameter { .. } => ("invalid-parameter", "Invalid parameter"),
            ApiError::InvalidBody { .. } => ("invalid-body", "Invalid request body"),
            ApiError::NotFound { .. } => ("not-found", "Not found"),
            ApiError::PayloadTooLarge { .. } => ("payload-too-large", "Request too large"),
            ApiError::RequestTimeout { .. } => ("request-timeout", "Request timeout"),
            ApiError::UnsupportedMediaType { .. } => ("unsupported-media-type", "Unsupported media type"),
            ApiError::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            ApiError::Unavailable { .. } => ("unavailable", "Service unavailable"),
            ApiError::Overloaded { .. } => ("overloaded", "Server overloaded"),
            ApiError::Internal { .. } => ("internal", "Internal error"),
            ApiError::Conflict { .. } => ("conflict", "Conflict"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let (parameter, pointer) = match self {
            ApiError::InvalidParameter { parameter, .. } => (Some(parameter.clone()), None),
            ApiError::InvalidBody { pointer, .. } => (None, pointer.clone()),
            _ => (None, None),
        };
        Problem {
            type_: format!("/docs#problem-{slug}"),
            title,
            status: self.status().as_u16(),
            detail: self.to_string(),
            parameter,
            pointer,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status(), body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let ApiError::Overloaded { .. } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_names_the_parameter() {
        let p = ApiError::parameter("lat", "lat must be a number").problem();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["status"], 400);
        assert_eq!(json["parameter"], "lat");
        assert_eq!(json["type"], "/docs#problem-invalid-parameter");
        assert!(json.get("pointer").is_none());
    }
}

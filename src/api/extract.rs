//! Extractors whose rejections are problems (axum's own answer in plain text).

use axum::extract::{FromRequestParts, Path, RawPathParams};
use axum::http::request::Parts;

use super::error::ApiError;

/// Longest path segment accepted; codes and postcodes are a few characters.
pub const MAX_SEGMENT_LEN: usize = 64;

/// The single path parameter of a route, decoded as UTF-8 and length-capped.
pub struct PathText(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathText {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // The route's own name for the segment (`code`, `postcode`, …), for the problem.
        let name = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|p| p.iter().next().map(|(k, _)| k.to_string()))
            .unwrap_or_else(|| "path".into());
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::parameter(&name, format!("the path is not valid: {e}")))?;
        if text.len() > MAX_SEGMENT_LEN {
            return Err(ApiError::parameter(
                &name,
                format!(
                    "a path segment may be at most {MAX_SEGMENT_LEN} bytes, got {}",
                    text.len()
                ),
            ));
        }
        Ok(PathText(text))
    }
}

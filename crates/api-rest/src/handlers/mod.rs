//! One file per resource, each the same shape: decode the query and body,
//! act on the cache or a port, answer. Reads answer the cache's
//! pre-serialized bytes as they are.

pub(crate) mod computers;
pub(crate) mod health;
pub(crate) mod metrics;
pub(crate) mod preparation;
pub(crate) mod refresh;
pub(crate) mod sessions;

use crate::error::ApiError;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde::Serialize;

/// What every handler returns.
pub(crate) type Answer = Result<Response<Full<Bytes>>, ApiError>;

/// A 200 answer with the cache's bytes.
pub(crate) fn ok_bytes(body: Bytes) -> Answer {
    Ok(crate::response::json(StatusCode::OK, body))
}

/// An answer with `value` serialized (only for small values built per
/// request, never for cache reads).
pub(crate) fn serialized<T: Serialize>(status: StatusCode, value: &T) -> Answer {
    let body = serde_json::to_vec(value)
        .map_err(|e| ApiError::Internal(format!("could not serialize the answer: {e}")))?;
    Ok(crate::response::json(status, Bytes::from(body)))
}

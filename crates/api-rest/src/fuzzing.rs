//! The pure decoders of what a client sends, for the fuzz targets in
//! `fuzz/` (and anything else that must feed them arbitrary input without a
//! socket): the same functions the handlers call, with the error reduced to
//! its `code` and message. Nothing here changes how a request is answered.

use crate::error::ApiError;
use crate::query::{Query, percent_decode};
use crate::router::Route;
use bytes::Bytes;
use http_body_util::Full;
use hyper::HeaderMap;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// A refused input: the error `code` the API would answer and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The `code` of the error body (`bad_field`, `bad_json`...).
    pub code: &'static str,
    /// The `message` of the error body.
    pub message: String,
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// Decodes a query string (the part after `?`) as a route taking the
/// parameters `allowed` does, then checks `computer` when it is allowed;
/// answers each allowed parameter's value.
///
/// # Errors
/// What the route would answer (`bad_field`).
pub fn query(raw: Option<&str>, allowed: &[&str]) -> Result<Vec<Option<String>>, Refused> {
    let q = Query::parse(raw, allowed)?;
    if allowed.contains(&"computer") {
        q.computer()?;
    }
    Ok(allowed
        .iter()
        .map(|name| q.get(name).map(str::to_owned))
        .collect())
}

/// The route of a request path: its metrics pattern and, for
/// `/v1/sessions/{id}`, the percent-decoded id.
pub fn route(path: &str) -> (&'static str, Option<String>) {
    match Route::parse(path) {
        Route::Session(id) => ("/v1/sessions/{id}", Some(id)),
        other => (other.pattern(), None),
    }
}

/// Percent-decodes a path segment (`+` stays itself).
///
/// # Errors
/// Why the segment does not decode.
pub fn path_segment(raw: &str) -> Result<String, &'static str> {
    percent_decode(raw, false)
}

/// Decodes a JSON request body into `T`, as `POST /v1/sessions` and
/// `PATCH /v1/sessions/{id}` do.
///
/// # Errors
/// `bad_json` or `bad_field`.
pub fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refused> {
    Ok(crate::body::decode(bytes)?)
}

/// Decodes an optional JSON request body (`T::default()` when empty), as
/// `POST /v1/refresh` does.
///
/// # Errors
/// `bad_json` or `bad_field`.
pub fn optional_json_body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, Refused> {
    Ok(crate::body::decode_optional(bytes)?)
}

/// Reads a complete in-memory body under `headers` (its `Content-Length`
/// and `Content-Type` checks and the size limit), as every handler that
/// takes a body does.
///
/// # Errors
/// `body_too_large`, `unsupported_media_type` or `bad_request`.
pub fn read_body(headers: &HeaderMap, body: Bytes) -> Result<Bytes, Refused> {
    let fut = pin!(crate::body::read(headers, Full::new(body)));
    // A `Full` body is all there: reading it never waits, so one poll ends.
    match fut.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => Ok(r?),
        Poll::Pending => Err(Refused {
            code: "pending",
            message: "an in-memory body was not read in one poll".into(),
        }),
    }
}

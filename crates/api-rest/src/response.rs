//! Builders of answers, without fallible `Response::builder` calls: every
//! header value here is a static, valid constant.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

/// `Content-Type` of every JSON answer.
pub(crate) const APPLICATION_JSON: &str = "application/json";

/// `Content-Type` of `GET /metrics` (Prometheus text format).
pub(crate) const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4";

/// An answer with a JSON body.
pub(crate) fn json(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    with_type(status, APPLICATION_JSON, body)
}

/// An answer with a body of the given static content type.
pub(crate) fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// An answer without a body (e.g. 204).
pub(crate) fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = status;
    resp
}

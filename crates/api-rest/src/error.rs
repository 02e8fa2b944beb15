//! The one place an error becomes an HTTP answer: status, `code`, headers
//! and the `{"error":{"code":"...","message":"..."}}` body. Client mistakes
//! are 4xx, never 5xx; 500 is only for our own failures.

use crate::ports::{ForwardError, WriteError};
use crate::response;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ALLOW, CONNECTION, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Response, StatusCode};
use model::RefreshError;
use serde::Serialize;

/// Why a request is refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    /// The body is not JSON at all (400 `bad_json`).
    #[error("{0}")]
    BadJson(String),
    /// A field, query parameter or value breaks the contract (400
    /// `bad_field`).
    #[error("{0}")]
    BadField(String),
    /// The request itself is malformed (400 `bad_request`).
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong bearer token (401 `unauthorized`).
    #[error("missing or wrong bearer token")]
    Unauthorized,
    /// Unknown path or id (404 `not_found`).
    #[error("{0}")]
    NotFound(String),
    /// A known path with a method it does not take (405).
    #[error("method {method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The `Allow` header value.
        allow: &'static str,
    },
    /// A write to another computer's data (409 `conflict`).
    #[error("{0}")]
    Conflict(String),
    /// The body is over [`crate::MAX_BODY_BYTES`] (413).
    #[error("request body is over the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A body that is not `application/json` (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The request body did not arrive within the body timeout (408
    /// `request_timeout`); the connection is closed after the answer.
    #[error("the request body did not arrive within {timeout_ms} ms")]
    RequestTimeout {
        /// The body timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// The request target is longer than the HTTP layer takes (414
    /// `uri_too_long`).
    #[error("the request target is over the limit of {limit} bytes")]
    UriTooLong {
        /// The limit.
        limit: usize,
    },
    /// The request head is too large or has too many header fields (431
    /// `headers_too_large`).
    #[error("the request head is over the limit of {limit} bytes or {fields} header fields")]
    HeadersTooLarge {
        /// The limit on the head's bytes.
        limit: usize,
        /// The limit on its header fields.
        fields: usize,
    },
    /// The listener's connection cap is reached (503
    /// `too_many_connections`); the connection is closed after the answer.
    #[error("this listener has {limit} open connections, its limit: try again later")]
    TooManyConnections {
        /// The cap.
        limit: usize,
    },
    /// The session store has no space left (507 `storage_full`).
    #[error("{0}")]
    StorageFull(String),
    /// The session store cannot write, for example its file system is
    /// read-only (503 `storage_unavailable`).
    #[error("{0}")]
    StorageUnavailable(String),
    /// The computer owning a session is offline or did not answer (503
    /// `peer_unreachable`).
    #[error("{0}")]
    PeerUnreachable(String),
    /// A needed peer or service is unreachable (503 `unavailable`).
    #[error("{0}")]
    Unavailable(String),
    /// Our own failure (500 `internal`).
    #[error("{0}")]
    Internal(String),
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::BadJson(_) | Self::BadField(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::TooManyConnections { .. }
            | Self::StorageUnavailable(_)
            | Self::PeerUnreachable(_)
            | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `code` of the error body; also the reason label of the
    /// `dropped_inputs` metric.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::BadJson(_) => "bad_json",
            Self::BadField(_) => "bad_field",
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RequestTimeout { .. } => "request_timeout",
            Self::UriTooLong { .. } => "uri_too_long",
            Self::HeadersTooLarge { .. } => "headers_too_large",
            Self::TooManyConnections { .. } => "too_many_connections",
            Self::StorageFull(_) => "storage_full",
            Self::StorageUnavailable(_) => "storage_unavailable",
            Self::PeerUnreachable(_) => "peer_unreachable",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Whether the client is at fault (a refused input), as opposed to a
    /// failure on our side or of a peer.
    pub(crate) fn is_client_error(&self) -> bool {
        self.status().is_client_error()
    }

    /// Whether the connection is closed after this answer, because the
    /// rest of the request cannot be told from the next one.
    pub(crate) fn closes_connection(&self) -> bool {
        matches!(
            self,
            Self::RequestTimeout { .. }
                | Self::UriTooLong { .. }
                | Self::HeadersTooLarge { .. }
                | Self::TooManyConnections { .. }
        )
    }

    /// The `{"error":{"code","message"}}` body.
    pub(crate) fn body(&self) -> Bytes {
        let message = self.to_string();
        let body = serde_json::to_vec(&Envelope {
            error: Detail {
                code: self.code(),
                message: &message,
            },
        })
        // Serializing two strings into JSON cannot fail; keep a valid body
        // anyway rather than panic.
        .unwrap_or_else(|_| br#"{"error":{"code":"internal","message":""}}"#.to_vec());
        Bytes::from(body)
    }

    /// The full answer: status, JSON body and any header the status needs.
    pub(crate) fn into_response(self) -> Response<Full<Bytes>> {
        let mut resp = response::json(self.status(), self.body());
        if self.closes_connection() {
            resp.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        match self {
            Self::Unauthorized => {
                resp.headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::MethodNotAllowed { allow, .. } => {
                resp.headers_mut()
                    .insert(ALLOW, HeaderValue::from_static(allow));
            }
            _ => {}
        }
        resp
    }
}

impl From<model::Error> for ApiError {
    fn from(e: model::Error) -> Self {
        Self::BadField(e.to_string())
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::NotFound { .. } => Self::NotFound(e.to_string()),
            WriteError::Invalid(inner) => inner.into(),
            WriteError::Unavailable { .. } => Self::Unavailable(e.to_string()),
            WriteError::StorageFull { .. } => Self::StorageFull(e.to_string()),
            WriteError::StorageUnavailable { .. } => Self::StorageUnavailable(e.to_string()),
        }
    }
}

impl From<ForwardError> for ApiError {
    fn from(e: ForwardError) -> Self {
        match e {
            ForwardError::Unreachable { .. } => Self::PeerUnreachable(e.to_string()),
        }
    }
}

impl From<RefreshError> for ApiError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::Unavailable { .. } => Self::Unavailable(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_status_and_code() {
        let cases = [
            (ApiError::BadJson("x".into()), 400, "bad_json"),
            (ApiError::BadField("x".into()), 400, "bad_field"),
            (ApiError::Unauthorized, 401, "unauthorized"),
            (ApiError::NotFound("x".into()), 404, "not_found"),
            (ApiError::Conflict("x".into()), 409, "conflict"),
            (ApiError::BodyTooLarge { limit: 1 }, 413, "body_too_large"),
            (
                ApiError::UnsupportedMediaType("x".into()),
                415,
                "unsupported_media_type",
            ),
            (ApiError::Unavailable("x".into()), 503, "unavailable"),
            (
                ApiError::RequestTimeout { timeout_ms: 1 },
                408,
                "request_timeout",
            ),
            (ApiError::UriTooLong { limit: 1 }, 414, "uri_too_long"),
            (
                ApiError::HeadersTooLarge {
                    limit: 1,
                    fields: 1,
                },
                431,
                "headers_too_large",
            ),
            (
                ApiError::TooManyConnections { limit: 1 },
                503,
                "too_many_connections",
            ),
            (ApiError::StorageFull("x".into()), 507, "storage_full"),
            (
                ApiError::StorageUnavailable("x".into()),
                503,
                "storage_unavailable",
            ),
            (ApiError::Internal("x".into()), 500, "internal"),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status().as_u16(), status);
            assert_eq!(e.code(), code);
        }
    }

    #[test]
    fn write_errors_map_to_statuses() {
        let nf: ApiError = WriteError::NotFound {
            session_id: "s".into(),
        }
        .into();
        assert_eq!(nf.status(), StatusCode::NOT_FOUND);
        let un: ApiError = RefreshError::Unavailable {
            reason: "down".into(),
        }
        .into();
        assert_eq!(un.status(), StatusCode::SERVICE_UNAVAILABLE);
        let full: ApiError = WriteError::StorageFull {
            reason: "no space".into(),
        }
        .into();
        assert_eq!((full.status().as_u16(), full.code()), (507, "storage_full"));
        let ro: ApiError = WriteError::StorageUnavailable {
            reason: "read-only".into(),
        }
        .into();
        assert_eq!(
            (ro.status().as_u16(), ro.code()),
            (503, "storage_unavailable")
        );
    }

    #[test]
    fn refusals_that_end_the_connection_say_so() {
        let a = ApiError::RequestTimeout { timeout_ms: 10 }.into_response();
        assert_eq!(a.headers()[CONNECTION], "close");
        let b = ApiError::BadJson("x".into()).into_response();
        assert!(b.headers().get(CONNECTION).is_none());
    }
}

//! One-shot HTTP/1.1 requests to the daemon's REST API (`PROTOCOL.md` section 3), with
//! hyper 1's client connection over a [`Conn`](crate::client::stream::Conn).
//!
//! Every request opens its own connection and drives it in the caller's task beside the
//! exchange (no spawned task), bounded by [`REQUEST_TIMEOUT`]. An answer of 400 or more is
//! turned into [`ClientError::Api`] with the daemon's own message.

use crate::client::REQUEST_TIMEOUT;
use crate::client::stream;
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::pin::pin;

/// A successful answer: its status and whole body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status (below 400).
    pub status: StatusCode,
    /// The body, as sent.
    pub body: Bytes,
}

impl Answer {
    /// The body decoded as `T`.
    ///
    /// # Errors
    /// [`ClientError::BadAnswer`] when it is not the JSON `T` expects.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body).map_err(|e| ClientError::BadAnswer {
            reason: format!("{e}"),
        })
    }
}

/// A REST client of one daemon.
#[derive(Debug, Clone)]
pub struct HttpClient {
    endpoint: Endpoint,
}

impl HttpClient {
    /// A client of the daemon at `endpoint`.
    pub fn new(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }

    /// Where the daemon is.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `GET path_and_query`.
    ///
    /// # Errors
    /// As [`HttpClient::send`].
    pub async fn get(&self, path_and_query: &str) -> Result<Answer, ClientError> {
        self.send(Method::GET, path_and_query, None).await
    }

    /// Sends one request, with `body` as JSON when given.
    ///
    /// # Errors
    /// [`ClientError::NoDaemon`] when nothing listens; [`ClientError::Api`] when the daemon
    /// answers 400 or more; [`ClientError::Timeout`] or [`ClientError::Exchange`] when the
    /// exchange hangs or breaks.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ClientError> {
        let request = self.build(method, path_and_query, body)?;
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request))
            .await
            .map_err(|_| ClientError::Timeout {
                endpoint: self.endpoint.describe(),
                seconds: REQUEST_TIMEOUT.as_secs(),
            })??;
        if answer.status.as_u16() >= 400 {
            return Err(api_error(answer.status, &answer.body));
        }
        Ok(answer)
    }

    fn build(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Request<Full<Bytes>>, ClientError> {
        let bytes = body.map_or_else(Bytes::new, |v| Bytes::from(v.to_string()));
        let mut builder = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(HOST, self.endpoint.host())
            .header(ACCEPT, "application/json");
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        if let Some(token) = self.endpoint.bearer() {
            let value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
                ClientError::Exchange {
                    endpoint: self.endpoint.describe(),
                    reason: "the token holds characters a header cannot carry".into(),
                }
            })?;
            builder = builder.header(AUTHORIZATION, value);
        }
        builder
            .body(Full::new(bytes))
            .map_err(|e| ClientError::Exchange {
                endpoint: self.endpoint.describe(),
                reason: format!("cannot build the request for {path_and_query:?}: {e}"),
            })
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Answer, ClientError> {
        let broken = |e: hyper::Error| ClientError::Exchange {
            endpoint: self.endpoint.describe(),
            reason: e.to_string(),
        };
        let conn = stream::connect(&self.endpoint).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(conn))
            .await
            .map_err(broken)?;
        let response = async move {
            let response = sender.send_request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Answer {
                status: parts.status,
                body,
            })
        };
        // The connection is driven here, beside the exchange, until the answer is read.
        let mut connection = pin!(connection);
        let mut response = pin!(response);
        let answer = tokio::select! {
            answer = &mut response => answer,
            ended = &mut connection => match ended {
                // The daemon closed after answering: the answer is complete.
                Ok(()) => response.await,
                Err(e) => Err(e),
            },
        };
        answer.map_err(broken)
    }
}

/// The daemon's error body (`{"error":{"code","message"}}`) as a [`ClientError::Api`]; a
/// body of another shape is shown as it is.
fn api_error(status: StatusCode, body: &[u8]) -> ClientError {
    let parsed: Option<(String, String)> =
        serde_json::from_slice::<Value>(body).ok().and_then(|v| {
            let e = v.get("error")?;
            Some((
                e.get("code")?.as_str()?.to_owned(),
                e.get("message")?.as_str()?.to_owned(),
            ))
        });
    let (code, message) = parsed.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body).trim().to_owned();
        let message = if text.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_ascii_lowercase()
        } else {
            text
        };
        ("http_error".to_owned(), message)
    });
    ClientError::Api {
        status: status.as_u16(),
        code,
        message,
    }
}

/// `s` encoded for a query value: everything but unreserved characters and `/` is
/// percent-encoded (so `+` and spaces survive the daemon's form decoding).
pub fn encode_query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path` with the given query parameters (those with a value), encoded.
pub fn with_query(path: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut out = path.to_owned();
    let mut sep = '?';
    for (name, value) in params {
        if let Some(value) = value {
            out.push(sep);
            out.push_str(name);
            out.push('=');
            out.push_str(&encode_query_value(value));
            sep = '&';
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_become_api_errors() {
        let e = api_error(
            StatusCode::NOT_FOUND,
            br#"{"error":{"code":"not_found","message":"no session \"x\""}}"#,
        );
        assert_eq!(e.to_string(), "no session \"x\" (404 not_found)");
        let e = api_error(StatusCode::BAD_GATEWAY, b"");
        assert_eq!(e.to_string(), "bad gateway (502 http_error)");
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            with_query(
                "/v1/todos",
                &[
                    ("computer", Some("a")),
                    ("x", None),
                    ("project", Some("/p q+r"))
                ]
            ),
            "/v1/todos?computer=a&project=/p%20q%2Br"
        );
        assert_eq!(
            with_query("/v1/sessions", &[("computer", None)]),
            "/v1/sessions"
        );
    }
}

//! One-shot HTTP/1.1 requests over a Unix socket or TCP, with hyper 1's client connection.
//!
//! Every request opens its own connection, so requests survive daemon restarts and never
//! share state. Each exchange is bounded by [`REQUEST_TIMEOUT`].

use std::fmt::{Debug, Display};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs, UnixStream};
use tokio::task::JoinHandle;

/// Upper bound for connecting, sending a request and reading the whole answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A response: status, headers and the whole body.
pub type RawResponse = (StatusCode, HeaderMap, Bytes);

/// Sends one request over the Unix socket at `socket`.
///
/// `headers` are added as given; `Host: localhost` is added unless present.
///
/// # Errors
///
/// When connecting, writing or reading fails, or [`REQUEST_TIMEOUT`] passes.
///
/// # Panics
///
/// When `method` is not a valid HTTP method or a header is invalid (test bugs).
pub async fn try_request_unix(
    socket: &Path,
    method: impl TryInto<Method, Error: Debug>,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> anyhow::Result<RawResponse> {
    let request = build_request(method, path, "localhost", headers, body.into());
    let exchange = async {
        let stream = UnixStream::connect(socket)
            .await
            .with_context(|| format!("connect to {}", socket.display()))?;
        exchange(stream, request).await
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .with_context(|| {
            format!(
                "no answer within {REQUEST_TIMEOUT:?} on {}",
                socket.display()
            )
        })?
}

/// Sends one request over TCP to `addr` and returns the answer.
///
/// `Host` is `addr` unless given in `headers`. Pass `("authorization", "Bearer ...")` for
/// the daemon's token.
///
/// # Panics
///
/// When the exchange fails (see [`try_http_request_tcp`] to observe failures), or on an
/// invalid method or header.
pub async fn http_request_tcp<A: ToSocketAddrs + Display>(
    addr: A,
    method: impl TryInto<Method, Error: Debug>,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> RawResponse {
    let shown = addr.to_string();
    try_http_request_tcp(addr, method, path, headers, body)
        .await
        .unwrap_or_else(|e| panic!("HTTP request to {shown}{path} failed: {e:#}"))
}

/// As [`http_request_tcp`], returning failures instead of panicking.
///
/// # Errors
///
/// When connecting, writing or reading fails, or [`REQUEST_TIMEOUT`] passes.
///
/// # Panics
///
/// On an invalid method or header (test bugs).
pub async fn try_http_request_tcp<A: ToSocketAddrs + Display>(
    addr: A,
    method: impl TryInto<Method, Error: Debug>,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> anyhow::Result<RawResponse> {
    let host = addr.to_string();
    let request = build_request(method, path, &host, headers, body.into());
    let exchange = async {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect to {host}"))?;
        exchange(stream, request).await
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .with_context(|| format!("no answer within {REQUEST_TIMEOUT:?} from {host}"))?
}

/// A body as JSON: `Null` when empty, the parsed value when it is JSON, else the text as a
/// JSON string (so a failing assertion still shows what came back).
pub fn body_json(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn build_request(
    method: impl TryInto<Method, Error: Debug>,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Request<Full<Bytes>> {
    let method = method
        .try_into()
        .unwrap_or_else(|e| panic!("invalid HTTP method: {e:?}"));
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .body(Full::new(body))
        .unwrap_or_else(|e| panic!("invalid request to {path}: {e}"));
    let map = request.headers_mut();
    for (name, value) in headers {
        let name = HeaderName::try_from(*name)
            .unwrap_or_else(|e| panic!("invalid header name {name:?}: {e}"));
        let value = HeaderValue::try_from(*value)
            .unwrap_or_else(|e| panic!("invalid value for header {name}: {e}"));
        map.append(name, value);
    }
    if !map.contains_key(HOST) {
        let host = HeaderValue::try_from(host)
            .unwrap_or_else(|e| panic!("invalid Host header {host:?}: {e}"));
        map.insert(HOST, host);
    }
    request
}

/// Aborts the connection driver when the exchange ends or is cancelled.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn exchange<S>(stream: S, request: Request<Full<Bytes>>) -> anyhow::Result<RawResponse>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP/1.1 handshake")?;
    let _driver = AbortOnDrop(tokio::spawn(async move {
        // Errors surface through `send_request` or the body.
        let _ = connection.await;
    }));
    let response = sender
        .send_request(request)
        .await
        .context("send request / read response head")?;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .context("read response body")?
        .to_bytes();
    Ok((parts.status, parts.headers, body))
}

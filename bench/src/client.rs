//! HTTP/1.1 over the daemon's Unix socket with hyper 1's client connection:
//! [`once`] opens a connection per request (as `fleet` and `curl` do) and
//! drives it in the caller's task; [`Conn`] keeps one connection open for
//! many requests (keep-alive), its driver owned by the value.

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::path::Path;
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::task::JoinSet;

/// Upper bound of one exchange.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A status and the whole body.
pub type Answer = (StatusCode, Bytes);

fn request(
    method: Method,
    path: &str,
    body: Option<Bytes>,
) -> anyhow::Result<Request<Full<Bytes>>> {
    let json = body.is_some();
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .body(Full::new(body.unwrap_or_default()))
        .with_context(|| format!("build a request to {path}"))?;
    req.headers_mut()
        .insert(HOST, HeaderValue::from_static("localhost"));
    if json {
        req.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Ok(req)
}

/// One request on a connection of its own (connect, handshake, exchange,
/// close), as `fleet` or `curl` do for every command.
///
/// The connection is driven on a task of its own, owned by this call (as
/// [`Conn`] does): driving it in the same task as the body collection
/// serializes socket reads and copying on one thread and measured 2.6x
/// slower for a 4 MB answer on this 2-core machine, a cost of the client,
/// not of the daemon.
///
/// # Errors
/// When connecting, sending or reading fails, or [`REQUEST_TIMEOUT`] passes.
pub async fn once(
    socket: &Path,
    method: Method,
    path: &str,
    body: Option<Bytes>,
) -> anyhow::Result<Answer> {
    let req = request(method, path, body)?;
    let exchange = async {
        let mut conn = Conn::connect(socket).await?;
        conn.send_request(req).await
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .with_context(|| format!("no answer within {REQUEST_TIMEOUT:?}"))?
}

/// A kept-alive connection for many requests, one at a time.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    _driver: JoinSet<()>,
}

impl Conn {
    /// Connects to the daemon at `socket`.
    ///
    /// # Errors
    /// When connecting or the handshake fails.
    pub async fn connect(socket: &Path) -> anyhow::Result<Self> {
        let stream = UnixStream::connect(socket)
            .await
            .with_context(|| format!("connect to {}", socket.display()))?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake")?;
        let mut driver = JoinSet::new();
        driver.spawn(async move {
            // Failures surface through the next request.
            let _ = conn.await;
        });
        Ok(Self {
            sender,
            _driver: driver,
        })
    }

    /// Sends one request and reads the whole answer.
    ///
    /// # Errors
    /// When the connection failed, or [`REQUEST_TIMEOUT`] passes.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<Answer> {
        let req = request(method, path, body)?;
        tokio::time::timeout(REQUEST_TIMEOUT, self.send_request(req))
            .await
            .with_context(|| format!("no answer to {path} within {REQUEST_TIMEOUT:?}"))?
    }

    async fn send_request(&mut self, req: Request<Full<Bytes>>) -> anyhow::Result<Answer> {
        self.sender.ready().await.context("connection not ready")?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .context("send request")?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .context("read body")?
            .to_bytes();
        Ok((status, body))
    }

    /// `GET path`, requiring 200.
    ///
    /// # Errors
    /// As [`Conn::send`], or another status.
    pub async fn get_ok(&mut self, path: &str) -> anyhow::Result<Bytes> {
        let (status, body) = self.send(Method::GET, path, None).await?;
        expect(status, StatusCode::OK, path, &body)?;
        Ok(body)
    }
}

/// Fails unless `status` is `wanted`, with the body in the message.
///
/// # Errors
/// When the status differs.
pub fn expect(
    status: StatusCode,
    wanted: StatusCode,
    path: &str,
    body: &[u8],
) -> anyhow::Result<()> {
    if status != wanted {
        bail!(
            "{path} answered {status} (wanted {wanted}): {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    Ok(())
}

//! The listeners: accept loops for the Unix socket and the TCP port, the
//! bearer check on TCP, `GET /v1/ws` to the upgrader, everything else to
//! [`Api::handle`], and a bounded graceful drain on cancel.
//!
//! Every connection runs in a task of a [`TaskTracker`] the serve function
//! owns and waits for: on cancel it stops accepting, asks each open
//! connection to finish its request in flight and close, waits at most
//! [`DRAIN_DEADLINE`], then cuts what is left (and logs how many).
//!
//! Limits ([`RestConfig`](crate::RestConfig)): at most `max_connections`
//! open connections (`cap.rs`: over it a connection is answered 503 and
//! closed); a request head must arrive within `header_timeout` (hyper's
//! header read timeout: past it hyper closes the connection) and its body
//! within `body_timeout` (`timed_body.rs`: 408 and close); a failed accept
//! backs off (`accept_failures.rs`). On the Unix socket, a connection's
//! send buffer is raised before its first large answer (`send_buffer.rs`:
//! a list answer larger than the default buffer otherwise leaves in parts,
//! and the read latency was bimodal).

use crate::accept_failures::AcceptFailures;
use crate::api::Api;
use crate::auth;
use crate::cap::{self, Admission, ConnectionCap};
use crate::error::ApiError;
use crate::json_errors::JsonErrors;
use crate::router::Route;
use crate::send_buffer::SendBuffer;
use crate::timed_body::TimedBody;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// How long a stopping listener waits for open connections to finish
/// before cutting them.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// Serves the API on the daemon's Unix socket until `cancel`, then drains.
///
/// No token is needed: the socket's file mode (0600 in a 0700 directory)
/// protects it.
pub async fn serve_unix(api: Api, listener: UnixListener, cancel: CancellationToken) {
    serve(api, listener, None, cancel, DRAIN_DEADLINE).await;
}

/// Serves the API on a TCP listener until `cancel`, then drains.
///
/// With a `token`, every request (`/v1/ws` and `/metrics` included) must
/// carry `Authorization: Bearer <token>`; others get 401. An empty token
/// refuses every request.
pub async fn serve_tcp(
    api: Api,
    listener: TcpListener,
    token: Option<String>,
    cancel: CancellationToken,
) {
    if token.as_deref() == Some("") {
        tracing::warn!("empty bearer token: the TCP listener refuses every request");
    }
    let token = token.map(|t| Arc::<[u8]>::from(t.into_bytes()));
    serve(api, listener, token, cancel, DRAIN_DEADLINE).await;
}

/// A listener the accept loop can take connections from.
pub(crate) trait Accept: Send + 'static {
    /// A connection.
    type Io: AsyncRead + AsyncWrite + AsFd + Unpin + Send + 'static;
    /// Whether a large answer raises the connection's send buffer first
    /// (`send_buffer.rs`).
    const RAISE_SEND_BUFFER: bool;
    /// Waits for the next connection and names its peer.
    fn accept_one(&self) -> impl Future<Output = io::Result<(Self::Io, String)>> + Send;
    /// The listener's own address, for the log.
    fn describe(&self) -> String;
}

impl Accept for TcpListener {
    type Io = TcpStream;
    // The kernel autotunes TCP's send buffer; setting it would stop that.
    const RAISE_SEND_BUFFER: bool = false;

    async fn accept_one(&self) -> io::Result<(TcpStream, String)> {
        let (stream, peer) = self.accept().await?;
        // Answers are small and latency matters more than packet count;
        // failing to set it only costs latency.
        let _ = stream.set_nodelay(true);
        Ok((stream, peer.to_string()))
    }

    fn describe(&self) -> String {
        self.local_addr()
            .map_or_else(|e| format!("tcp ({e})"), |a| a.to_string())
    }
}

impl Accept for UnixListener {
    type Io = UnixStream;
    const RAISE_SEND_BUFFER: bool = true;

    async fn accept_one(&self) -> io::Result<(UnixStream, String)> {
        let (stream, _) = self.accept().await?;
        Ok((stream, "unix".to_owned()))
    }

    fn describe(&self) -> String {
        self.local_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "unix socket".to_owned())
    }
}

/// Authentication and the WebSocket hand-off in front of [`Api::handle`].
#[derive(Clone)]
struct Gate {
    api: Api,
    token: Option<Arc<[u8]>>,
    body_timeout: Duration,
}

impl Gate {
    async fn respond(self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let started = Instant::now();
        if let Some(token) = &self.token
            && !auth::authorized(req.headers(), token)
        {
            let route = Route::parse(req.uri().path()).pattern();
            return self
                .api
                .finish(route, req.method(), started, Err(ApiError::Unauthorized));
        }
        if req.method() == Method::GET
            && Route::parse(req.uri().path()) == Route::Ws
            && let Some(upgrader) = &self.api.parts().upgrader
        {
            let method = req.method().clone();
            let resp = upgrader.upgrade(req);
            let route = Route::Ws.pattern();
            self.api
                .record(route, &method, resp.status().as_u16(), started);
            return resp;
        }
        let body_timeout = self.body_timeout;
        self.api
            .handle(req.map(|body| TimedBody::new(body, body_timeout)))
            .await
    }
}

/// The accept loop and the drain, for any listener.
pub(crate) async fn serve<L: Accept>(
    api: Api,
    listener: L,
    token: Option<Arc<[u8]>>,
    cancel: CancellationToken,
    drain: Duration,
) {
    let addr = listener.describe();
    tracing::info!(listener = %addr, auth = token.is_some(), "local API listening");
    let config = api.config().clone();
    tracing::info!(
        listener = %addr,
        max_connections = config.max_connections,
        header_timeout_ms = u64::try_from(config.header_timeout.as_millis()).unwrap_or(u64::MAX),
        body_timeout_ms = u64::try_from(config.body_timeout.as_millis()).unwrap_or(u64::MAX),
        "local API limits"
    );
    let metrics = Arc::clone(&api.parts().metrics);
    let gate = Gate {
        api,
        token,
        body_timeout: config.body_timeout,
    };
    let tracker = TaskTracker::new();
    let cut = CancellationToken::new();
    let mut cap = ConnectionCap::new(config.max_connections);
    let mut failures = AcceptFailures::default();
    let mut builder = http1::Builder::new();
    // The timer enables hyper's header read timeout, so that a client that
    // never finishes its head (or an idle keep-alive connection) does not
    // hold a connection forever.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout);
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            r = listener.accept_one() => r,
        };
        match accepted {
            Ok((io, peer)) => {
                failures.accepted(&addr);
                match cap.admit(&addr, &metrics) {
                    Admission::Serve(permit) => {
                        let span = tracing::debug_span!("rest_conn", peer = %peer);
                        let conn = connection(
                            builder.clone(),
                            SendBuffer::new(io, L::RAISE_SEND_BUFFER),
                            gate.clone(),
                            cancel.clone(),
                            cut.clone(),
                        );
                        tracker.spawn(
                            async move {
                                conn.await;
                                drop(permit);
                            }
                            .instrument(span),
                        );
                    }
                    Admission::Refuse(refusal) => {
                        tracker.spawn(refusal.run(io));
                    }
                    Admission::AnswerNow(answer) => cap::answer_now(io, &answer),
                }
            }
            Err(e) => {
                let pause = failures.failed(&addr, &e);
                if !pause.is_zero() {
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }
    drop(listener);
    tracker.close();
    let open = tracker.len();
    if open > 0 {
        tracing::info!(listener = %addr, open, "draining connections");
    }
    if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
        let left = tracker.len();
        tracing::warn!(
            listener = %addr,
            cut = left,
            deadline_ms = u64::try_from(drain.as_millis()).unwrap_or(u64::MAX),
            "connections still open at the drain deadline: cut"
        );
        cut.cancel();
        // Every connection task returns at its next poll once `cut` fires.
        tracker.wait().await;
    }
    tracing::info!(listener = %addr, "local API stopped");
}

/// Serves one connection: to its end, or until `cancel` asks it to finish
/// the request in flight and close, or until `cut` drops it.
async fn connection<I>(
    builder: http1::Builder,
    io: I,
    gate: Gate,
    cancel: CancellationToken,
    cut: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: Request<Incoming>| {
        let gate = gate.clone();
        async move { Ok::<_, Infallible>(gate.respond(req).await) }
    });
    let conn = builder
        .serve_connection(TokioIo::new(JsonErrors::new(io)), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = cancel.cancelled() => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                r = conn.as_mut() => r,
                () = cut.cancelled() => {
                    tracing::debug!("connection cut at the drain deadline");
                    return;
                }
            }
        }
    };
    match result {
        Err(e) if e.is_timeout() => tracing::debug!(
            reason = "no complete request head within the header timeout",
            "connection closed"
        ),
        Err(e) => tracing::debug!(error = %e, "connection ended with an error"),
        Ok(()) => {}
    }
}

//! [`WsService`]: turns an HTTP upgrade request into a WebSocket connection
//! run in a task it owns, and closes every connection (1001) on shutdown.

use crate::config::WsConfig;
use crate::connection::{Connection, ConnectionParts};
use crate::write_watch::WriteWatch;
use bytes::Bytes;
use cache_core::DaemonCache;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use model::{Metrics, Refresher};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// The most bytes tungstenite buffers for one client's socket: one fragment
/// of ours (64 KiB) plus the pongs it queues by itself. Past it, pongs to a
/// client that never reads replace each other instead of piling up.
const MAX_WRITE_BUFFER_BYTES: usize = 512 * 1024;

/// The WebSocket API. Cheap to clone.
#[derive(Clone)]
pub struct WsService {
    inner: Arc<Inner>,
}

struct Inner {
    cache: DaemonCache,
    config: WsConfig,
    refresher: Arc<dyn Refresher>,
    metrics: Arc<Metrics>,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl WsService {
    /// A service whose connections close (1001) when `cancel` fires.
    pub fn new(
        cache: DaemonCache,
        config: WsConfig,
        refresher: Arc<dyn Refresher>,
        metrics: Arc<Metrics>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                cache,
                config,
                refresher,
                metrics,
                tracker: TaskTracker::new(),
                cancel,
            }),
        }
    }

    /// Answers an upgrade request: `101` and a connection task, or a JSON
    /// error for a request that is not a WebSocket handshake.
    pub fn upgrade(&self, mut req: Request<Incoming>) -> Response<Full<Bytes>> {
        let key = match handshake_key(&req) {
            Ok(key) => key,
            Err(reason) => {
                self.inner.metrics.dropped("ws", "bad_handshake");
                tracing::debug!(reason, "refused WebSocket upgrade");
                return error_response(StatusCode::BAD_REQUEST, "bad_request", reason);
            }
        };
        if self.inner.cancel.is_cancelled() || self.inner.tracker.is_closed() {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the daemon is shutting down",
            );
        }
        let on_upgrade = hyper::upgrade::on(&mut req);
        let inner = self.inner.clone();
        let span = tracing::debug_span!("ws_client");
        self.inner.tracker.spawn(
            async move {
                let upgraded = match on_upgrade.await {
                    Ok(u) => u,
                    Err(e) => {
                        tracing::debug!(error = %e, "WebSocket upgrade did not complete");
                        return;
                    }
                };
                // tungstenite zero-fills its read buffer before every read
                // attempt, and the connection loop polls the reader on every
                // feed event: the 128 KiB default cost more than the rest of
                // a fan-out together. Client frames are small. The write
                // buffer is bounded (see MAX_WRITE_BUFFER_BYTES); large
                // texts are written in fragments that fit it.
                let ws_config = WebSocketConfig::default()
                    .read_buffer_size(4096)
                    .write_buffer_size(128 * 1024)
                    .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
                    .max_message_size(Some(inner.config.max_frame_bytes))
                    .max_frame_size(Some(inner.config.max_frame_bytes));
                let (socket, stall) = WriteWatch::new(TokioIo::new(upgraded));
                let stream =
                    WebSocketStream::from_raw_socket(socket, Role::Server, Some(ws_config)).await;
                let conn = Connection::new(ConnectionParts {
                    cache: inner.cache.clone(),
                    config: inner.config.clone(),
                    refresher: inner.refresher.clone(),
                    metrics: inner.metrics.clone(),
                    tracker: inner.tracker.clone(),
                    cancel: inner.cancel.clone(),
                });
                conn.run(stream, stall).await;
            }
            .instrument(span),
        );
        let mut resp = Response::new(Full::new(Bytes::new()));
        *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = resp.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(v) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
        }
        resp
    }

    /// Connected clients now.
    pub fn clients(&self) -> usize {
        self.inner.tracker.len()
    }

    /// Closes every client (1001; `cancel` must have fired) and waits for
    /// the connection tasks, at most `deadline`. Returns how many were cut.
    pub async fn shutdown(&self, deadline: Duration) -> usize {
        self.inner.cancel.cancel();
        self.inner.tracker.close();
        if tokio::time::timeout(deadline, self.inner.tracker.wait())
            .await
            .is_err()
        {
            let left = self.inner.tracker.len();
            tracing::warn!(
                left,
                "WebSocket clients still open at the shutdown deadline"
            );
            return left;
        }
        0
    }
}

fn handshake_key(req: &Request<Incoming>) -> Result<String, &'static str> {
    let has_token = |name: header::HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|s| {
                s.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    if req.method() != hyper::Method::GET {
        return Err("a WebSocket upgrade must be a GET");
    }
    if !has_token(header::CONNECTION, "upgrade") || !has_token(header::UPGRADE, "websocket") {
        return Err("expected Connection: upgrade and Upgrade: websocket");
    }
    if req
        .headers()
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v != "13")
    {
        return Err("expected Sec-WebSocket-Version: 13");
    }
    req.headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or("missing Sec-WebSocket-Key")
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

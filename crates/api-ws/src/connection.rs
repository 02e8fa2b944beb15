//! One client's loop: takes ops, routes feed events to its subscriptions,
//! pings, and ends on close, silence, overflow, a stalled socket, a protocol
//! violation or shutdown.

use crate::close::{self, CLOSE_TOO_SLOW};
use crate::config::WsConfig;
use crate::outbound::{self, Outbound, Overflow};
use crate::protocol::{ClientOp, ErrorFrame, decode_op};
use crate::subscriptions::{Subscription, Subscriptions};
use crate::write_watch::Stall;
use cache_core::{DaemonCache, FeedEvent, Opening};
use futures_util::StreamExt;
use model::Metrics;
use model::{RefreshScope, Refresher};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Bytes as WsBytes, Error as WsError, Message, Utf8Bytes};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub(crate) struct ConnectionParts {
    pub(crate) cache: DaemonCache,
    pub(crate) config: WsConfig,
    pub(crate) refresher: Arc<dyn Refresher>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) tracker: TaskTracker,
    pub(crate) cancel: CancellationToken,
}

pub(crate) struct Connection {
    parts: ConnectionParts,
    subs: Subscriptions,
}

/// Why the loop ended, and so which close frame (if any) to send.
enum End {
    ClientClosed,
    Shutdown,
    Idle,
    /// The queue overflowed (its close frame is already queued) or the feed
    /// lagged.
    TooSlow,
    /// The socket took no byte for the write-stall timeout.
    Stalled,
    /// The client broke the protocol: close with this code.
    Violation(u16, &'static str),
    /// The writer stopped on its own.
    WriterStopped(WriterEnd),
    Broken,
}

/// How the writer task ended.
#[derive(Debug)]
enum WriterEnd {
    /// The close frame was written or the queue was dropped.
    Done,
    /// tungstenite's bounded write buffer is full: the client does not read.
    NotReading,
    /// The socket failed.
    Failed,
}

impl From<Result<(), WsError>> for WriterEnd {
    fn from(r: Result<(), WsError>) -> Self {
        match r {
            Ok(()) | Err(WsError::ConnectionClosed) => Self::Done,
            Err(WsError::WriteBufferFull(_)) => Self::NotReading,
            Err(e) => {
                tracing::debug!(error = %e, "WebSocket writer stopped");
                Self::Failed
            }
        }
    }
}

impl Connection {
    pub(crate) fn new(parts: ConnectionParts) -> Self {
        Self {
            parts,
            subs: Subscriptions::default(),
        }
    }

    /// Runs the client until it ends; `stall` reports on `stream`'s socket.
    pub(crate) async fn run<S>(mut self, stream: WebSocketStream<S>, stall: Stall)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let metrics = self.parts.metrics.clone();
        metrics.ws_clients.inc();
        let (sink, mut frames) = stream.split();
        let (out, drain) = outbound::queue(self.parts.config.max_queue_bytes);
        let (writer_done, mut writer_end) = oneshot::channel::<WriterEnd>();
        let writer = self.parts.tracker.spawn(async move {
            let _ = writer_done.send(WriterEnd::from(drain.run(sink).await));
        });
        let stall_timeout = self.parts.config.write_stall_timeout;
        let mut stall_check = tokio::time::interval_at(
            Instant::now() + stall_timeout / 10,
            (stall_timeout / 10).max(Duration::from_millis(100)),
        );
        // Subscribe to the feed before any snapshot is taken, so nothing
        // published after the snapshot can be missed.
        let mut feed = self.parts.cache.subscribe();
        let mut ping = tokio::time::interval_at(
            Instant::now() + self.parts.config.ping_interval,
            self.parts.config.ping_interval,
        );
        let mut last_heard = Instant::now();
        let cancel = self.parts.cancel.clone();

        let end = loop {
            tokio::select! {
                () = cancel.cancelled() => break End::Shutdown,
                frame = frames.next() => {
                    last_heard = Instant::now();
                    match frame {
                        None => break End::ClientClosed,
                        Some(Err(e)) => match close::for_read_error(&e) {
                            Some((code, reason)) => {
                                tracing::info!(
                                    error = %e,
                                    code,
                                    reason,
                                    "dropped a WebSocket frame that breaks the protocol"
                                );
                                break End::Violation(code, reason);
                            }
                            None => {
                                tracing::debug!(error = %e, "WebSocket read failed");
                                break End::Broken;
                            }
                        },
                        Some(Ok(msg)) => match self.on_message(msg, &out) {
                            Ok(true) => {}
                            Ok(false) => break End::ClientClosed,
                            Err(Overflow) => break End::TooSlow,
                        },
                    }
                }
                event = feed.recv() => match event {
                    Ok(event) => {
                        if self.on_event(&event, &out).is_err() {
                            break End::TooSlow;
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::info!(missed = n, "WebSocket client lagged the feed");
                        out.push_control(outbound::close_message(
                            CLOSE_TOO_SLOW,
                            "too far behind: reconnect and resume with since",
                        ));
                        break End::TooSlow;
                    }
                    Err(RecvError::Closed) => break End::Shutdown,
                },
                end = &mut writer_end => {
                    break End::WriterStopped(end.unwrap_or(WriterEnd::Failed));
                }
                _ = stall_check.tick() => {
                    if stall.blocked_for().is_some_and(|d| d >= stall_timeout) {
                        break End::Stalled;
                    }
                }
                _ = ping.tick() => {
                    // A client busy taking a large snapshot cannot answer the
                    // pings queued behind it; the stall rule covers that time.
                    if last_heard.elapsed() >= self.parts.config.idle_timeout
                        && !out.snapshot_in_flight()
                    {
                        break End::Idle;
                    }
                    out.push_control(Message::Ping(WsBytes::new()));
                }
            }
        };
        drop(feed);
        match end {
            End::Shutdown => {
                out.push_control(outbound::close_message(1001, "daemon shutting down"));
            }
            End::Idle => {
                tracing::debug!(
                    reason = "no frame for the idle timeout",
                    "closing WebSocket client"
                );
                out.push_control(outbound::close_message(1000, "idle: no frame received"));
            }
            End::TooSlow => {
                metrics.ws_slow_closed.inc();
                tracing::info!(
                    reason = "outbound queue over its limit",
                    "closing WebSocket client with 4008, dropping what it had queued"
                );
            }
            End::Stalled => {
                metrics.ws_slow_closed.inc();
                tracing::info!(
                    reason = "its socket took no byte for the write-stall timeout",
                    timeout_s = stall_timeout.as_secs(),
                    "closing WebSocket client with 4008, dropping what it had queued"
                );
                out.push_control(outbound::close_message(
                    CLOSE_TOO_SLOW,
                    "not reading: reconnect and resume with since",
                ));
            }
            End::Violation(code, reason) => {
                metrics.dropped("ws", "protocol_violation");
                out.push_control(outbound::close_message(code, reason));
            }
            End::WriterStopped(WriterEnd::NotReading) => {
                metrics.ws_slow_closed.inc();
                tracing::info!(
                    reason = "write buffer full: the client does not read",
                    "closing WebSocket client, dropping what it had queued"
                );
            }
            End::WriterStopped(WriterEnd::Done | WriterEnd::Failed)
            | End::ClientClosed
            | End::Broken => {}
        }
        // Interest ends with the connection, before the writer drains.
        drop(self.subs);
        drop(out);
        let mut writer = writer;
        if tokio::time::timeout(Duration::from_secs(5), &mut writer)
            .await
            .is_err()
        {
            tracing::debug!(
                reason = "client not reading",
                "cut WebSocket writer after 5 s"
            );
            writer.abort();
        }
        metrics.ws_clients.dec();
    }

    /// Handles one client frame; `Ok(false)` when the client closed.
    fn on_message(&mut self, msg: Message, out: &Outbound) -> Result<bool, Overflow> {
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => return Ok(false),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Ok(true),
            Message::Binary(_) => {
                return self.refuse(
                    out,
                    ErrorFrame::new(
                        "bad_frame",
                        "binary frames are not accepted: send JSON text",
                    ),
                );
            }
        };
        match decode_op(&text) {
            Ok(op) => self.apply(op, out),
            Err(e) => self.refuse(out, e),
        }
    }

    fn refuse(&self, out: &Outbound, e: ErrorFrame) -> Result<bool, Overflow> {
        self.parts.metrics.dropped("ws", e.code);
        tracing::debug!(code = e.code, reason = %e.message, "refused WebSocket frame");
        out.push_text(Utf8Bytes::from(e.to_json()))?;
        Ok(true)
    }

    fn apply(&mut self, op: ClientOp, out: &Outbound) -> Result<bool, Overflow> {
        match op {
            ClientOp::Subscribe {
                topic,
                filter,
                since,
            } => {
                let cache = &self.parts.cache;
                let interest = cache.watch(topic, &filter);
                let mut opening = cache.open(topic, &filter, since.as_ref());
                // A replay larger than half the queue could never be taken
                // whole: the client would be closed (4008) on every retry.
                // A snapshot brings it up to date in one frame instead.
                if let Opening::Replay { events, .. } = &opening {
                    let bytes: usize = events.iter().map(|e| e.frame.len()).sum();
                    if bytes > self.parts.config.max_queue_bytes / 2 {
                        opening = cache.open(topic, &filter, None);
                    }
                }
                let after_seq = match opening {
                    Opening::Snapshot { seq, frame } => {
                        out.push_snapshot(topic, frame)?;
                        seq
                    }
                    Opening::Replay { seq, events } => {
                        for e in events {
                            out.push_json(e.frame.clone())?;
                        }
                        seq
                    }
                };
                self.subs.insert(
                    topic,
                    Subscription {
                        filter,
                        after_seq,
                        _interest: interest,
                    },
                );
            }
            ClientOp::Unsubscribe { topic } => {
                if !self.subs.remove(topic) {
                    return self.refuse(
                        out,
                        ErrorFrame::new("not_subscribed", format!("not subscribed to {topic}")),
                    );
                }
            }
            ClientOp::Refresh { topic, computer } => {
                let scope = RefreshScope::new(topic, computer);
                if let Err(e) = self.parts.refresher.refresh(scope) {
                    return self.refuse(out, ErrorFrame::new("unavailable", e.to_string()));
                }
            }
        }
        Ok(true)
    }

    fn on_event(&self, event: &FeedEvent, out: &Outbound) -> Result<(), Overflow> {
        if self.subs.wants(event) {
            out.push_json(event.frame.clone())?;
        }
        Ok(())
    }
}

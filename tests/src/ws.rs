//! A WebSocket client for `/v1/ws`, over the daemon's Unix socket or its TCP listener.
//!
//! Reads skip pings and pongs (tungstenite answers pings while reading). Every wait is
//! bounded by the timeout the caller passes; [`WsClient::expect_no_message`] is the one
//! place that waits out a window, because it asserts an absence.

use std::fmt::{self, Display};
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs, UnixStream};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};

/// Upper bound for connecting and the WebSocket handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default patience of the convenience reads ([`WsClient::subscribe`]).
pub const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest message the test client takes (256 MiB): a snapshot of a 100,000-session
/// fleet is about 55 MB, past tungstenite's 64 MiB default only a little later.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// A connected WebSocket client; `S` is the transport (Unix socket by default).
#[derive(Debug)]
pub struct WsClient<S = UnixStream> {
    stream: WebSocketStream<S>,
}

/// What one bounded read produced, pings and pongs already skipped.
enum Frame {
    Text(String),
    Binary(Vec<u8>),
    Close(Option<CloseFrame>),
    /// The connection ended without (more) close frame: EOF or an error.
    Ended(Option<tungstenite::Error>),
    TimedOut,
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => write!(f, "text frame {text}"),
            Self::Binary(data) => write!(f, "binary frame of {} bytes", data.len()),
            Self::Close(Some(frame)) => write!(f, "close frame ({frame})"),
            Self::Close(None) => f.write_str("close frame without code"),
            Self::Ended(None) => f.write_str("end of the connection"),
            Self::Ended(Some(e)) => write!(f, "end of the connection ({e})"),
            Self::TimedOut => f.write_str("nothing (timed out)"),
        }
    }
}

impl WsClient<UnixStream> {
    /// Connects to `ws://localhost/v1/ws` over the Unix socket at `socket`.
    ///
    /// # Panics
    ///
    /// When connecting or the handshake fails.
    pub async fn connect_unix(socket: &Path) -> Self {
        Self::try_connect_unix(socket)
            .await
            .unwrap_or_else(|e| panic!("WebSocket connect over {} failed: {e}", socket.display()))
    }

    /// As [`WsClient::connect_unix`], returning the failure (e.g. `Error::Http` with the
    /// refusing response).
    ///
    /// # Errors
    ///
    /// When connecting or the handshake fails or [`CONNECT_TIMEOUT`] passes.
    pub async fn try_connect_unix(socket: &Path) -> Result<Self, tungstenite::Error> {
        let connect = async {
            let stream = UnixStream::connect(socket).await?;
            let (stream, _response) = tokio_tungstenite::client_async_with_config(
                "ws://localhost/v1/ws",
                stream,
                Some(client_config()),
            )
            .await?;
            Ok(Self { stream })
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .unwrap_or_else(|_| Err(timed_out("WebSocket connect")))
    }
}

impl WsClient<TcpStream> {
    /// Connects to `ws://<addr>/v1/ws` over TCP, with `Authorization: Bearer <token>` when
    /// `bearer` is given.
    ///
    /// # Panics
    ///
    /// When connecting or the handshake fails.
    pub async fn connect_tcp<A: ToSocketAddrs + Display>(addr: A, bearer: Option<&str>) -> Self {
        let shown = addr.to_string();
        Self::try_connect_tcp(addr, bearer)
            .await
            .unwrap_or_else(|e| panic!("WebSocket connect to {shown} failed: {e}"))
    }

    /// As [`WsClient::connect_tcp`], returning the failure (e.g. `Error::Http` holding a
    /// 401 response).
    ///
    /// # Errors
    ///
    /// When connecting or the handshake fails or [`CONNECT_TIMEOUT`] passes.
    pub async fn try_connect_tcp<A: ToSocketAddrs + Display>(
        addr: A,
        bearer: Option<&str>,
    ) -> Result<Self, tungstenite::Error> {
        let mut request = format!("ws://{addr}/v1/ws").into_client_request()?;
        if let Some(token) = bearer {
            let value = HeaderValue::try_from(format!("Bearer {token}"))
                .unwrap_or_else(|e| panic!("invalid bearer token: {e}"));
            request.headers_mut().insert("authorization", value);
        }
        let connect = async {
            let stream = TcpStream::connect(addr).await?;
            let (stream, _response) =
                tokio_tungstenite::client_async_with_config(request, stream, Some(client_config()))
                    .await?;
            Ok(Self { stream })
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .unwrap_or_else(|_| Err(timed_out("WebSocket connect")))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsClient<S> {
    /// Wraps an already established WebSocket stream.
    pub fn from_stream(stream: WebSocketStream<S>) -> Self {
        Self { stream }
    }

    /// The raw stream, for tests that must control reading (e.g. a client that never reads).
    pub fn stream_mut(&mut self) -> &mut WebSocketStream<S> {
        &mut self.stream
    }

    /// Gives up the wrapper and returns the raw stream.
    pub fn into_inner(self) -> WebSocketStream<S> {
        self.stream
    }

    /// Sends `value` as one text frame.
    ///
    /// # Panics
    ///
    /// When sending fails.
    pub async fn send_json(&mut self, value: &Value) {
        self.send_raw(Message::text(value.to_string())).await;
    }

    /// Sends any frame as given (invalid JSON, binary, ping, close...).
    ///
    /// # Panics
    ///
    /// When sending fails.
    pub async fn send_raw(&mut self, message: Message) {
        let shown = format!("{message:?}");
        self.stream
            .send(message)
            .await
            .unwrap_or_else(|e| panic!("WebSocket send of {shown} failed: {e}"));
    }

    /// Sends `{"op":"subscribe","topic":topic}` and returns the snapshot that answers it
    /// (skipping other frames, e.g. events of topics already subscribed).
    ///
    /// # Panics
    ///
    /// When no snapshot of `topic` arrives within [`RECV_TIMEOUT`].
    pub async fn subscribe(&mut self, topic: &str) -> Value {
        self.send_json(&json!({"op": "subscribe", "topic": topic}))
            .await;
        self.next_matching(
            RECV_TIMEOUT,
            &format!("a snapshot of topic {topic:?}"),
            |v| v["type"] == "snapshot" && v["topic"] == topic,
        )
        .await
    }

    /// The next text frame, parsed as JSON, skipping pings and pongs.
    ///
    /// # Panics
    ///
    /// When nothing arrives within `timeout`, the frame is not JSON text, or the connection
    /// closes.
    pub async fn recv_json(&mut self, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        match self.next_frame(deadline).await {
            Frame::Text(text) => parse_json(&text),
            Frame::TimedOut => panic!("no WebSocket message within {timeout:?}"),
            other => panic!("expected a JSON text frame, got {other}"),
        }
    }

    /// The next text frame before `deadline`, parsed as JSON, or `None` once
    /// it passes; pings are answered meanwhile, so a client that only waits
    /// here is not closed as silent.
    ///
    /// # Panics
    ///
    /// When the frame is not JSON text, or the connection closes.
    pub async fn recv_json_before(&mut self, deadline: Instant) -> Option<Value> {
        match self.next_frame(deadline).await {
            Frame::Text(text) => Some(parse_json(&text)),
            Frame::TimedOut => None,
            other => panic!("expected a JSON text frame, got {other}"),
        }
    }

    /// Reads until a frame satisfies `matches` and returns it; the frames skipped on the way
    /// are shown if none does.
    ///
    /// # Panics
    ///
    /// When `timeout` passes first, or the connection closes or sends non-JSON.
    pub async fn next_matching(
        &mut self,
        timeout: Duration,
        what: &str,
        mut matches: impl FnMut(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        let mut skipped: Vec<Value> = Vec::new();
        loop {
            match self.next_frame(deadline).await {
                Frame::Text(text) => {
                    let value = parse_json(&text);
                    if matches(&value) {
                        return value;
                    }
                    skipped.push(value);
                }
                Frame::TimedOut => panic!(
                    "no WebSocket message was {what} within {timeout:?}; {} skipped:\n{}",
                    skipped.len(),
                    render_skipped(&skipped)
                ),
                other => panic!(
                    "waiting for {what}, got {other}; skipped before it:\n{}",
                    render_skipped(&skipped)
                ),
            }
        }
    }

    /// The next `{"type":"event","event":name,...}` message, skipping everything else.
    ///
    /// # Panics
    ///
    /// As [`WsClient::next_matching`].
    pub async fn next_event_named(&mut self, name: &str, timeout: Duration) -> Value {
        self.next_matching(timeout, &format!("event {name:?}"), |v| {
            v["type"] == "event" && v["event"] == name
        })
        .await
    }

    /// Asserts that no text, binary or close frame arrives during `window` (pings and pongs
    /// are ignored). Waits the whole window: keep it short (a few hundred ms).
    ///
    /// # Panics
    ///
    /// When something arrives.
    pub async fn expect_no_message(&mut self, window: Duration) {
        match self.next_frame(Instant::now() + window).await {
            Frame::TimedOut => {}
            Frame::Text(text) => panic!("expected no message for {window:?}, got {text}"),
            other => panic!("expected no message for {window:?}, got {other}"),
        }
    }

    /// Reads until the server's close frame and returns it (`None` when the connection
    /// ended without one). Data frames before it are skipped.
    ///
    /// # Panics
    ///
    /// When the connection stays open for `timeout`.
    pub async fn recv_close(&mut self, timeout: Duration) -> Option<CloseFrame> {
        let deadline = Instant::now() + timeout;
        let mut skipped = 0_usize;
        loop {
            match self.next_frame(deadline).await {
                Frame::Text(_) | Frame::Binary(_) => skipped += 1,
                Frame::Close(frame) => return frame,
                Frame::Ended(_) => return None,
                Frame::TimedOut => panic!(
                    "the server did not close the WebSocket within {timeout:?} \
                     ({skipped} data frames skipped)"
                ),
            }
        }
    }

    /// Starts a clean close from the client side (close frame, then drains to the end).
    ///
    /// # Panics
    ///
    /// When the server does not finish the close within [`RECV_TIMEOUT`].
    pub async fn close(&mut self) {
        // Fails when already closed, which is fine.
        let _ = self.stream.close(None).await;
        let deadline = Instant::now() + RECV_TIMEOUT;
        loop {
            match self.next_frame(deadline).await {
                Frame::Ended(_) => return,
                Frame::TimedOut => panic!("the WebSocket close did not finish in {RECV_TIMEOUT:?}"),
                _ => {}
            }
        }
    }

    async fn next_frame(&mut self, deadline: Instant) -> Frame {
        loop {
            let read = tokio::time::timeout_at(deadline, self.stream.next()).await;
            return match read {
                Err(_) => Frame::TimedOut,
                Ok(None) => Frame::Ended(None),
                Ok(Some(Err(e))) => Frame::Ended(Some(e)),
                Ok(Some(Ok(message))) => match message {
                    Message::Text(text) => Frame::Text(text.as_str().to_owned()),
                    Message::Binary(data) => Frame::Binary(data.to_vec()),
                    Message::Close(frame) => Frame::Close(frame),
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                },
            };
        }
    }
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the server sent a text frame that is not JSON ({e}): {text}"))
}

fn render_skipped(skipped: &[Value]) -> String {
    const SHOWN: usize = 20;
    let start = skipped.len().saturating_sub(SHOWN);
    let mut out = String::new();
    if start > 0 {
        out.push_str(&format!("  ... {start} earlier\n"));
    }
    for value in &skipped[start..] {
        out.push_str(&format!("  {value}\n"));
    }
    out
}

fn timed_out(what: &str) -> tungstenite::Error {
    tungstenite::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what}: no answer within {CONNECT_TIMEOUT:?}"),
    ))
}

//! A WebSocket client of `/v1/ws` over the daemon's Unix socket, and a
//! cheap reading of the frames a benchmark cares about (which session, which
//! `rev`) that borrows from the frame instead of building a JSON tree.

use anyhow::{Context as _, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;
use tokio::net::UnixStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// How many bytes one socket read may take. tungstenite zero-fills this
/// much of its read buffer before every read attempt (`FrameCodec::read_in`,
/// frame/mod.rs:237 in tungstenite 0.30), including attempts that find
/// nothing: at the default 128 KiB, 1,000 clients spent ~10 ms of the 2 cores
/// in `memset` per change, which measured the bench instead of the daemon.
pub const READ_BUFFER: usize = 8 * 1024;

/// The WebSocket settings of the bench's clients and of the floor server.
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_BUFFER)
}

/// A connected client.
pub struct Ws {
    stream: WebSocketStream<UnixStream>,
}

impl Ws {
    /// Connects to `ws://localhost/v1/ws` over `socket`.
    ///
    /// # Errors
    /// When connecting or the handshake fails (bounded by 10 s).
    pub async fn connect(socket: &Path) -> anyhow::Result<Self> {
        let connect = async {
            let stream = UnixStream::connect(socket)
                .await
                .with_context(|| format!("connect to {}", socket.display()))?;
            let (stream, _) = tokio_tungstenite::client_async_with_config(
                "ws://localhost/v1/ws",
                stream,
                Some(config()),
            )
            .await
            .context("WebSocket handshake")?;
            anyhow::Ok(Self { stream })
        };
        tokio::time::timeout(Duration::from_secs(10), connect)
            .await
            .context("WebSocket connect timed out")?
    }

    /// Sends `{"op":"subscribe","topic":topic}` (with `computers` when
    /// given) and returns the snapshot frame that answers it.
    ///
    /// # Errors
    /// When sending fails or no snapshot comes within `timeout`.
    pub async fn subscribe(
        &mut self,
        topic: &str,
        computers: Option<&[&str]>,
        timeout: Duration,
    ) -> anyhow::Result<Utf8Bytes> {
        let mut op = serde_json::json!({"op": "subscribe", "topic": topic});
        if let Some(list) = computers {
            op["computers"] = serde_json::json!(list);
        }
        self.stream
            .send(Message::text(op.to_string()))
            .await
            .context("send subscribe")?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let now = tokio::time::Instant::now();
            let Some(text) = self
                .next_text(deadline.saturating_duration_since(now))
                .await?
            else {
                bail!("no snapshot of {topic} within {timeout:?}");
            };
            if let Some(head) = FrameHead::parse(&text)
                && head.kind == "snapshot"
            {
                return Ok(text);
            }
        }
    }

    /// Sends one client op (`{"op":...}`) as a text frame.
    ///
    /// # Errors
    /// When sending fails.
    pub async fn send_op(&mut self, op: &serde_json::Value) -> anyhow::Result<()> {
        self.stream
            .send(Message::text(op.to_string()))
            .await
            .context("send a WebSocket op")
    }

    /// The next text frame, `None` when `timeout` passes first. Pings are
    /// answered (by tungstenite, while reading) and skipped.
    ///
    /// # Errors
    /// When the connection closes or fails.
    pub async fn next_text(&mut self, timeout: Duration) -> anyhow::Result<Option<Utf8Bytes>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next()).await;
            match next {
                Err(_) => return Ok(None),
                Ok(None) => bail!("the daemon closed the WebSocket"),
                Ok(Some(Err(e))) => return Err(anyhow::Error::new(e).context("WebSocket read")),
                Ok(Some(Ok(Message::Text(text)))) => return Ok(Some(text)),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    bail!("the daemon closed the WebSocket: {frame:?}")
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Closes the connection politely (bounded by 1 s).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.stream.close(None)).await;
    }
}

/// The top of a server frame, borrowed from its text.
#[derive(Debug, Deserialize)]
pub struct FrameHead<'a> {
    /// `snapshot`, `event` or `error`.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// For events, the event name.
    #[serde(default, borrow)]
    pub event: Option<Cow<'a, str>>,
    /// The frame's data, unparsed.
    #[serde(default, borrow)]
    pub data: Option<&'a RawValue>,
}

impl<'a> FrameHead<'a> {
    /// Reads the head of a frame; `None` when it is not the JSON expected.
    pub fn parse(text: &'a str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// Which session a `session_*` event is about, and at which `rev`.
#[derive(Debug, Deserialize)]
struct SessionRef<'a> {
    #[serde(borrow)]
    session_id: Cow<'a, str>,
    #[serde(default)]
    rev: Option<u64>,
    #[serde(borrow)]
    computer: Cow<'a, str>,
}

/// A `session_started` / `session_updated` event, read cheaply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEvent {
    /// The session.
    pub session_id: String,
    /// Its owner.
    pub computer: String,
    /// Its revision.
    pub rev: u64,
    /// Whether it was `session_started` (else `session_updated`).
    pub started: bool,
}

/// The session event a frame carries, if it is one with a `rev`.
pub fn session_event(text: &str) -> Option<SessionEvent> {
    let head = FrameHead::parse(text)?;
    if head.kind != "event" {
        return None;
    }
    let started = match head.event.as_deref()? {
        "session_started" => true,
        "session_updated" => false,
        _ => return None,
    };
    let r: SessionRef<'_> = serde_json::from_str(head.data?.get()).ok()?;
    Some(SessionEvent {
        session_id: r.session_id.into_owned(),
        computer: r.computer.into_owned(),
        rev: r.rev?,
        started,
    })
}

#[derive(Debug, Deserialize)]
struct SnapshotFrame {
    data: SnapshotSessions,
}

#[derive(Debug, Deserialize)]
struct SnapshotSessions {
    #[serde(default)]
    sessions: Vec<SessionRefOwned>,
}

#[derive(Debug, Deserialize)]
struct SessionRefOwned {
    session_id: String,
    rev: u64,
}

/// The `(session_id, rev)` of every session in a `sessions` snapshot frame.
pub fn snapshot_sessions(text: &str) -> Option<Vec<(String, u64)>> {
    let frame: SnapshotFrame = serde_json::from_str(text).ok()?;
    Some(
        frame
            .data
            .sessions
            .into_iter()
            .map(|s| (s.session_id, s.rev))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_session_events() {
        let frame = r#"{"type":"event","topic":"sessions","epoch":"e","seq":3,"event":"session_updated","data":{"session_id":"s1","computer":"a","title":"x \"q\"","rev":7}}"#;
        assert_eq!(
            session_event(frame),
            Some(SessionEvent {
                session_id: "s1".into(),
                computer: "a".into(),
                rev: 7,
                started: false
            })
        );
        let snapshot =
            r#"{"type":"snapshot","topic":"sessions","epoch":"e","seq":3,"data":{"sessions":[]}}"#;
        assert_eq!(session_event(snapshot), None);
        assert_eq!(FrameHead::parse(snapshot).unwrap().kind, "snapshot");
        assert_eq!(session_event("not json"), None);
        let full =
            r#"{"type":"snapshot","data":{"sessions":[{"session_id":"a","rev":2,"title":"t"}]}}"#;
        assert_eq!(snapshot_sessions(full), Some(vec![("a".to_owned(), 2)]));
    }
}

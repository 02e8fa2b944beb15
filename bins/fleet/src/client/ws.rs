//! The WebSocket `GET /v1/ws` (`PROTOCOL.md` section 4) with tokio-tungstenite's
//! `client_async` over a [`Conn`]: connecting (with the bearer token over TCP), sending
//! ops and reading text frames. Pings are answered by tungstenite while reading.

use crate::client::CONNECT_TIMEOUT;
use crate::client::stream::{self, Conn};
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use futures_util::{SinkExt as _, StreamExt as _};
use std::time::Duration;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};

/// A WebSocket connection to the daemon.
pub type WsStream = WebSocketStream<Conn>;

/// The largest message (and frame) taken from the daemon: 256 MiB. A snapshot is
/// delivered whatever its size, and one of a 100,000-session fleet is about 55 MB, so
/// tungstenite's defaults (16 MiB a frame, 64 MiB a message) are too small for a daemon
/// that writes a snapshot as one frame.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// What reading the connection produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A text frame (one JSON object).
    Text(String),
    /// The connection ended; why, for a person.
    Closed(String),
}

/// Opens the WebSocket of the daemon at `endpoint`.
///
/// # Errors
/// [`ClientError::NoDaemon`] when nothing listens, [`ClientError::Api`] when the daemon
/// refuses the upgrade (e.g. 401 without the token), [`ClientError::Timeout`] or
/// [`ClientError::Exchange`] when the handshake hangs or fails.
pub async fn connect(endpoint: &Endpoint) -> Result<WsStream, ClientError> {
    let exchange = |reason: String| ClientError::Exchange {
        endpoint: endpoint.describe(),
        reason,
    };
    let mut request = endpoint
        .ws_url()
        .into_client_request()
        .map_err(|e| exchange(format!("bad WebSocket URL: {e}")))?;
    if let Some(token) = endpoint.bearer() {
        let value = HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|_| exchange("the token holds characters a header cannot carry".into()))?;
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    let conn = stream::connect(endpoint).await?;
    let handshake = tokio_tungstenite::client_async_with_config(request, conn, Some(config()));
    match tokio::time::timeout(CONNECT_TIMEOUT, handshake).await {
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(tungstenite::Error::Http(response))) => {
            let status = response.status();
            let body = response.body().as_deref().unwrap_or_default();
            Err(refused(status.as_u16(), body))
        }
        Ok(Err(e)) => Err(exchange(format!("WebSocket handshake: {e}"))),
        Err(_) => Err(ClientError::Timeout {
            endpoint: endpoint.describe(),
            seconds: CONNECT_TIMEOUT.as_secs(),
        }),
    }
}

fn refused(status: u16, body: &[u8]) -> ClientError {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| {
        value["error"][name]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let mut message = field("message");
    if message.is_empty() {
        message = format!("the daemon refused the WebSocket upgrade with {status}");
    }
    ClientError::Api {
        status,
        code: field("code"),
        message,
    }
}

/// Sends one text frame.
///
/// # Errors
/// [`ClientError::Exchange`] when the connection is broken.
pub async fn send_text(ws: &mut WsStream, text: String) -> Result<(), ClientError> {
    ws.send(Message::text(text))
        .await
        .map_err(|e| ClientError::Exchange {
            endpoint: "the WebSocket".into(),
            reason: e.to_string(),
        })
}

/// The next text frame, skipping pings, pongs and binary frames; or why the connection
/// ended. Cancel-safe: nothing is lost when the future is dropped before it finishes.
pub async fn next_text(ws: &mut WsStream) -> Incoming {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Incoming::Text(text.as_str().to_owned()),
            Some(Ok(Message::Close(frame))) => return Incoming::Closed(close_reason(frame)),
            Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Frame(_))) => {}
            Some(Err(e)) => return Incoming::Closed(e.to_string()),
            None => return Incoming::Closed("the connection ended".into()),
        }
    }
}

fn close_reason(frame: Option<CloseFrame>) -> String {
    match frame {
        Some(f) if f.reason.is_empty() => format!("closed by the daemon ({})", f.code),
        Some(f) => format!("closed by the daemon: {} ({})", f.reason, f.code),
        None => "closed by the daemon".into(),
    }
}

/// Closes cleanly, waiting at most `patience` for the daemon's close frame.
pub async fn close(ws: &mut WsStream, patience: Duration) {
    let finish = async {
        // Fails when the connection is already gone, which is what closing wants.
        let _ = ws.close(None).await;
        while let Some(Ok(_)) = ws.next().await {}
    };
    // Past the patience the connection is simply dropped.
    let _ = tokio::time::timeout(patience, finish).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_the_daemons_message() {
        let e = refused(
            401,
            br#"{"error":{"code":"unauthorized","message":"a bearer token is required"}}"#,
        );
        assert_eq!(
            e.to_string(),
            "a bearer token is required (401 unauthorized)"
        );
        assert!(refused(500, b"").to_string().contains("500"));
    }
}

//! The one diagnosis an error cannot give: behind a `rediss://` URL whose
//! handshake times out or is cut, is there a plain (non-TLS) Redis? A TLS
//! client's hello sent to a plain Redis usually gets no answer at all (the
//! server waits for the end of an inline command), so the handshake just
//! times out. This probe opens a plain connection and sends `PING`: a RESP
//! answer (`+PONG`, `-NOAUTH ...`) means the server does not speak TLS.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the whole probe may take.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether `host:port` answers a plain-text `PING` like Redis does.
/// Any failure (nothing listening, a TLS server hanging up, silence) is
/// `false`: the probe only ever confirms.
pub(crate) async fn speaks_plain_resp(host: &str, port: u16) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect((host, port)).await.ok()?;
        stream.write_all(b"PING\r\n").await.ok()?;
        let mut first = [0u8; 1];
        let n = stream.read(&mut first).await.ok()?;
        Some(n == 1 && matches!(first[0], b'+' | b'-'))
    };
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, attempt).await,
        Ok(Some(true))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A one-shot server answering `reply`; it lives as long as the set.
    async fn server(reply: &'static [u8]) -> (u16, tokio::task::JoinSet<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut owner = tokio::task::JoinSet::new();
        owner.spawn(async move {
            if let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 16];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(reply).await;
                // Keep the socket open until the client is done.
                let _ = s.read(&mut buf).await;
            }
        });
        (port, owner)
    }

    #[tokio::test]
    async fn a_resp_answer_means_plain_redis() {
        let (port, _server) = server(b"+PONG\r\n").await;
        assert!(speaks_plain_resp("127.0.0.1", port).await);
        let (port, _server) = server(b"-NOAUTH x\r\n").await;
        assert!(speaks_plain_resp("127.0.0.1", port).await);
    }

    #[tokio::test]
    async fn anything_else_confirms_nothing() {
        // A TLS alert record, then silence; and a closed port.
        let (port, _server) = server(b"\x15\x03\x03").await;
        assert!(!speaks_plain_resp("127.0.0.1", port).await);
        let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = closed.local_addr().expect("addr").port();
        drop(closed);
        assert!(!speaks_plain_resp("127.0.0.1", port).await);
    }
}

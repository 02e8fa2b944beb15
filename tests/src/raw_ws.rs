//! [`RawWs`]: a WebSocket client over the daemon's Unix socket that writes hand-made
//! frames (unmasked, invalid UTF-8, oversized) which a real client library refuses to
//! produce, and reads the server's frames just far enough to find its close code.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::UnixStream;
use tokio::time::Instant;

/// Opcode of a text frame.
pub const OP_TEXT: u8 = 0x1;
/// Opcode of a continuation frame.
pub const OP_CONTINUE: u8 = 0x0;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;

/// A client-side mask, as every client frame must carry (RFC 6455 section 5.3).
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// How the server ended the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawEnd {
    /// A close frame with this code and reason.
    Close(u16, String),
    /// A close frame without a code.
    CloseWithoutCode,
    /// The connection ended with no close frame.
    Eof,
}

/// A raw WebSocket connection; see the module docs.
#[derive(Debug)]
pub struct RawWs {
    stream: UnixStream,
    buf: Vec<u8>,
}

/// One frame: FIN bit, opcode, and the payload masked with `mask` when given.
pub fn frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(if fin { 0x80 } else { 0 } | (opcode & 0x0f));
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    header_len(&mut out, mask_bit, payload.len() as u64);
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// Only the header of a masked frame announcing `len` payload bytes (for frames too big
/// to be worth writing whole).
pub fn masked_header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | (opcode & 0x0f)];
    header_len(&mut out, 0x80, len);
    out.extend_from_slice(&MASK);
    out
}

fn header_len(out: &mut Vec<u8>, mask_bit: u8, len: u64) {
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(mask_bit | 126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

impl RawWs {
    /// Connects to `/v1/ws` over the Unix socket and completes the upgrade.
    ///
    /// # Panics
    ///
    /// When connecting fails or the answer is not `101` within 10 s.
    pub async fn connect(socket: &Path) -> Self {
        let mut stream = UnixStream::connect(socket)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", socket.display()));
        let request = "GET /v1/ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n\
                       Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        stream
            .write_all(request.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("writing the upgrade request: {e}"));
        let mut raw = Self {
            stream,
            buf: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let head_end = loop {
            if let Some(at) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            assert!(
                raw.fill(deadline).await,
                "the upgrade got no complete answer"
            );
        };
        let head = String::from_utf8_lossy(&raw.buf[..head_end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
        raw.buf.drain(..head_end);
        raw
    }

    /// Writes bytes as given; `false` when the server already closed the socket.
    pub async fn write(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    /// Reads the server's frames until its close frame, or the end of the connection.
    ///
    /// # Panics
    ///
    /// When neither comes within `timeout`.
    pub async fn recv_end(&mut self, timeout: Duration) -> RawEnd {
        let deadline = Instant::now() + timeout;
        loop {
            while let Some((opcode, payload)) = self.take_frame() {
                if opcode == OP_CLOSE {
                    return match payload.get(..2) {
                        Some(code) => RawEnd::Close(
                            u16::from_be_bytes([code[0], code[1]]),
                            String::from_utf8_lossy(&payload[2..]).into_owned(),
                        ),
                        None => RawEnd::CloseWithoutCode,
                    };
                }
            }
            if !self.fill(deadline).await {
                return RawEnd::Eof;
            }
        }
    }

    /// One whole unmasked server frame from the buffer: opcode and payload.
    fn take_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let b = &self.buf;
        if b.len() < 2 {
            return None;
        }
        let opcode = b[0] & 0x0f;
        let (len, at) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().ok()?), 10),
            126 | 127 => return None,
            n => (u64::from(n), 2),
        };
        let end = at + usize::try_from(len).ok()?;
        if b.len() < end {
            return None;
        }
        let payload = b[at..end].to_vec();
        self.buf.drain(..end);
        Some((opcode, payload))
    }

    /// Reads more bytes; `false` at the end of the connection.
    ///
    /// # Panics
    ///
    /// When `deadline` passes first.
    async fn fill(&mut self, deadline: Instant) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
            Err(_) => panic!("the server neither sent more nor closed in time"),
            Ok(Ok(0) | Err(_)) => false,
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }
}

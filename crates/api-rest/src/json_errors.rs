//! [`JsonErrors`]: the connection as hyper sees it, which gives the HTTP
//! layer's own error answers the JSON body of `PROTOCOL.md` section 3.
//!
//! When hyper 1's HTTP/1 server cannot parse a request head it writes a
//! bodiless answer itself (`proto/h1/role.rs`, `Server::on_error`): 400
//! for a bad request line, method, version or header, 414 for a target
//! over 65534 bytes, 431 for a head over its buffer or with over 100
//! header fields; then it closes the connection. Our handlers never see
//! those requests. This wrapper recognizes exactly that answer in the
//! written bytes (a lone head with that status and nothing but
//! `content-length: 0`, `date` and `connection` fields; every answer of
//! ours has a body, and JSON never holds a raw CRLF) and writes our JSON
//! answer in its place. Reads, and every other write, pass through.

use crate::error::ApiError;
use crate::wire;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// hyper's limit on a request target (`MAX_URI_LEN` in `role.rs`).
pub const MAX_URI_BYTES: usize = 65_534;

/// hyper's default read buffer limit, which bounds a request head
/// (`DEFAULT_MAX_BUFFER_SIZE` in `io.rs`).
pub const MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;

/// hyper's default limit on header fields (`DEFAULT_MAX_HEADERS`).
pub const MAX_HEADER_FIELDS: usize = 100;

/// The longest answer hyper writes for a parse error; longer writes are
/// not looked at.
const MAX_AUTOMATIC_ANSWER: usize = 256;

/// An I/O object whose hyper parse-error answers become JSON ones.
pub(crate) struct JsonErrors<I> {
    inner: I,
    /// Our answer, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<I> JsonErrors<I> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: I) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

impl<I: AsyncWrite + Unpin> JsonErrors<I> {
    /// Writes what is left of our answer; ready once all of it is out.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, done)) = &mut self.pending {
            if *done >= bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `buf` as written when it is hyper's automatic answer, queuing
    /// ours in its place.
    fn replaced(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<Poll<io::Result<usize>>> {
        let answer = replacement(buf)?;
        tracing::debug!(
            status = %String::from_utf8_lossy(buf.get(9..12).unwrap_or_default()),
            reason = "hyper could not parse the request head",
            "request refused by the HTTP layer"
        );
        self.pending = Some((answer, 0));
        // Start writing now; `poll_flush` (which hyper calls next) finishes.
        if let Poll::Ready(Err(e)) = self.poll_pending(cx) {
            return Some(Poll::Ready(Err(e)));
        }
        Some(Poll::Ready(Ok(buf.len())))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for JsonErrors<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for JsonErrors<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(done) = this.replaced(cx, buf) {
            return done;
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        let mut full = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (full.next(), full.next())
            && let Some(done) = this.replaced(cx, only)
        {
            return done;
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// Our JSON answer in place of `written` when `written` is hyper's
/// automatic parse-error answer; `None` for anything else.
pub(crate) fn replacement(written: &[u8]) -> Option<Vec<u8>> {
    if written.len() > MAX_AUTOMATIC_ANSWER {
        return None;
    }
    let head = written.strip_suffix(b"\r\n\r\n")?;
    let mut lines = crlf_lines(head);
    let status_line = lines.next()?;
    let err = match status_line.get(..13)? {
        b"HTTP/1.1 400 " => ApiError::BadRequest(
            "the request line or a header field is malformed (HTTP layer)".into(),
        ),
        b"HTTP/1.1 414 " => ApiError::UriTooLong {
            limit: MAX_URI_BYTES,
        },
        b"HTTP/1.1 431 " => ApiError::HeadersTooLarge {
            limit: MAX_HEAD_BYTES,
            fields: MAX_HEADER_FIELDS,
        },
        _ => return None,
    };
    let mut empty_body = false;
    let mut date = None;
    for line in lines {
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") && value == b"0" {
            empty_body = true;
        } else if name.eq_ignore_ascii_case(b"date") {
            date = Some(line);
        } else if !name.eq_ignore_ascii_case(b"connection") {
            return None;
        }
    }
    if !empty_body {
        return None;
    }
    let extra: Vec<&[u8]> = date.into_iter().collect();
    Some(wire::error_answer(&err, &extra))
}

/// The lines of `head`, split at CRLF.
fn crlf_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(head);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                rest = Some(&text[i + 2..]);
                Some(&text[..i])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const DATE: &str = "date: Thu, 01 Jan 1970 00:00:00 GMT";

    fn hyper_answer(status: &str) -> Vec<u8> {
        format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n{DATE}\r\n\r\n").into_bytes()
    }

    fn parse(raw: &[u8]) -> (String, serde_json::Value) {
        let text = std::str::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), serde_json::from_str(body).unwrap())
    }

    #[test]
    fn hypers_answers_become_json() {
        for (status, code) in [
            ("400 Bad Request", "bad_request"),
            ("414 URI Too Long", "uri_too_long"),
            ("431 Request Header Fields Too Large", "headers_too_large"),
        ] {
            let out = replacement(&hyper_answer(status)).expect(status);
            let (head, body) = parse(&out);
            assert!(
                head.starts_with(&format!("HTTP/1.1 {}", &status[..3])),
                "{head}"
            );
            assert!(head.contains("connection: close"), "{head}");
            assert!(head.contains(DATE), "{head}");
            assert_eq!(body["error"]["code"], code);
            assert!(body["error"]["message"].is_string());
        }
    }

    #[test]
    fn other_writes_pass() {
        for other in [
            // Our own answers have a body.
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            // A head with any other field is not hyper's automatic one.
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-other: 1\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"\x81\x02{}",
            b"",
        ] {
            assert!(replacement(other).is_none(), "{:?}", String::from_utf8_lossy(other));
        }
        let long = [hyper_answer("400 Bad Request"), vec![b' '; 300]].concat();
        assert!(replacement(&long).is_none());
    }

    #[tokio::test]
    async fn the_wrapper_writes_ours_and_passes_the_rest() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut io = JsonErrors::new(ours);
        io.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            .await
            .unwrap();
        let hyper_bytes = hyper_answer("414 URI Too Long");
        // A small pipe: our longer answer goes out over several writes.
        let writer = async move {
            io.write_all(&hyper_bytes).await.unwrap();
            io.shutdown().await.unwrap();
        };
        let mut got = Vec::new();
        let reader = theirs.read_to_end(&mut got);
        let ((), read) = tokio::join!(writer, reader);
        read.unwrap();
        let text = String::from_utf8(got).unwrap();
        let rest = text
            .strip_prefix("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            .unwrap();
        let (head, body) = parse(rest.as_bytes());
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long"), "{head}");
        assert_eq!(body["error"]["code"], "uri_too_long");
    }
}

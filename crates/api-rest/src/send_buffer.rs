//! [`SendBuffer`]: the connection as hyper writes to it, which raises the
//! socket's send buffer (`SO_SNDBUF`) just before the first large write,
//! so that a large list answer leaves in one write.
//!
//! Why: a Unix socket's default send buffer (`net.core.wmem_default`,
//! 208 KiB here) is smaller than `GET /v1/sessions` of 1,000 sessions
//! (548 KB). hyper's write of the answer then lands in several partial
//! writes: the kernel takes about 208 KiB, the connection's task parks
//! until the client has drained the socket to a quarter of the buffer
//! (`unix_writable`), wakes, writes the next part, and so on. Each of those
//! hand-offs between the two processes costs a wake-up, and on a busy
//! 2-core machine whether they cost microseconds or a millisecond depends
//! on where the threads happen to run: the read latency was bimodal
//! between connections (p50 0.29 ms or 1.35 ms). With the buffer raised,
//! the whole answer is queued in one `writev` and the task never parks.
//!
//! Only when a write is large: a connection that only ever answers small
//! things keeps the default, so the kernel memory that slow readers can
//! pin stays at the default per connection. The buffer is a limit, not an
//! allocation: raising it costs nothing until bytes are queued.
//!
//! Only on the Unix socket ([`SendBuffer::new`] with `enabled`): on TCP,
//! setting `SO_SNDBUF` turns off the kernel's send buffer autotuning
//! (`tcp_wmem`), so TCP connections are left to it.

use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A write at least this large raises the send buffer first: above the
/// 208 KiB default's usable part, below the smallest list answer that was
/// written in parts.
pub(crate) const LARGE_WRITE: usize = 192 * 1024;

/// What the send buffer is raised to (the kernel doubles it for its own
/// bookkeeping and caps it at `net.core.wmem_max`): room for a list answer
/// of about 2,000 sessions in one write; larger ones leave in a few writes
/// of 1 MiB or more, each long enough that a wake-up is small beside it.
pub(crate) const RAISED_SEND_BUFFER: usize = 1024 * 1024;

/// An I/O object that raises its socket's send buffer before the first
/// large write; reads, and every other write, pass through.
pub(crate) struct SendBuffer<I> {
    inner: I,
    /// Whether a large write may still raise the buffer (false once done,
    /// tried, or when not enabled for this kind of socket).
    pending: bool,
}

impl<I: AsFd> SendBuffer<I> {
    /// Wraps `inner`; with `enabled` false it never touches the socket.
    pub(crate) fn new(inner: I, enabled: bool) -> Self {
        Self {
            inner,
            pending: enabled,
        }
    }

    /// Raises the buffer once, before the first write of `len` bytes or
    /// more. A failure only costs latency, so it is logged and the write
    /// goes ahead.
    fn before_write(&mut self, len: usize) {
        if !self.pending || len < LARGE_WRITE {
            return;
        }
        self.pending = false;
        if let Err(e) = raise(&self.inner, RAISED_SEND_BUFFER) {
            tracing::debug!(
                error = %e,
                bytes = len,
                reason = "setsockopt(SO_SNDBUF) failed",
                "send buffer not raised: the answer is written in several parts"
            );
        }
    }
}

/// Raises the send buffer of `socket` to `bytes`, unless it already holds
/// that much (the kernel reports twice what was set).
fn raise(socket: impl AsFd, bytes: usize) -> io::Result<()> {
    let current = rustix::net::sockopt::socket_send_buffer_size(&socket)?;
    if current >= bytes.saturating_mul(2) {
        return Ok(());
    }
    rustix::net::sockopt::set_socket_send_buffer_size(&socket, bytes)?;
    Ok(())
}

impl<I: AsyncRead + Unpin> AsyncRead for SendBuffer<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + AsFd + Unpin> AsyncWrite for SendBuffer<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.before_write(buf.len());
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.before_write(bufs.iter().map(|b| b.len()).sum());
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::UnixStream;

    fn send_buffer(s: &UnixStream) -> usize {
        rustix::net::sockopt::socket_send_buffer_size(s).unwrap()
    }

    #[tokio::test]
    async fn a_large_write_raises_the_buffer_once_and_arrives_whole() {
        let (server, mut client) = UnixStream::pair().unwrap();
        let before = send_buffer(&server);
        let mut io = SendBuffer::new(server, true);
        io.write_all(b"small").await.unwrap();
        assert_eq!(send_buffer(&io.inner), before, "a small write changed it");

        let answer = vec![b'x'; 548_000];
        let read = async {
            let mut got = vec![0u8; 5 + 548_000];
            client.read_exact(&mut got).await.unwrap();
            got
        };
        let (got, ()) = tokio::join!(read, async {
            io.write_all(&answer).await.unwrap();
        });
        // The kernel caps what is set at wmem_max and reports it doubled.
        let cap: usize = std::fs::read_to_string("/proc/sys/net/core/wmem_max")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let raised = 2 * RAISED_SEND_BUFFER.min(cap);
        assert_eq!(send_buffer(&io.inner), before.max(raised), "not raised");
        assert_eq!(&got[..5], b"small");
        assert!(got[5..].iter().all(|&b| b == b'x'));
    }

    #[tokio::test]
    async fn not_enabled_leaves_the_socket_alone() {
        let (server, mut client) = UnixStream::pair().unwrap();
        let before = send_buffer(&server);
        let mut io = SendBuffer::new(server, false);
        let read = async {
            let mut got = vec![0u8; 300_000];
            client.read_exact(&mut got).await.unwrap();
        };
        tokio::join!(read, async {
            io.write_all(&vec![0u8; 300_000]).await.unwrap();
        });
        assert_eq!(send_buffer(&io.inner), before);
    }
}

//! [`WriteWatch`]: wraps a client's socket and records since when a write
//! has been waiting without the socket taking a byte. That covers every way
//! a client can stop reading: a snapshot it never takes, events, or the
//! pongs tungstenite queues by itself for the pings a client sends. The
//! connection closes a client whose socket made no write progress for the
//! write-stall timeout.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// How long a client's socket has refused our writes; shared between the
/// socket wrapper and the connection loop.
#[derive(Clone, Debug)]
pub(crate) struct Stall {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    origin: Instant,
    /// Milliseconds after `origin`, plus one, of the first write that found
    /// the socket full since the last progress; 0 when not blocked.
    blocked_since: AtomicU64,
}

impl Stall {
    fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                origin: Instant::now(),
                blocked_since: AtomicU64::new(0),
            }),
        }
    }

    /// How long writes have waited without progress, if they are waiting.
    pub(crate) fn blocked_for(&self) -> Option<Duration> {
        match self.shared.blocked_since.load(Ordering::Acquire) {
            0 => None,
            stamp => {
                let since = self.shared.origin + Duration::from_millis(stamp - 1);
                Some(Instant::now().saturating_duration_since(since))
            }
        }
    }

    fn blocked(&self) {
        let ms = u64::try_from(self.shared.origin.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        // Only the first refusal counts: later ones keep the older stamp.
        let _ = self.shared.blocked_since.compare_exchange(
            0,
            ms + 1,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    fn progressed(&self) {
        self.shared.blocked_since.store(0, Ordering::Release);
    }
}

/// A socket whose write progress is recorded in a [`Stall`].
#[derive(Debug)]
pub(crate) struct WriteWatch<S> {
    inner: S,
    stall: Stall,
}

impl<S> WriteWatch<S> {
    /// Wraps `inner`; the returned [`Stall`] reports on it.
    pub(crate) fn new(inner: S) -> (Self, Stall) {
        let stall = Stall::new();
        (
            Self {
                inner,
                stall: stall.clone(),
            },
            stall,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteWatch<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteWatch<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        match &polled {
            Poll::Pending => self.stall.blocked(),
            Poll::Ready(Ok(n)) if *n > 0 => self.stall.progressed(),
            Poll::Ready(_) => {}
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One write of a byte, polled once.
    fn try_write(w: &mut WriteWatch<tokio::io::DuplexStream>) -> Poll<io::Result<usize>> {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        Pin::new(w).poll_write(&mut cx, b"x")
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_socket_is_blocked_until_it_takes_bytes() {
        let (a, mut b) = tokio::io::duplex(8);
        let (mut w, stall) = WriteWatch::new(a);
        w.write_all(b"12345678").await.unwrap();
        assert_eq!(stall.blocked_for(), None);

        // Full: the next write waits, and keeps the first refusal's time.
        assert!(try_write(&mut w).is_pending());
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(try_write(&mut w).is_pending());
        let blocked = stall.blocked_for().expect("blocked");
        assert!(blocked >= Duration::from_secs(3), "{blocked:?}");

        // The peer reads: progress clears it.
        let mut buf = [0u8; 8];
        b.read_exact(&mut buf).await.unwrap();
        assert!(matches!(try_write(&mut w), Poll::Ready(Ok(1))));
        assert_eq!(stall.blocked_for(), None);
    }
}

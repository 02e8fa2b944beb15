//! [`Conn`]: a connected byte stream to the daemon, over its Unix socket or TCP, so that
//! HTTP and the WebSocket are written once for both.

use crate::client::CONNECT_TIMEOUT;
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// A connection to the daemon.
#[derive(Debug)]
pub enum Conn {
    /// Over its Unix socket.
    Unix(UnixStream),
    /// Over its TCP listener.
    Tcp(TcpStream),
}

/// Connects to `endpoint`, bounded by [`CONNECT_TIMEOUT`].
///
/// # Errors
/// [`ClientError::NoDaemon`] when nothing accepts the connection (no socket file, a stale
/// one, a closed port), [`ClientError::Timeout`] when connecting hangs.
pub async fn connect(endpoint: &Endpoint) -> Result<Conn, ClientError> {
    let attempt = async {
        match endpoint {
            Endpoint::Unix(path) => UnixStream::connect(path).await.map(Conn::Unix),
            Endpoint::Tcp { authority, .. } => {
                let stream = TcpStream::connect(authority.as_str()).await?;
                // Frames are small and interactive: send them at once.
                stream.set_nodelay(true)?;
                Ok(Conn::Tcp(stream))
            }
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(source)) => Err(ClientError::NoDaemon {
            endpoint: endpoint.describe(),
            source,
        }),
        Err(_) => Err(ClientError::Timeout {
            endpoint: endpoint.describe(),
            seconds: CONNECT_TIMEOUT.as_secs(),
        }),
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_flush(cx),
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Unix(s) => s.is_write_vectored(),
            Self::Tcp(s) => s.is_write_vectored(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_socket_is_no_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = Endpoint::Unix(dir.path().join("none.sock"));
        let e = connect(&endpoint).await.unwrap_err();
        assert!(matches!(e, ClientError::NoDaemon { .. }), "{e}");
        assert!(e.to_string().contains("none.sock"), "{e}");
    }
}

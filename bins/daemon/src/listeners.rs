//! The listeners: the Unix socket (mode 0600 in a 0700 directory, a stale
//! socket file replaced, a live one refused) and the optional TCP port,
//! and their limits ([`rest_config`]).

use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tokio::net::{TcpListener, UnixListener};

/// Why a listener could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Another daemon answers on the socket already.
    #[error("--socket {path}: another fleetd is already listening there")]
    InUse {
        /// The socket path.
        path: PathBuf,
    },
    /// The socket or its directory could not be created.
    #[error("--socket {path}: {source}")]
    Socket {
        /// The socket path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The TCP address could not be bound.
    #[error("--http {addr}: {source}")]
    Tcp {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: io::Error,
    },
}

/// Binds the Unix socket at `path`.
///
/// # Errors
/// [`ListenError::InUse`] when a daemon answers there, else
/// [`ListenError::Socket`].
pub async fn bind_unix(path: &Path) -> Result<UnixListener, ListenError> {
    let err = |source| ListenError::Socket {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
    }
    if path.exists() {
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            return Err(ListenError::InUse {
                path: path.to_owned(),
            });
        }
        tracing::info!(path = %path.display(), reason = "nothing listens on it", "removing stale socket file");
        std::fs::remove_file(path).map_err(err)?;
    }
    let listener = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    Ok(listener)
}

/// Binds the TCP listener.
///
/// # Errors
/// [`ListenError::Tcp`] when the address cannot be bound.
pub async fn bind_tcp(addr: std::net::SocketAddr) -> Result<TcpListener, ListenError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError::Tcp { addr, source })
}

/// The limits of the API's listeners: api-rest's defaults (10 s header
/// and body timeouts, 512 connections per listener), the connection cap
/// lowered so that `listeners` listeners together hold at most half of
/// this process's open-file limit (`RLIMIT_NOFILE`, soft), keeping the
/// rest for the store, Redis and WebSocket clients.
pub fn rest_config(listeners: usize) -> api_rest::RestConfig {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    let config = api_rest::RestConfig::default().fit_open_files(limit, listeners);
    tracing::info!(
        open_files = limit,
        listeners,
        max_connections = config.max_connections,
        "connection cap per listener"
    );
    config
}

/// Removes the socket file at shutdown, if it is still ours.
pub fn remove_socket(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not remove socket file")
        }
    }
}

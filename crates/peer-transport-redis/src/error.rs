//! This crate's [`Error`] (setting up a transport) and the one place where
//! fred's errors become the protocol's [`TransportError`].

use std::time::Duration;

use fred::error::{Error as FredError, ErrorKind};
use model::TransportError;

/// Why a [`RedisTransport`](crate::RedisTransport) could not be built or
/// connected. URLs in these errors never carry a password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `--redis` URL is malformed or uses an unsupported scheme.
    #[error("bad Redis URL {url}: {reason}")]
    BadUrl {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `rediss://` URL whose TLS setup failed (e.g. no system root certificates).
    #[error("cannot set up TLS for Redis URL {url}: {reason}")]
    Tls {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// What the TLS layer said.
        reason: String,
    },
    /// A [`RedisConfig`](crate::RedisConfig) setting is out of range.
    #[error("bad Redis setting {field}: {reason}")]
    BadConfig {
        /// The field, e.g. `block`.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The first connection failed.
    #[error("cannot connect to Redis at {url}: {source}")]
    Connect {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// What fred said.
        #[source]
        source: FredError,
    },
    /// [`connect_lazy`](crate::connect_lazy) was called outside a Tokio
    /// runtime, where it cannot start its background connection.
    #[error("connect_lazy needs a Tokio runtime")]
    NoRuntime,
    /// The first connection did not succeed within the connect timeout.
    #[error("no connection to Redis at {url} within {timeout:?}")]
    ConnectTimeout {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// How long it waited.
        timeout: Duration,
    },
}

/// Maps a fred error from `command` to the protocol's view: the link is
/// down, the server refused the command, or the reply made no sense.
pub(crate) fn transport_error(command: &'static str, e: &FredError) -> TransportError {
    let reason = e.to_string();
    match e.kind() {
        // The connection is (or was) not usable: the caller waits and retries.
        ErrorKind::IO
        | ErrorKind::Canceled
        | ErrorKind::Timeout
        | ErrorKind::Routing
        | ErrorKind::Backpressure
        | ErrorKind::Cluster
        | ErrorKind::Sentinel
        | ErrorKind::Auth
        | ErrorKind::Tls => TransportError::Disconnected { reason },
        ErrorKind::Protocol | ErrorKind::Parse => TransportError::Protocol { command, reason },
        // Server errors (`ERR ...`, `WRONGTYPE ...`) and bad arguments.
        ErrorKind::Config
        | ErrorKind::InvalidCommand
        | ErrorKind::InvalidArgument
        | ErrorKind::Url
        | ErrorKind::NotFound
        | ErrorKind::Unknown => TransportError::Command { command, reason },
    }
}

/// A protocol error for a reply of the wrong shape.
pub(crate) fn bad_reply(command: &'static str, reason: impl Into<String>) -> TransportError {
    TransportError::Protocol {
        command,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fred_errors_map_to_transport_errors() {
        let io = FredError::new(ErrorKind::IO, "connection reset");
        assert!(matches!(
            transport_error("XADD", &io),
            TransportError::Disconnected { .. }
        ));
        let timeout = FredError::new(ErrorKind::Timeout, "Request timed out.");
        assert!(matches!(
            transport_error("XREAD", &timeout),
            TransportError::Disconnected { .. }
        ));
        let wrongtype = FredError::new(ErrorKind::InvalidArgument, "WRONGTYPE Operation");
        match transport_error("XADD", &wrongtype) {
            TransportError::Command { command, reason } => {
                assert_eq!(command, "XADD");
                assert!(reason.contains("WRONGTYPE"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let parse = FredError::new(ErrorKind::Parse, "bad frame");
        assert!(matches!(
            transport_error("XRANGE", &parse),
            TransportError::Protocol {
                command: "XRANGE",
                ..
            }
        ));
    }
}

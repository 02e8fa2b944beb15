//! [`RestConfig`]: the listeners' limits (read timeouts and the connection
//! cap), with the defaults of `docs/protocol.md` ("Limits of the local
//! API").

use std::time::Duration;

/// The default of [`RestConfig::header_timeout`] and
/// [`RestConfig::body_timeout`].
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default of [`RestConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// The smallest connection cap [`RestConfig::fit_open_files`] sets, so
/// that a tiny file limit still leaves a usable API.
pub const MIN_CONNECTIONS: usize = 8;

/// Limits of each listener serving the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestConfig {
    /// How long a client may take to send a request head (also how long
    /// an idle keep-alive connection stays open). Past it the connection
    /// is closed; hyper gives no chance to answer.
    pub header_timeout: Duration,
    /// How long a client may take to send a whole request body, counted
    /// from its head. Past it the request is answered 408
    /// `request_timeout` and the connection closed.
    pub body_timeout: Duration,
    /// Open connections per listener. While that many are open, a new one
    /// is answered 503 `too_many_connections` and closed.
    pub max_connections: usize,
}

impl Default for RestConfig {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_READ_TIMEOUT,
            body_timeout: DEFAULT_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl RestConfig {
    /// Lowers [`RestConfig::max_connections`] so that `listeners`
    /// listeners together hold at most half of `open_files` (the
    /// process's `RLIMIT_NOFILE` soft limit), keeping the other half for
    /// the store, Redis, WebSocket clients and the refusals themselves.
    /// Never below [`MIN_CONNECTIONS`].
    #[must_use]
    pub fn fit_open_files(mut self, open_files: u64, listeners: usize) -> Self {
        let share = open_files / 2 / u64::try_from(listeners.max(1)).unwrap_or(u64::MAX);
        let share = usize::try_from(share).unwrap_or(usize::MAX);
        self.max_connections = self.max_connections.min(share).max(MIN_CONNECTIONS);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_half_the_open_files() {
        let c = RestConfig::default();
        assert_eq!(c.clone().fit_open_files(20_000, 1).max_connections, 512);
        assert_eq!(c.clone().fit_open_files(256, 1).max_connections, 128);
        assert_eq!(c.clone().fit_open_files(1024, 2).max_connections, 256);
        assert_eq!(c.clone().fit_open_files(10, 1).max_connections, 8);
        assert_eq!(c.fit_open_files(u64::MAX, 0).max_connections, 512);
    }
}

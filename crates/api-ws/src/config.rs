//! [`WsConfig`]: the limits and timers of the WebSocket API, read by the
//! service and by every connection.

use std::time::Duration;

/// Limits and timers of the WebSocket API.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// Bytes a client may have queued before it is closed with 4008 (1 MiB).
    pub max_queue_bytes: usize,
    /// How often the server pings (20 s).
    pub ping_interval: Duration,
    /// Silence after which a client is closed (60 s).
    pub idle_timeout: Duration,
    /// The largest frame or message a client may send (1 MiB); past it the
    /// client is closed with 1009.
    pub max_frame_bytes: usize,
    /// How long a client's socket may take no byte of ours before it is
    /// closed with 4008 (30 s): a snapshot of any size is delivered, but a
    /// client that stops reading it (or anything else) does not hold its
    /// memory forever.
    pub write_stall_timeout: Duration,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            max_queue_bytes: 1024 * 1024,
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            max_frame_bytes: 1024 * 1024,
            write_stall_timeout: Duration::from_secs(30),
        }
    }
}

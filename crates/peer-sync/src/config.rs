//! The peer protocol's settings, handed in by the daemon.

use std::time::Duration;

/// Settings of [`crate::PeerSync`].
#[derive(Debug, Clone)]
pub struct PeerSyncConfig {
    /// The Redis key prefix (`fleet`).
    pub namespace: String,
    /// How often this daemon announces itself (2 s).
    pub heartbeat: Duration,
    /// The fleet secret: when set, every entry is signed and unsigned or
    /// badly signed entries are dropped.
    pub secret: Option<Vec<u8>>,
    /// The longest a blocking read waits (at most 5 s).
    pub block: Duration,
    /// How long a snapshot request may go unanswered before it is sent again.
    pub request_timeout: Duration,
    /// Entries read per stream per round trip.
    pub read_count: usize,
    /// Events appended per round trip at most.
    pub push_batch: usize,
    /// Beat on the liveness set `NS:alive` (when the transport has one) and
    /// send full heartbeats only when something changes. Off: a full
    /// heartbeat every period, as the previous version did (for tests of a
    /// mixed fleet and for baselines).
    pub liveness: bool,
}

impl Default for PeerSyncConfig {
    fn default() -> Self {
        Self {
            namespace: "fleet".into(),
            heartbeat: Duration::from_secs(2),
            secret: None,
            block: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            read_count: 1000,
            push_batch: 512,
            liveness: true,
        }
    }
}

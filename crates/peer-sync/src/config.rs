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
    /// Whether forwarded session writes from other computers are applied
    /// (`--allow-remote-writes`); otherwise they are answered 403.
    pub allow_remote_writes: bool,
    /// How long a forwarded write waits for its owner's answer (3 s).
    pub forward_timeout: Duration,
    /// How many answered forwarded writes the owner remembers, to answer a
    /// duplicate delivery with the first answer.
    pub remote_writes_memory: usize,
    /// How long the owner remembers an answered forwarded write.
    pub remote_writes_memory_ttl: Duration,
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
            allow_remote_writes: false,
            forward_timeout: Duration::from_secs(3),
            remote_writes_memory: 4096,
            remote_writes_memory_ttl: Duration::from_secs(600),
            liveness: true,
        }
    }
}

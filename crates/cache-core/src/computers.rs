//! Peers as heartbeats describe them, with the monotonic time each was last
//! heard from, so liveness never depends on wall clocks.

use crate::json;
use bytes::Bytes;
use model::Computer;
use std::time::Duration;
use tokio::time::Instant;

pub(crate) struct PeerEntry {
    pub(crate) computer: Computer,
    pub(crate) last_heard: Instant,
    pub(crate) period: Duration,
    pub(crate) offline_since: Option<Instant>,
}

impl PeerEntry {
    pub(crate) fn json(&self) -> Bytes {
        json::to_bytes(&self.computer)
    }
}

/// Whether two records differ in more than `last_seen`.
pub(crate) fn differs(a: &Computer, b: &Computer) -> bool {
    let mut b = b.clone();
    b.last_seen = a.last_seen;
    *a != b
}

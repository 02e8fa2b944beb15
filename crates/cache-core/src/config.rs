//! How long the cache keeps what it holds, and how much history it replays.

use std::time::Duration;

/// Freshness and feed sizes. The defaults are those of `PROTOCOL.md`.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// How long a remote computer's projects and todos are served without
    /// being refreshed, when no local client watches them (300 s).
    pub preparation_ttl: Duration,
    /// Missed heartbeat periods after which a peer is offline (3).
    pub offline_after_periods: u32,
    /// How long an offline peer's sessions stay, marked stale (600 s).
    pub stale_retention: Duration,
    /// How many recent changes a reconnecting client can be replayed (4096).
    pub replay_capacity: usize,
    /// How many bytes of serialized changes the replay ring may hold (8 MiB).
    /// The ring drops its oldest changes past either bound, but always keeps
    /// the newest one; a `since` older than what it holds gets a snapshot.
    pub replay_max_bytes: usize,
    /// How many changes a live subscriber may lag before it must resume
    /// (16384).
    pub channel_capacity: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            preparation_ttl: Duration::from_secs(300),
            offline_after_periods: 3,
            stale_retention: Duration::from_secs(600),
            replay_capacity: 4096,
            replay_max_bytes: 8 * 1024 * 1024,
            channel_capacity: 16384,
        }
    }
}

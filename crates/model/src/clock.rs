//! Time as the daemon sees it, behind a trait so that freshness and liveness
//! can be tested with paused tokio time instead of sleeps.

use crate::Timestamp;
use tokio::time::Instant;

/// Where every component reads the time.
///
/// `now` is wall-clock time for timestamps shown to people; `monotonic` is
/// for every duration the daemon judges (TTL, offline detection), so that a
/// wall-clock jump never marks a peer offline.
pub trait Clock: Send + Sync + 'static {
    /// Wall-clock time, for `created_at`, `last_seen` and the like.
    fn now(&self) -> Timestamp;
    /// Monotonic time, for measuring durations.
    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// The real clock: the system's wall clock and tokio's monotonic clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(chrono::Utc::now())
    }
}

/// A clock whose wall time advances with tokio's clock, so that with paused
/// time (`tokio::time::pause`, `advance`) both readings move together.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    wall_at_start: Timestamp,
    instant_at_start: Instant,
}

impl TokioClock {
    /// A clock that reads `wall` now and moves with tokio time from here.
    pub fn starting_at(wall: Timestamp) -> Self {
        Self {
            wall_at_start: wall,
            instant_at_start: Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = Instant::now().duration_since(self.instant_at_start);
        let ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
        Timestamp::from_millis(self.wall_at_start.as_millis().saturating_add(ms))
    }
}

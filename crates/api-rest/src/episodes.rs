//! [`Episodes`]: which starts and ends of a repeated condition are logged
//! (a listener at its connection cap, `accept` failing). A condition that
//! clears and returns by turns, say a full listener whose held connections
//! time out one by one while new ones arrive, would otherwise log a pair
//! of lines per connection: an episode starting within [`LOG_COOLDOWN`] of
//! the last logged start is not logged, nor is its end, and its hits are
//! counted into the next logged start. Pure: the caller logs.

use std::time::Duration;
use tokio::time::Instant;

/// At most one episode start is logged per this long.
pub(crate) const LOG_COOLDOWN: Duration = Duration::from_secs(10);

/// What to log after a hit or an end.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EpisodeLine {
    /// Nothing.
    Quiet,
    /// An episode started; `earlier` hits of episodes that were not
    /// logged come with it.
    Started { earlier: u64 },
    /// The logged episode ended after `count` hits.
    Ended { count: u64 },
}

/// The episodes of one condition.
#[derive(Debug, Default)]
pub(crate) struct Episodes {
    /// Hits in the current episode; `None` outside one.
    current: Option<u64>,
    /// Whether the current episode's start was logged.
    logged: bool,
    /// When the last logged episode started.
    last_logged: Option<Instant>,
    /// Hits of episodes that were not logged, since the last line.
    unlogged: u64,
}

impl Episodes {
    /// The condition hit at `now` (a refusal, a failed accept).
    pub(crate) fn hit(&mut self, now: Instant) -> EpisodeLine {
        if let Some(n) = self.current.as_mut() {
            *n += 1;
            return EpisodeLine::Quiet;
        }
        self.current = Some(1);
        self.logged = self
            .last_logged
            .is_none_or(|at| now.saturating_duration_since(at) >= LOG_COOLDOWN);
        if !self.logged {
            return EpisodeLine::Quiet;
        }
        self.last_logged = Some(now);
        EpisodeLine::Started {
            earlier: std::mem::take(&mut self.unlogged),
        }
    }

    /// The condition cleared (a connection served, an accept worked).
    pub(crate) fn ended(&mut self) -> EpisodeLine {
        match self.current.take() {
            None => EpisodeLine::Quiet,
            Some(n) if self.logged => EpisodeLine::Ended { count: n },
            Some(n) => {
                self.unlogged += n;
                EpisodeLine::Quiet
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episodes_are_logged_at_most_once_per_cooldown_and_nothing_is_lost() {
        let t0 = Instant::now();
        let mut e = Episodes::default();
        assert_eq!(e.hit(t0), EpisodeLine::Started { earlier: 0 });
        assert_eq!(e.hit(t0), EpisodeLine::Quiet);
        assert_eq!(e.ended(), EpisodeLine::Ended { count: 2 });
        assert_eq!(e.ended(), EpisodeLine::Quiet);
        // Cleared and back by turns: no line per connection.
        for _ in 0..50 {
            assert_eq!(e.hit(t0 + Duration::from_secs(1)), EpisodeLine::Quiet);
            assert_eq!(e.ended(), EpisodeLine::Quiet);
        }
        // After the cooldown the next episode is logged, with those 50.
        assert_eq!(
            e.hit(t0 + LOG_COOLDOWN),
            EpisodeLine::Started { earlier: 50 }
        );
        assert_eq!(e.ended(), EpisodeLine::Ended { count: 1 });
    }
}

//! [`AcceptFailures`]: what the accept loop does when `accept` fails.
//!
//! A failure of one incoming connection (aborted or reset before it was
//! taken) is skipped at once. Any other failure, above all running out of
//! file descriptors (`EMFILE`, `ENFILE`), starts an episode: one warning
//! when it starts, growing pauses ([`FIRST_BACKOFF`] doubling up to
//! [`MAX_BACKOFF`]) so the loop never spins, and one line when accepting
//! works again, with how many failed; at most one episode is logged per
//! 10 s ([`crate::episodes`]). Waiting clients stay in the listen backlog
//! meanwhile.

use std::io;
use std::time::Duration;
use tokio::time::Instant;

use crate::episodes::{EpisodeLine, Episodes};

/// The first pause of an episode.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// The longest pause.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The accept loop's memory of failures (one per listener).
#[derive(Debug, Default)]
pub(crate) struct AcceptFailures {
    /// When the current episode started and its pause now; `None` outside
    /// one.
    episode: Option<(Instant, Duration)>,
    /// Which starts and ends are logged.
    log: Episodes,
}

impl AcceptFailures {
    /// Records a failed accept on `listener` and says how long to pause
    /// (zero: try again at once).
    pub(crate) fn failed(&mut self, listener: &str, e: &io::Error) -> Duration {
        if is_per_connection(e) {
            tracing::debug!(
                listener,
                error = %e,
                reason = "the connection ended before it was accepted",
                "incoming connection skipped"
            );
            return Duration::ZERO;
        }
        let now = Instant::now();
        if let EpisodeLine::Started { earlier } = self.log.hit(now) {
            tracing::warn!(
                listener,
                error = %e,
                reason = reason(e),
                earlier_failures = earlier,
                "accept failed: new connections wait in the backlog, retrying with backoff (logged at most once per 10 s; earlier_failures counts failures since the last line)"
            );
        }
        match &mut self.episode {
            Some((_, backoff)) => {
                *backoff = (*backoff * 2).min(MAX_BACKOFF);
                *backoff
            }
            None => {
                self.episode = Some((now, FIRST_BACKOFF));
                FIRST_BACKOFF
            }
        }
    }

    /// Records a successful accept, closing any episode.
    pub(crate) fn accepted(&mut self, listener: &str) {
        let Some((started, _)) = self.episode.take() else {
            return;
        };
        if let EpisodeLine::Ended { count } = self.log.ended() {
            tracing::info!(
                listener,
                failures = count,
                duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "accepting connections again"
            );
        }
    }

    /// Whether an episode is going on.
    #[cfg(test)]
    pub(crate) fn in_episode(&self) -> bool {
        self.episode.is_some()
    }
}

fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

fn reason(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EMFILE) => "this process is out of file descriptors (RLIMIT_NOFILE)",
        Some(libc::ENFILE) => "the system is out of file descriptors",
        Some(libc::ENOBUFS | libc::ENOMEM) => "out of memory for sockets",
        _ => "unexpected accept error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_episode_backs_off_and_ends() {
        let mut f = AcceptFailures::default();
        let emfile = io::Error::from_raw_os_error(libc::EMFILE);
        let pauses: Vec<Duration> = (0..10).map(|_| f.failed("l", &emfile)).collect();
        assert_eq!(pauses[0], FIRST_BACKOFF);
        assert!(pauses.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*pauses.last().unwrap(), MAX_BACKOFF);
        assert!(f.in_episode());
        f.accepted("l");
        assert!(!f.in_episode());
        assert_eq!(f.failed("l", &emfile), FIRST_BACKOFF);
    }

    #[test]
    fn a_vanished_connection_is_skipped_at_once() {
        let mut f = AcceptFailures::default();
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(f.failed("l", &aborted), Duration::ZERO);
        assert!(!f.in_episode());
    }
}

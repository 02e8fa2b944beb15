//! [`AcceptFailures`]: what the accept loop does when `accept` fails.
//!
//! A failure of one incoming connection (aborted or reset before it was
//! taken) is skipped at once. Any other failure, above all running out of
//! file descriptors (`EMFILE`, `ENFILE`), starts an episode: one warning
//! when it starts, growing pauses ([`FIRST_BACKOFF`] doubling up to
//! [`MAX_BACKOFF`]) so the loop never spins, and one line when accepting
//! works again, with how many failed. Waiting clients stay in the
//! listen backlog meanwhile.

use std::io;
use std::time::Duration;
use tokio::time::Instant;

/// The first pause of an episode.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// The longest pause.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The accept loop's memory of failures (one per listener).
#[derive(Debug, Default)]
pub(crate) struct AcceptFailures {
    episode: Option<Episode>,
}

#[derive(Debug)]
struct Episode {
    started: Instant,
    failures: u64,
    backoff: Duration,
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
        match &mut self.episode {
            Some(ep) => {
                ep.failures += 1;
                ep.backoff = (ep.backoff * 2).min(MAX_BACKOFF);
                ep.backoff
            }
            None => {
                tracing::warn!(
                    listener,
                    error = %e,
                    reason = reason(e),
                    "accept failed: new connections wait in the backlog, retrying with backoff (logged once until accepting works again)"
                );
                self.episode = Some(Episode {
                    started: Instant::now(),
                    failures: 1,
                    backoff: FIRST_BACKOFF,
                });
                FIRST_BACKOFF
            }
        }
    }

    /// Records a successful accept, closing any episode.
    pub(crate) fn accepted(&mut self, listener: &str) {
        if let Some(ep) = self.episode.take() {
            tracing::info!(
                listener,
                failures = ep.failures,
                duration_ms = u64::try_from(ep.started.elapsed().as_millis()).unwrap_or(u64::MAX),
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

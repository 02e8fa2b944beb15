//! Once-per-outage logging: the first failure of a kind is a warning, the
//! retries that follow are debug lines, and the first success after them is
//! one info line, so a long Redis outage does not flood the log.

use std::sync::atomic::{AtomicU64, Ordering};

/// Failures of one kind of operation since its last success.
#[derive(Default)]
pub(crate) struct Outage {
    failures: AtomicU64,
}

impl Outage {
    /// Records a failure; `true` for the first of an outage (warn then).
    pub(crate) fn failed(&self) -> bool {
        self.failures.fetch_add(1, Ordering::AcqRel) == 0
    }

    /// Records a success; the number of failures it ends (0: none).
    pub(crate) fn succeeded(&self) -> u64 {
        self.failures.swap(0, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_once_per_outage() {
        let o = Outage::default();
        assert_eq!(o.succeeded(), 0);
        assert!(o.failed());
        assert!(!o.failed());
        assert_eq!(o.succeeded(), 2);
        assert!(o.failed(), "a new outage warns again");
    }
}

//! [`Ledger`]: every session write a writer daemon acknowledged (2xx), the
//! truth the watchers' caches are checked against. A write that failed or
//! whose answer never came is not acknowledged and is not expected; a
//! `DELETE` without an answer makes its session uncertain (it may or may
//! not have ended), and an uncertain session is left out of every check.

use std::collections::HashMap;

/// What was acknowledged for one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    /// The owning (writer) computer.
    pub owner: String,
    /// The acknowledged revisions, in order (creates and updates).
    pub revs: Vec<u64>,
    /// Its end (`DELETE` answered 204) was acknowledged.
    pub ended: bool,
    /// A `DELETE` went unanswered: leave it out of the checks.
    pub uncertain: bool,
}

impl Acked {
    /// How many acknowledged changes a cache holding `seen` (its rev and
    /// whether it is `closed`, or `None` when the session is absent) has
    /// not caught up with. An end is seen when the session is gone or
    /// shows as `closed` (it is marked closed, then removed).
    pub fn missing(&self, seen: Option<(u64, bool)>) -> u64 {
        let writes = self.revs.len() as u64 + u64::from(self.ended);
        let seen = match seen {
            Some((_, true)) if self.ended => None,
            other => other.map(|(rev, _)| rev),
        };
        match (self.ended, seen) {
            (true, None) => 0,
            // Still there after an acknowledged end: the end is missing,
            // and the revisions it has not reached.
            (true, Some(rev)) => 1 + self.revs.iter().filter(|r| **r > rev).count() as u64,
            (false, None) => writes,
            (false, Some(rev)) => self.revs.iter().filter(|r| **r > rev).count() as u64,
        }
    }
}

/// Counts of what the writers did.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteCounts {
    /// Acknowledged creates.
    pub creates: u64,
    /// Acknowledged updates.
    pub updates: u64,
    /// Acknowledged ends.
    pub ends: u64,
    /// Writes that failed or went unanswered (not expected anywhere).
    pub failed: u64,
}

/// All acknowledged writes, by session id.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Per session.
    pub sessions: HashMap<String, Acked>,
    /// Totals.
    pub counts: WriteCounts,
}

impl Ledger {
    /// A create or update of `id` by `owner` was answered with `rev`.
    pub fn written(&mut self, owner: &str, id: &str, rev: u64, create: bool) {
        let entry = self.sessions.entry(id.to_owned()).or_insert_with(|| Acked {
            owner: owner.to_owned(),
            revs: Vec::new(),
            ended: false,
            uncertain: false,
        });
        entry.revs.push(rev);
        if create {
            self.counts.creates += 1;
        } else {
            self.counts.updates += 1;
        }
    }

    /// `DELETE` of `id` answered 204.
    pub fn ended(&mut self, id: &str) {
        if let Some(s) = self.sessions.get_mut(id) {
            s.ended = true;
        }
        self.counts.ends += 1;
    }

    /// A write failed; a failed `DELETE` makes its session uncertain.
    pub fn failed(&mut self, id: Option<&str>, delete: bool) {
        self.counts.failed += 1;
        if delete && let Some(s) = id.and_then(|id| self.sessions.get_mut(id)) {
            s.uncertain = true;
        }
    }

    /// The sessions to check: everything acknowledged and certain.
    pub fn expected(&self) -> HashMap<String, Acked> {
        self.sessions
            .iter()
            .filter(|(_, a)| !a.uncertain)
            .map(|(id, a)| (id.clone(), a.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_counts_acknowledged_changes_not_yet_seen() {
        let mut l = Ledger::default();
        l.written("w1", "a", 1, true);
        l.written("w1", "a", 2, false);
        l.written("w1", "a", 3, false);
        let a = &l.sessions["a"];
        assert_eq!(a.missing(Some((3, false))), 0);
        assert_eq!(a.missing(Some((4, false))), 0, "newer is fine");
        assert_eq!(a.missing(Some((1, false))), 2);
        assert_eq!(a.missing(None), 3);
        l.ended("a");
        let a = &l.sessions["a"];
        assert_eq!(a.missing(None), 0, "gone after its end");
        assert_eq!(a.missing(Some((4, true))), 0, "closed, not yet removed");
        assert_eq!(a.missing(Some((3, false))), 1, "the end is missing");
        l.written("w1", "b", 1, true);
        l.failed(Some("b"), true);
        assert!(
            !l.expected().contains_key("b"),
            "uncertain sessions are not checked"
        );
        assert_eq!(l.counts.failed, 1);
    }
}

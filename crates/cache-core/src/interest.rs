//! Local interest: which topics and computers local clients watch,
//! reference-counted so that it drops only when the last watcher leaves.
//! The table is plain data under the cache's lock; `watchers.rs` is how
//! clients come and go ([`crate::DaemonCache::watch`] and its guard).
//!
//! What a heartbeat announces is bounded: past [`MAX_ANNOUNCED_COMPUTERS`]
//! distinct names in one topic, the topic is announced as `*` (all). Peers
//! then send this daemon more than its clients need, never less, and the
//! heartbeat stays far below the 1 MiB an entry may hold.

use model::{ComputerFilter, Interest, Topic};
use std::collections::BTreeMap;

/// The key for "every computer".
pub const ALL_COMPUTERS: &str = "*";

/// The most computer names a heartbeat announces for one topic; beyond, it
/// announces `*`. 1,000 names of at most 63 bytes: under 70 KB a topic.
pub const MAX_ANNOUNCED_COMPUTERS: usize = 1000;

/// Reference counts per (topic, computer), `*` standing for all.
#[derive(Debug, Default)]
pub(crate) struct InterestTable {
    counts: BTreeMap<(Topic, String), usize>,
}

impl InterestTable {
    /// The keys a subscription with `filter` holds.
    pub(crate) fn keys(filter: &ComputerFilter) -> Vec<String> {
        match filter {
            ComputerFilter::All => vec![ALL_COMPUTERS.to_owned()],
            ComputerFilter::Only(set) => set.iter().cloned().collect(),
        }
    }

    pub(crate) fn add(&mut self, topic: Topic, keys: &[String]) {
        for k in keys {
            *self.counts.entry((topic, k.clone())).or_default() += 1;
        }
    }

    pub(crate) fn remove(&mut self, topic: Topic, keys: &[String]) {
        for k in keys {
            let key = (topic, k.clone());
            if let Some(n) = self.counts.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    self.counts.remove(&key);
                }
            }
        }
    }

    /// How many subscriptions hold (topic, computer) exactly (`*` is its own key).
    pub(crate) fn count(&self, topic: Topic, computer: &str) -> usize {
        self.counts
            .get(&(topic, computer.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Whether anyone watches `computer` on `topic`, directly or through `*`.
    pub(crate) fn watches(&self, topic: Topic, computer: &str) -> bool {
        self.count(topic, ALL_COMPUTERS) > 0 || self.count(topic, computer) > 0
    }

    /// The interest as a heartbeat announces it.
    pub(crate) fn summary(&self) -> Interest {
        let mut interest = Interest::default();
        for (topic, computer) in self.counts.keys() {
            let list = match topic {
                Topic::Sessions => &mut interest.sessions,
                Topic::Preparation => &mut interest.preparation,
                Topic::Computers => &mut interest.computers,
            };
            list.push(computer.clone());
        }
        for list in [
            &mut interest.sessions,
            &mut interest.preparation,
            &mut interest.computers,
        ] {
            if list.len() > MAX_ANNOUNCED_COMPUTERS || list.iter().any(|c| c == ALL_COMPUTERS) {
                *list = vec![ALL_COMPUTERS.to_owned()];
            }
        }
        interest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    #[test]
    fn summary_collapses_to_all_past_the_cap() {
        let mut table = InterestTable::default();
        let a = names("a", MAX_ANNOUNCED_COMPUTERS);
        table.add(Topic::Sessions, &a);
        table.add(Topic::Computers, &names("c", 3));
        let s = table.summary();
        assert_eq!(
            s.sessions.len(),
            MAX_ANNOUNCED_COMPUTERS,
            "at the cap: named"
        );
        assert_eq!(s.computers.len(), 3);

        // A second client with other names: too many to name, so `*`.
        let b = names("b", 10);
        table.add(Topic::Sessions, &b);
        let s = table.summary();
        assert_eq!(s.sessions, vec![ALL_COMPUTERS.to_owned()]);
        assert_eq!(s.computers.len(), 3, "other topics keep their names");
        assert!(
            table.watches(Topic::Sessions, "b3"),
            "local routing is exact"
        );
        assert!(
            !table.watches(Topic::Sessions, "z"),
            "local routing is exact"
        );

        // The second leaves: named again.
        table.remove(Topic::Sessions, &b);
        assert_eq!(table.summary().sessions.len(), MAX_ANNOUNCED_COMPUTERS);
    }
}

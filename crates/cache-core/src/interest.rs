//! Local interest: which topics and computers local clients watch,
//! reference-counted so that it drops only when the last watcher leaves.
//!
//! What a heartbeat announces is bounded: past [`MAX_ANNOUNCED_COMPUTERS`]
//! distinct names in one topic, the topic is announced as `*` (all). Peers
//! then send this daemon more than its clients need, never less, and the
//! heartbeat stays far below the 1 MiB an entry may hold.

use crate::cache::{DaemonCache, Inner};
use crate::json;
use model::{ComputerFilter, EventName, Interest, Topic};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::watch;

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

impl DaemonCache {
    /// Registers a local watcher of `topic` for the computers in `filter`;
    /// the interest lasts until the returned guard is dropped.
    pub fn watch(&self, topic: Topic, filter: &ComputerFilter) -> InterestGuard {
        let keys = InterestTable::keys(filter);
        self.inner.interest.lock().add(topic, &keys);
        self.interest_changed();
        InterestGuard {
            inner: Arc::downgrade(&self.inner),
            topic,
            keys,
        }
    }

    /// What local clients watch now, as a heartbeat announces it.
    pub fn interest(&self) -> Interest {
        self.inner.interest.lock().summary()
    }

    /// How many local subscriptions hold `(topic, computer)` (`*` counts as
    /// its own key).
    pub fn interest_count(&self, topic: Topic, computer: &str) -> usize {
        self.inner.interest.lock().count(topic, computer)
    }

    /// Whether a local client watches `computer` on `topic`.
    pub fn is_watched(&self, topic: Topic, computer: &str) -> bool {
        self.inner.interest.lock().watches(topic, computer)
    }

    /// A receiver that sees every change of local interest at once, for the
    /// peer protocol to announce it without waiting for the next heartbeat.
    pub fn interest_changes(&self) -> watch::Receiver<Interest> {
        self.inner.interest_tx.subscribe()
    }

    fn interest_changed(&self) {
        Inner::interest_changed(&self.inner);
    }
}

impl Inner {
    fn interest_changed(self: &Arc<Self>) {
        let summary = self.interest.lock().summary();
        let changed = self.interest_tx.send_if_modified(|held| {
            if *held == summary {
                false
            } else {
                *held = summary.clone();
                true
            }
        });
        if changed {
            let mut st = self.state.write();
            st.me.interest = summary;
            st.me.last_seen = self.clock.now();
            let name = st.me.name.clone();
            let data = json::to_bytes(&st.me);
            st.publish(
                self.metrics.as_deref(),
                EventName::ComputerUpdated,
                &name,
                data,
                None,
            );
        }
    }
}

/// Local interest in a topic, held while the guard lives.
#[derive(Debug)]
pub struct InterestGuard {
    inner: std::sync::Weak<Inner>,
    topic: Topic,
    keys: Vec<String>,
}

impl Drop for InterestGuard {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.interest.lock().remove(self.topic, &self.keys);
            Inner::interest_changed(&inner);
        }
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

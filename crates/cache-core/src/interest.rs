//! Local interest: which topics and computers local clients watch,
//! reference-counted so that it drops only when the last watcher leaves.

use model::{ComputerFilter, Interest, Topic};
use std::collections::BTreeMap;

/// The key for "every computer".
pub const ALL_COMPUTERS: &str = "*";

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
            if list.iter().any(|c| c == ALL_COMPUTERS) {
                *list = vec![ALL_COMPUTERS.to_owned()];
            }
        }
        interest
    }
}

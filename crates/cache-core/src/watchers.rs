//! Local watchers come and go: [`DaemonCache::watch`] counts one in the
//! interest table (`interest.rs`) and hands back the [`InterestGuard`]
//! that counts it out; every change of the summary is published, both on
//! the interest channel (for the peer protocol to announce at once) and as
//! `computer_updated` for this computer (its `interest` field).

use crate::cache::{DaemonCache, Inner};
use crate::interest::InterestTable;
use crate::json;
use model::{ComputerFilter, EventName, Interest, Topic};
use std::sync::Arc;
use tokio::sync::watch;

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

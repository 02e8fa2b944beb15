//! A client's subscriptions: per topic, the computers it covers, the
//! sequence number it has seen up to (so the feed never repeats what the
//! snapshot or replay already showed), and the interest it holds.

use cache_core::{FeedEvent, InterestGuard};
use model::{ComputerFilter, Topic};
use std::collections::BTreeMap;

pub(crate) struct Subscription {
    pub(crate) filter: ComputerFilter,
    pub(crate) after_seq: u64,
    pub(crate) _interest: InterestGuard,
}

#[derive(Default)]
pub(crate) struct Subscriptions {
    by_topic: BTreeMap<Topic, Subscription>,
}

impl Subscriptions {
    /// Adds or replaces the subscription to a topic. The old one (and its
    /// interest) is dropped only after the new one holds interest, so a
    /// re-subscribe never lets interest lapse.
    pub(crate) fn insert(&mut self, topic: Topic, sub: Subscription) {
        self.by_topic.insert(topic, sub);
    }

    pub(crate) fn remove(&mut self, topic: Topic) -> bool {
        self.by_topic.remove(&topic).is_some()
    }

    /// Whether this client should receive `event`.
    pub(crate) fn wants(&self, event: &FeedEvent) -> bool {
        self.by_topic
            .get(&event.topic())
            .is_some_and(|s| event.seq > s.after_seq && s.filter.matches(&event.computer))
    }
}

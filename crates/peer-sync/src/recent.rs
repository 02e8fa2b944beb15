//! The owner's memory of forwarded writes it answered: each request id
//! (with its asker) and the answer, so a request delivered twice (fred may
//! re-send an interrupted `XADD`) is applied once and answered twice alike.
//! Bounded in count and in age: the oldest is forgotten first.

use model::forwarded::WriteReply;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// Who asked, and the request id the asker chose.
pub(crate) type RequestKey = (String, String);

/// Recent answers by request, at most `capacity` of them, none older than
/// `ttl`.
pub(crate) struct RecentRequests {
    capacity: usize,
    ttl: Duration,
    answers: HashMap<RequestKey, WriteReply>,
    /// Keys in the order they were answered, with when.
    order: VecDeque<(RequestKey, Instant)>,
}

impl RecentRequests {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            ttl,
            answers: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Forgets answers older than the ttl.
    fn expire(&mut self, now: Instant) {
        while let Some((key, at)) = self.order.front() {
            if now.saturating_duration_since(*at) < self.ttl {
                break;
            }
            self.answers.remove(key);
            self.order.pop_front();
        }
    }

    /// The answer given to `key`, if it is still remembered.
    pub(crate) fn get(&mut self, key: &RequestKey, now: Instant) -> Option<WriteReply> {
        self.expire(now);
        self.answers.get(key).cloned()
    }

    /// Remembers the answer to `key`, forgetting the oldest past capacity.
    pub(crate) fn insert(&mut self, key: RequestKey, reply: WriteReply, now: Instant) {
        self.expire(now);
        if self.answers.insert(key.clone(), reply).is_none() {
            self.order.push_back((key, now));
        }
        while self.order.len() > self.capacity {
            if let Some((old, _)) = self.order.pop_front() {
                self.answers.remove(&old);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.answers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> RequestKey {
        ("b".into(), id.into())
    }

    fn reply(status: u16) -> WriteReply {
        WriteReply {
            status,
            body: serde_json::json!({}),
        }
    }

    #[test]
    fn remembers_within_capacity_and_age() {
        let t0 = Instant::now();
        let mut r = RecentRequests::new(2, Duration::from_secs(60));
        r.insert(key("1"), reply(200), t0);
        r.insert(key("2"), reply(204), t0);
        assert_eq!(r.get(&key("1"), t0), Some(reply(200)));
        r.insert(key("3"), reply(201), t0);
        assert_eq!(r.get(&key("1"), t0), None, "oldest forgotten past capacity");
        assert_eq!(r.get(&key("3"), t0), Some(reply(201)));
        assert_eq!(
            r.get(&("c".into(), "3".into()), t0),
            None,
            "ids are per asker"
        );
        let later = t0 + Duration::from_secs(61);
        assert_eq!(r.get(&key("3"), later), None, "expired");
        assert_eq!(r.len(), 0);
    }
}

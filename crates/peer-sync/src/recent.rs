//! The owner's memory of forwarded writes it answered: each request id
//! (with its asker) and the answer, so a request delivered twice (fred may
//! re-send an interrupted `XADD`) is applied once and answered twice alike.
//!
//! Bounded in count and in age by a [`moka`] cache: past the count the
//! least recently used answer goes first (LRU, not moka's default TinyLFU,
//! which would refuse new request ids in favour of ones asked before and so
//! forget the newest answers, the ones a duplicate is likely to need); past
//! the age an answer is no longer returned. The age is judged by moka's own
//! clock (the system's monotonic clock), not the cache's `Clock`: nothing
//! here has to happen on time, and no paused-time test relies on it. The
//! count is enforced as moka does its housekeeping, inside its calls, so it
//! may be exceeded briefly.

use model::forwarded::WriteReply;
use moka::policy::EvictionPolicy;
use std::time::Duration;

/// Who asked, and the request id the asker chose.
pub(crate) type RequestKey = (String, String);

/// Recent answers by request, at most about `capacity` of them, none
/// older than `ttl`.
pub(crate) struct RecentRequests {
    answers: moka::sync::Cache<RequestKey, WriteReply>,
}

impl RecentRequests {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        let capacity = u64::try_from(capacity.max(1)).unwrap_or(u64::MAX);
        Self {
            answers: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .eviction_policy(EvictionPolicy::lru())
                .build(),
        }
    }

    /// The answer given to `key`, if it is still remembered.
    pub(crate) fn get(&self, key: &RequestKey) -> Option<WriteReply> {
        self.answers.get(key)
    }

    /// Remembers the answer to `key`, forgetting the least recently used
    /// past capacity.
    pub(crate) fn insert(&self, key: RequestKey, reply: WriteReply) {
        self.answers.insert(key, reply);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

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
    fn remembers_within_capacity() {
        let r = RecentRequests::new(2, Duration::from_secs(60));
        r.insert(key("1"), reply(200));
        r.insert(key("2"), reply(204));
        assert_eq!(r.get(&key("1")), Some(reply(200)));
        assert_eq!(r.get(&key("2")), Some(reply(204)));
        r.insert(key("3"), reply(201));
        r.answers.run_pending_tasks();
        assert_eq!(r.answers.entry_count(), 2, "bounded in count");
        assert_eq!(
            r.get(&key("1")),
            None,
            "the least recently used forgotten past capacity"
        );
        assert_eq!(r.get(&key("3")), Some(reply(201)), "the newest kept");
        assert_eq!(r.get(&("c".into(), "3".into())), None, "ids are per asker");
    }

    #[test]
    fn forgets_past_its_age() {
        // moka's clock is the system's: wait for it by bounded polling.
        let r = RecentRequests::new(16, Duration::from_millis(20));
        r.insert(key("1"), reply(200));
        let deadline = Instant::now() + Duration::from_secs(5);
        while r.get(&key("1")).is_some() {
            assert!(Instant::now() < deadline, "still remembered after 5 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        r.answers.run_pending_tasks();
        assert_eq!(r.answers.entry_count(), 0, "evicted, not only hidden");
    }
}

//! The streams this daemon reads: the presence and inbox positions every
//! daemon reads ([`Positions`], the receive task's), and the remote feeds:
//! per watched peer, the boot its data came from, the position in its
//! events stream, and any snapshot request in flight.
//!
//! Two clocks, on purpose. Whether a request is still in flight
//! ([`RemoteFeed::asked_within`]) is protocol timing: it decides when to
//! ask again, so it goes by the cache's `Clock` (paused tokio time in
//! tests) and stays by hand. Which computer a request id was sent to
//! ([`Feeds::requests`]) only has to be forgotten some time after nobody
//! can use it (a peer that never answers, a feed nobody watches any more):
//! a [`moka`] cache with a time to live does that, by moka's own clock
//! (the system's monotonic clock; no paused-time test relies on it).

use model::wire::PushGen;
use model::{StreamId, Topic};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// Where the reader is in the streams every daemon reads.
pub(crate) struct Positions {
    pub(crate) presence: StreamId,
    pub(crate) inbox: StreamId,
}

/// A snapshot request in flight to a watched peer.
pub(crate) struct Pending {
    pub(crate) id: String,
    pub(crate) at: Instant,
}

#[derive(Default)]
pub(crate) struct RemoteFeed {
    /// The boot of the snapshot the position belongs to.
    pub(crate) boot: Option<String>,
    /// Where to read its events stream from; `None` until a snapshot is applied.
    pub(crate) position: Option<StreamId>,
    /// The topics the last applied snapshot covered.
    pub(crate) topics: Vec<Topic>,
    /// The peer's push generations its last snapshot saw.
    pub(crate) push_gen: PushGen,
    pub(crate) pending: Option<Pending>,
}

impl RemoteFeed {
    /// Whether a snapshot request to this peer is in flight and younger
    /// than `timeout`: then asking again would only duplicate it.
    pub(crate) fn asked_within(&self, now: Instant, timeout: Duration) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|p| now.saturating_duration_since(p.at) < timeout)
    }
}

/// How many request timeouts a snapshot request id is remembered for (one
/// minute with the default 5 s): a response is applied only while its id
/// is remembered, and a request still unanswered after one timeout is sent
/// again under a new id (the old one forgotten) when its peer is online and
/// watched, so only the answers of a peer that was offline or is no longer
/// watched can be this late.
pub(crate) const REQUEST_MEMORY_TIMEOUTS: u32 = 12;

pub(crate) struct Feeds {
    pub(crate) by_computer: BTreeMap<String, RemoteFeed>,
    /// Request id -> the computer asked and the topics, for
    /// [`REQUEST_MEMORY_TIMEOUTS`] request timeouts at most.
    pub(crate) requests: moka::sync::Cache<String, (String, Vec<Topic>)>,
}

impl Feeds {
    /// No feeds yet; request ids are remembered for
    /// [`REQUEST_MEMORY_TIMEOUTS`] times `request_timeout`.
    pub(crate) fn new(request_timeout: Duration) -> Self {
        Self {
            by_computer: BTreeMap::new(),
            requests: moka::sync::Cache::builder()
                .time_to_live(request_timeout.saturating_mul(REQUEST_MEMORY_TIMEOUTS))
                .build(),
        }
    }

    /// Forgets the position of `computer`, so the next sync asks for a
    /// snapshot.
    pub(crate) fn reset(&mut self, computer: &str) {
        if let Some(f) = self.by_computer.get_mut(computer) {
            f.position = None;
            f.boot = None;
            f.pending = None;
            f.push_gen = PushGen::default();
        }
    }

    /// The events streams to read, with their positions.
    pub(crate) fn positions(&self) -> impl Iterator<Item = (&String, StreamId)> {
        self.by_computer
            .iter()
            .filter_map(|(c, f)| f.position.map(|p| (c, p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant as StdInstant;

    #[test]
    fn request_ids_are_forgotten_past_their_memory() {
        // 12 x 2 ms; moka's clock is the system's: wait by bounded polling.
        let feeds = Feeds::new(Duration::from_millis(2));
        feeds
            .requests
            .insert("r1".into(), ("b".into(), vec![Topic::Sessions]));
        assert_eq!(
            feeds.requests.get("r1").map(|(c, _)| c),
            Some("b".to_owned())
        );
        let deadline = StdInstant::now() + Duration::from_secs(5);
        while feeds.requests.contains_key("r1") {
            assert!(StdInstant::now() < deadline, "still remembered after 5 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        feeds.requests.run_pending_tasks();
        assert_eq!(feeds.requests.entry_count(), 0);
    }
}

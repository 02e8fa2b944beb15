//! The change feed: every change the cache publishes gets the next
//! `(epoch, seq)`, goes to a broadcast channel for live subscribers and into
//! a ring of recent changes from which a reconnecting client is replayed.

use crate::json;
use bytes::Bytes;
use model::{EventName, Topic};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Where a client says it stopped reading: the daemon boot (`epoch`) and the
/// last `seq` it received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Since {
    /// The daemon's boot id when the client last read.
    pub epoch: String,
    /// The last sequence number the client received.
    pub seq: u64,
}

/// One published change.
#[derive(Debug)]
pub struct FeedEvent {
    /// The sequence number, one more than the previous change's.
    pub seq: u64,
    /// What happened.
    pub event: EventName,
    /// The computer the change is about.
    pub computer: Arc<str>,
    /// The event's data, serialized.
    pub data: Bytes,
    /// The owner's revision of the record, where it has one (sessions).
    pub rev: Option<u64>,
    /// The whole WebSocket `event` frame, serialized once for every client.
    pub frame: Bytes,
}

impl FeedEvent {
    /// The topic whose subscribers receive it.
    pub fn topic(&self) -> Topic {
        self.event.topic()
    }
}

/// Sequence numbers, the replay ring and the broadcast sender. Lives inside
/// the cache's state lock, so a change and its sequence number are assigned
/// atomically with the state they describe.
pub(crate) struct Feed {
    epoch_json: Bytes,
    seq: u64,
    ring: VecDeque<Arc<FeedEvent>>,
    ring_capacity: usize,
    tx: broadcast::Sender<Arc<FeedEvent>>,
}

impl Feed {
    pub(crate) fn new(epoch: &str, ring_capacity: usize, channel_capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(channel_capacity.max(1));
        Self {
            epoch_json: json::string(epoch),
            seq: 0,
            ring: VecDeque::with_capacity(ring_capacity.min(4096)),
            ring_capacity: ring_capacity.max(1),
            tx,
        }
    }

    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    pub(crate) fn epoch_json(&self) -> &Bytes {
        &self.epoch_json
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<FeedEvent>> {
        self.tx.subscribe()
    }

    /// Assigns the next sequence number and publishes.
    pub(crate) fn publish(
        &mut self,
        event: EventName,
        computer: &str,
        data: Bytes,
        rev: Option<u64>,
    ) -> Arc<FeedEvent> {
        self.seq += 1;
        let seq = self.seq.to_string();
        let frame = json::object(&[
            ("type", b"\"event\""),
            ("topic", json::string(event.topic().as_str()).as_ref()),
            ("epoch", &self.epoch_json),
            ("seq", seq.as_bytes()),
            ("event", json::string(event.as_str()).as_ref()),
            ("data", &data),
        ]);
        let fe = Arc::new(FeedEvent {
            seq: self.seq,
            event,
            computer: Arc::from(computer),
            data,
            rev,
            frame,
        });
        if self.ring.len() == self.ring_capacity {
            self.ring.pop_front();
        }
        self.ring.push_back(fe.clone());
        // No receiver is not an error: nobody is listening right now.
        let _ = self.tx.send(fe.clone());
        fe
    }

    /// The changes after `since_seq`, or `None` when the ring no longer
    /// holds all of them (or `since_seq` is in the future).
    pub(crate) fn replay(&self, since_seq: u64) -> Option<Vec<Arc<FeedEvent>>> {
        if since_seq > self.seq {
            return None;
        }
        if since_seq == self.seq {
            return Some(Vec::new());
        }
        let oldest = self.ring.front()?.seq;
        if since_seq + 1 < oldest {
            return None;
        }
        let skip = usize::try_from(since_seq + 1 - oldest).ok()?;
        Some(self.ring.iter().skip(skip).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_from_ring_until_trimmed() {
        let mut feed = Feed::new("e", 4, 16);
        for _ in 0..6 {
            feed.publish(
                EventName::SessionUpdated,
                "a",
                Bytes::from_static(b"{}"),
                None,
            );
        }
        // ring holds 3..=6
        assert_eq!(feed.replay(6).unwrap().len(), 0);
        let r = feed.replay(2).unwrap();
        assert_eq!(
            r.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![3, 4, 5, 6]
        );
        assert!(feed.replay(1).is_none());
        assert!(feed.replay(7).is_none());
        let frame: serde_json::Value = serde_json::from_slice(&r[0].frame).unwrap();
        assert_eq!(frame["type"], "event");
        assert_eq!(frame["seq"], 3);
        assert_eq!(frame["event"], "session_updated");
        assert_eq!(frame["topic"], "sessions");
    }
}

//! The change feed: every change the cache publishes gets the next
//! `(epoch, seq)`, goes to a broadcast channel for live subscribers and into
//! a ring of recent changes from which a reconnecting client is replayed.
//!
//! Memory: the ring is bounded both in changes and in bytes (see
//! [`RingLimits`]), and each change is held once: its `data` is a slice of
//! its serialized frame, not a second copy. The broadcast channel drops a
//! change as soon as every receiver has taken it, so what it holds is only
//! what live subscribers have not read yet.

use crate::json;
use bytes::Bytes;
use model::protocol::event_frame;
use model::{EventName, Topic};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;

pub use model::protocol::Since;

/// One published change.
#[derive(Debug)]
pub struct FeedEvent {
    /// The sequence number, one more than the previous change's.
    pub seq: u64,
    /// What happened.
    pub event: EventName,
    /// The computer the change is about.
    pub computer: Arc<str>,
    /// The event's data, serialized (a slice of `frame`, sharing its bytes).
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

/// The bounds of the replay ring: past either, the oldest changes go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RingLimits {
    /// At most this many changes.
    pub(crate) events: usize,
    /// At most this many bytes of serialized frames, except that the newest
    /// change is always kept whatever its size.
    pub(crate) bytes: usize,
}

/// Sequence numbers, the replay ring and the broadcast sender. Lives inside
/// the cache's state lock, so a change and its sequence number are assigned
/// atomically with the state they describe.
pub(crate) struct Feed {
    epoch_json: Bytes,
    seq: u64,
    ring: VecDeque<Arc<FeedEvent>>,
    ring_bytes: usize,
    limits: RingLimits,
    tx: broadcast::Sender<Arc<FeedEvent>>,
}

impl Feed {
    pub(crate) fn new(epoch: &str, limits: RingLimits, channel_capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(channel_capacity.max(1));
        Self {
            epoch_json: json::string(epoch),
            seq: 0,
            ring: VecDeque::with_capacity(limits.events.clamp(1, 4096)),
            ring_bytes: 0,
            limits: RingLimits {
                events: limits.events.max(1),
                bytes: limits.bytes,
            },
            tx,
        }
    }

    /// Changes and bytes the replay ring holds now.
    #[cfg(test)]
    pub(crate) fn ring_usage(&self) -> (usize, usize) {
        (self.ring.len(), self.ring_bytes)
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
        let frame = event_frame(&self.epoch_json, self.seq, event, &data);
        // `data` is the last field, right before the closing brace: share
        // the frame's bytes instead of keeping a second copy.
        let end = frame.len() - 1;
        let data = frame.slice(end - data.len()..end);
        let fe = Arc::new(FeedEvent {
            seq: self.seq,
            event,
            computer: Arc::from(computer),
            data,
            rev,
            frame,
        });
        self.ring_bytes += fe.frame.len();
        self.ring.push_back(fe.clone());
        while self.ring.len() > 1
            && (self.ring.len() > self.limits.events || self.ring_bytes > self.limits.bytes)
        {
            if let Some(old) = self.ring.pop_front() {
                self.ring_bytes -= old.frame.len();
            }
        }
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
        let mut feed = Feed::new(
            "e",
            RingLimits {
                events: 4,
                bytes: usize::MAX,
            },
            16,
        );
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

    fn publish_sized(feed: &mut Feed, bytes: usize) -> Arc<FeedEvent> {
        let data = Bytes::from(format!("\"{}\"", "x".repeat(bytes)));
        feed.publish(EventName::SessionUpdated, "a", data, None)
    }

    #[test]
    fn ring_is_bounded_in_bytes_and_keeps_the_newest() {
        let mut feed = Feed::new(
            "e",
            RingLimits {
                events: 4096,
                bytes: 10_000,
            },
            16,
        );
        let first = publish_sized(&mut feed, 3_000);
        for _ in 0..9 {
            publish_sized(&mut feed, 3_000);
        }
        let (events, bytes) = feed.ring_usage();
        assert!(bytes <= 10_000, "{bytes} bytes held");
        assert_eq!(events, 3, "three frames of ~3.1 KB fit in 10 KB");
        assert!(feed.replay(first.seq).is_none(), "trimmed: snapshot");
        assert_eq!(feed.replay(feed.seq() - 3).map(|r| r.len()), Some(3));

        // One change larger than the whole bound is still kept, alone.
        let big = publish_sized(&mut feed, 50_000);
        assert_eq!(feed.ring_usage(), (1, big.frame.len()));
        assert_eq!(feed.replay(big.seq - 1).map(|r| r.len()), Some(1));
    }

    #[test]
    fn data_shares_the_frame_bytes() {
        let mut feed = Feed::new(
            "e",
            RingLimits {
                events: 4,
                bytes: usize::MAX,
            },
            16,
        );
        let e = feed.publish(
            EventName::SessionUpdated,
            "a",
            Bytes::from_static(br#"{"k":1}"#),
            None,
        );
        assert_eq!(&e.data[..], br#"{"k":1}"#);
        let frame_range = e.frame.as_ptr_range();
        assert!(
            frame_range.contains(&e.data.as_ptr()),
            "a slice, not a copy"
        );
    }
}

//! The streams this daemon reads: the presence and inbox positions every
//! daemon reads ([`Positions`], the receive task's), and the remote feeds:
//! per watched peer, the boot its data came from, the position in its
//! events stream, and any snapshot request in flight.

use model::wire::PushGen;
use model::{StreamId, Topic};
use std::collections::{BTreeMap, HashMap};
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

#[derive(Default)]
pub(crate) struct Feeds {
    pub(crate) by_computer: BTreeMap<String, RemoteFeed>,
    /// Request id -> the computer asked.
    pub(crate) requests: HashMap<String, (String, Vec<Topic>)>,
}

impl Feeds {
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

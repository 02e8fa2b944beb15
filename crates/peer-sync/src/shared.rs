//! [`Shared`]: what the protocol's tasks share (the peer table, the remote
//! feeds, the push generations, the channels that hand work from the
//! receive task to the push and remote-writes tasks), and the one function
//! that turns local interest into snapshot requests. It sits below every
//! task; [`crate::PeerSync`] builds it.

use crate::config::PeerSyncConfig;
use crate::feeds::{Feeds, Pending};
use crate::gens::PushGens;
use crate::outage::Outage;
use crate::peers::Peers;
use cache_core::DaemonCache;
use model::forwarded::{ForwardedWrite, WriteReply};
use model::wire::{Envelope, INBOX_MAXLEN, Keys, Kind, RequestBody};
use model::{Interest, Metrics, PeerTransport, Topic};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::sync::{mpsc, oneshot};

/// A snapshot request from a peer, for the push task to serve in order.
pub(crate) struct Request {
    pub(crate) from: String,
    pub(crate) id: String,
    pub(crate) topics: Vec<Topic>,
}

/// A forwarded write waiting for the owner task.
pub(crate) struct Incoming {
    pub(crate) from: String,
    pub(crate) id: String,
    pub(crate) write: ForwardedWrite,
}

/// Requests waiting for their reply, by id: the owner asked, and where to
/// hand the reply.
#[derive(Default)]
pub(crate) struct PendingWrites {
    pub(crate) by_id: HashMap<String, (String, oneshot::Sender<WriteReply>)>,
}

/// What every task of the protocol holds (behind one `Arc`): the
/// configuration, the cache and transport, and the state they share.
pub(crate) struct Shared {
    pub(crate) cfg: PeerSyncConfig,
    pub(crate) keys: Keys,
    pub(crate) me: String,
    pub(crate) boot: String,
    pub(crate) cache: DaemonCache,
    pub(crate) transport: Arc<dyn PeerTransport>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) peers: Mutex<Peers>,
    pub(crate) feeds: Mutex<Feeds>,
    pub(crate) requests: mpsc::UnboundedSender<Request>,
    /// Set when stream positions must be checked for gaps before the next read.
    pub(crate) check_gaps: AtomicBool,
    /// Set with `check_gaps` after an outage (a failed read or a
    /// reconnect): the check then also distrusts what it cannot prove.
    pub(crate) outage: AtomicBool,
    /// What own changes were left unpushed, announced to followers.
    pub(crate) gens: PushGens,
    /// Failed single appends (heartbeats, requests, answers) since the
    /// last success, for once-per-outage logging.
    pub(crate) appends: Outage,
    /// Forwarded writes this daemon sent and waits to hear back about.
    pub(crate) pending_writes: Mutex<PendingWrites>,
    /// Forwarded writes from peers, for the owner task to apply.
    pub(crate) remote_writes: mpsc::Sender<Incoming>,
    /// Liveness is by beats on `NS:alive` (configured, and the transport
    /// has it); otherwise a full heartbeat every period.
    pub(crate) beats: bool,
    /// Set when the roster (`NS:computers` and the whole liveness set) must
    /// be read again: presence was trimmed or vanished.
    pub(crate) roster_due: AtomicBool,
}

impl Shared {
    pub(crate) fn secret(&self) -> Option<&[u8]> {
        self.cfg.secret.as_deref()
    }

    pub(crate) fn now(&self) -> tokio::time::Instant {
        self.cache.clock().monotonic()
    }

    /// Appends an envelope to a stream.
    pub(crate) async fn send(&self, stream: &str, env: &Envelope, max_len: usize) -> bool {
        let fields = env.to_fields(self.secret());
        match self.transport.append(stream, &fields, max_len).await {
            Ok(_) => {
                let failures = self.appends.succeeded();
                if failures > 0 {
                    tracing::info!(stream, failures, "appends work again");
                }
                true
            }
            Err(e) => {
                if self.appends.failed() {
                    tracing::warn!(stream, kind = env.kind.as_str(), error = %e, "append failed; later failures of this outage are logged at debug");
                } else {
                    tracing::debug!(stream, kind = env.kind.as_str(), error = %e, "append failed again");
                }
                false
            }
        }
    }

    /// The remote computers local clients watch, with the topics, among
    /// `names`.
    fn wanted(&self, interest: &Interest, names: Vec<String>) -> Vec<(String, Vec<Topic>)> {
        let covers = |list: &[String], c: &str| list.iter().any(|x| x == "*" || x == c);
        names
            .into_iter()
            .filter(|c| *c != self.me)
            .filter_map(|c| {
                let mut topics = Vec::new();
                if covers(&interest.sessions, &c) {
                    topics.push(Topic::Sessions);
                }
                if covers(&interest.preparation, &c) {
                    topics.push(Topic::Preparation);
                }
                (!topics.is_empty()).then_some((c, topics))
            })
            .collect()
    }

    /// Makes the remote feeds match local interest: asks every newly watched
    /// online peer for a snapshot, and stops reading peers nobody watches or
    /// that left (a silent peer's feed is kept, to resume where it was).
    pub(crate) async fn sync_interest(&self) {
        let interest = self.cache.interest();
        let now = self.now();
        let (present, online) = {
            let mut peers = self.peers.lock();
            for gone in peers.prune(now) {
                tracing::info!(peer = %gone, reason = "not heard for 3 periods plus the stale retention", "forgot peer and its interest");
            }
            (peers.present_names(now), peers.online_names(now))
        };
        let keep = self.wanted(&interest, present);
        let wanted = self.wanted(&interest, online);
        let mut to_ask = Vec::new();
        {
            let mut feeds = self.feeds.lock();
            feeds
                .by_computer
                .retain(|c, _| keep.iter().any(|(w, _)| w == c));
            for (c, topics) in wanted {
                let feed = feeds.by_computer.entry(c.clone()).or_default();
                // Followed already, for every topic now watched.
                if feed.position.is_some() && topics.iter().all(|t| feed.topics.contains(t)) {
                    continue;
                }
                if feed.asked_within(now, self.cfg.request_timeout) {
                    continue;
                }
                // Marked pending under the same lock as the check, so that
                // the two tasks that sync interest never both ask a peer.
                to_ask.push(self.reserve_request(&mut feeds, c, topics));
            }
        }
        self.send_requests(to_ask).await;
    }

    /// Pulls again from the online peers among `due` (the cache's sweeper
    /// found their watched projects and todos past the TTL) what local
    /// clients watch of them, unless a request to them is still in flight.
    /// The answer renews the data's age, or replaces it where a change
    /// never reached this daemon.
    pub(crate) async fn pull_due(&self, due: &[String]) {
        let interest = self.cache.interest();
        let now = self.now();
        let online = self.peers.lock().online_names(now);
        let wanted = self.wanted(
            &interest,
            online.into_iter().filter(|c| due.contains(c)).collect(),
        );
        let to_ask: Vec<(String, RequestBody)> = {
            let mut feeds = self.feeds.lock();
            let due: Vec<(String, Vec<Topic>)> = wanted
                .into_iter()
                .filter(|(_, topics)| topics.contains(&Topic::Preparation))
                .filter(|(c, _)| {
                    !feeds
                        .by_computer
                        .get(c)
                        .is_some_and(|f| f.asked_within(now, self.cfg.request_timeout))
                })
                .collect();
            due.into_iter()
                .map(|(c, topics)| {
                    tracing::debug!(peer = %c, reason = "its watched projects and todos are past their TTL", "pulling a snapshot again");
                    self.reserve_request(&mut feeds, c, topics)
                })
                .collect()
        };
        self.send_requests(to_ask).await;
    }

    /// Asks each of `computers` for a snapshot of `topics`, all at once.
    pub(crate) async fn ask_snapshots(&self, computers: Vec<String>, topics: &[Topic]) {
        let requests: Vec<(String, RequestBody)> = {
            let mut feeds = self.feeds.lock();
            computers
                .into_iter()
                .map(|c| self.reserve_request(&mut feeds, c, topics.to_vec()))
                .collect()
        };
        self.send_requests(requests).await;
    }

    /// Records a snapshot request to `computer` as its feed's pending one
    /// (forgetting an older one) and returns the request to send. Done
    /// under the feeds' lock by whoever decided to ask, so that a second
    /// task deciding at the same time sees it pending.
    fn reserve_request(
        &self,
        feeds: &mut Feeds,
        computer: String,
        topics: Vec<Topic>,
    ) -> (String, RequestBody) {
        let id = uuid::Uuid::new_v4().to_string();
        let feed = feeds.by_computer.entry(computer.clone()).or_default();
        if let Some(old) = feed.pending.replace(Pending {
            id: id.clone(),
            at: self.now(),
        }) {
            feeds.requests.remove(&old.id);
        }
        feeds
            .requests
            .insert(id.clone(), (computer.clone(), topics.clone()));
        let body = RequestBody {
            id,
            op: "snapshot".into(),
            topics,
        };
        (computer, body)
    }

    /// Sends every request to its computer's inbox at once rather than one
    /// after another: over a link of 20 ms, asking 9 peers in turn cost 9
    /// round trips before the last request left (a cold `fleet watch`
    /// waited ~0.5 s for its screen).
    async fn send_requests(&self, requests: Vec<(String, RequestBody)>) {
        futures_util::future::join_all(requests.into_iter().map(|(computer, body)| async move {
            let env = Envelope::new(Kind::Request, &self.me, &self.boot, &body);
            tracing::debug!(peer = %computer, "asking for a snapshot");
            self.send(&self.keys.inbox(&computer), &env, INBOX_MAXLEN)
                .await;
        }))
        .await;
    }
}

//! [`PeerSync`]: starts the protocol's three tasks (heartbeat, push,
//! receive) over a transport and stops them in order, saying `leave`.
//! `Shared` is what the tasks share: the peer table, the remote feeds, and
//! the one function that turns local interest into snapshot requests.

use crate::config::PeerSyncConfig;
use crate::feeds::{Feeds, Pending};
use crate::forward::{Forwarder, PendingWrites};
use crate::gens::PushGens;
use crate::outage::Outage;
use crate::peers::Peers;
use crate::remote_writes::{self, ApplyWrites};
use crate::{heartbeat, push, receive};
use cache_core::DaemonCache;
use model::wire::{Envelope, INBOX_MAXLEN, Keys, Kind, RequestBody};
use model::{Interest, Metrics, PeerTransport, Topic};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Forwarded writes waiting for the owner task at most; more are dropped
/// (their askers time out).
const REMOTE_WRITES_QUEUE: usize = 256;

/// A snapshot request from a peer, for the push task to serve in order.
pub(crate) struct Request {
    pub(crate) from: String,
    pub(crate) id: String,
    pub(crate) topics: Vec<Topic>,
}

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
    /// Wakes the heartbeat task to announce at once.
    pub(crate) announce: Notify,
    /// Forwarded writes this daemon sent and waits to hear back about.
    pub(crate) pending_writes: Mutex<PendingWrites>,
    /// Forwarded writes from peers, for the owner task to apply.
    pub(crate) remote_writes: mpsc::Sender<remote_writes::Incoming>,
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
                if feed
                    .pending
                    .as_ref()
                    .is_some_and(|p| now.saturating_duration_since(p.at) < self.cfg.request_timeout)
                {
                    continue;
                }
                to_ask.push((c, topics));
            }
        }
        for (c, topics) in to_ask {
            self.ask_snapshot(&c, topics).await;
        }
    }

    /// Sends a snapshot request to `computer`'s inbox.
    pub(crate) async fn ask_snapshot(&self, computer: &str, topics: Vec<Topic>) {
        let id = uuid::Uuid::new_v4().to_string();
        {
            let mut feeds = self.feeds.lock();
            let feed = feeds.by_computer.entry(computer.to_owned()).or_default();
            if let Some(old) = feed.pending.replace(Pending {
                id: id.clone(),
                at: self.now(),
            }) {
                feeds.requests.remove(&old.id);
            }
            feeds
                .requests
                .insert(id.clone(), (computer.to_owned(), topics.clone()));
        }
        let body = RequestBody {
            id,
            op: "snapshot".into(),
            topics,
        };
        let env = Envelope::new(Kind::Request, &self.me, &self.boot, &body);
        tracing::debug!(peer = computer, "asking for a snapshot");
        self.send(&self.keys.inbox(computer), &env, INBOX_MAXLEN)
            .await;
    }
}

/// The running protocol. Stop it with [`PeerSync::stop`] to say `leave`.
pub struct PeerSync {
    shared: Arc<Shared>,
    tasks: TaskTracker,
    cancel: CancellationToken,
}

impl PeerSync {
    /// Joins the fleet on `transport` as the cache's local computer,
    /// refusing forwarded writes (403).
    pub fn start(
        cfg: PeerSyncConfig,
        cache: DaemonCache,
        transport: Arc<dyn PeerTransport>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self::start_with_writes(cfg, cache, transport, metrics, None)
    }

    /// Like [`PeerSync::start`], applying the session writes other
    /// computers forward through `applier` when `cfg.allow_remote_writes`
    /// is set.
    pub fn start_with_writes(
        cfg: PeerSyncConfig,
        cache: DaemonCache,
        transport: Arc<dyn PeerTransport>,
        metrics: Arc<Metrics>,
        applier: Option<Arc<dyn ApplyWrites>>,
    ) -> Self {
        let (req_tx, req_rx) = mpsc::unbounded_channel();
        let (writes_tx, writes_rx) = mpsc::channel(REMOTE_WRITES_QUEUE);
        let retention = cache.config().stale_retention;
        let beats = cfg.liveness && transport.has_liveness();
        let shared = Arc::new(Shared {
            keys: Keys::new(&cfg.namespace),
            me: cache.local_name().to_owned(),
            boot: cache.epoch().to_owned(),
            cfg,
            cache,
            transport,
            metrics,
            peers: Mutex::new(Peers::new(retention)),
            feeds: Mutex::new(Feeds::default()),
            requests: req_tx,
            check_gaps: AtomicBool::new(false),
            outage: AtomicBool::new(false),
            gens: PushGens::default(),
            appends: Outage::default(),
            announce: Notify::new(),
            pending_writes: Mutex::new(PendingWrites::default()),
            remote_writes: writes_tx,
            beats,
            roster_due: AtomicBool::new(false),
        });
        let tasks = TaskTracker::new();
        let cancel = CancellationToken::new();
        let me = shared.me.clone();
        tasks.spawn(
            heartbeat::run(shared.clone(), cancel.clone())
                .instrument(tracing::info_span!("heartbeat", computer = %me)),
        );
        tasks.spawn(
            push::run(shared.clone(), req_rx, cancel.clone())
                .instrument(tracing::info_span!("push", computer = %me)),
        );
        tasks.spawn(
            receive::run(shared.clone(), cancel.clone())
                .instrument(tracing::info_span!("receive", computer = %me)),
        );
        tasks.spawn(
            remote_writes::run(shared.clone(), writes_rx, applier, cancel.clone())
                .instrument(tracing::info_span!("remote_writes", computer = %me)),
        );
        tasks.close();
        Self {
            shared,
            tasks,
            cancel,
        }
    }

    /// `disabled`, `connected` or `reconnecting`, for `/v1/health`.
    pub fn link_state(&self) -> &'static str {
        if self.shared.transport.link().borrow().connected {
            "connected"
        } else {
            "reconnecting"
        }
    }

    /// Pulls snapshots again from `computer` (or every online peer), for the
    /// topics given (or all); answers arrive as cache changes.
    pub async fn refresh(&self, computer: Option<&str>, topics: Vec<Topic>) {
        self.refresher().refresh(computer, topics).await;
    }

    /// A cheap handle that forwards session writes to their owners.
    pub fn forwarder(&self) -> Forwarder {
        Forwarder {
            shared: self.shared.clone(),
        }
    }

    /// A cheap handle for refreshes from other tasks.
    pub fn refresher(&self) -> PeerRefresher {
        PeerRefresher {
            shared: self.shared.clone(),
        }
    }

    /// Says `leave`, then stops every task, waiting at most `deadline`.
    /// Returns whether everything stopped in time.
    pub async fn stop(self, deadline: Duration) -> bool {
        let env = Envelope::new(
            Kind::Leave,
            &self.shared.me,
            &self.shared.boot,
            &serde_json::json!({}),
        );
        let presence = self.shared.keys.presence();
        let sent = tokio::time::timeout(
            deadline / 2,
            self.shared
                .send(&presence, &env, model::wire::PRESENCE_MAXLEN),
        )
        .await
        .unwrap_or(false);
        if !sent {
            tracing::warn!(reason = "transport unavailable", "could not say leave");
        }
        if self.shared.beats {
            let quit = crate::liveness::quit(&self.shared);
            if tokio::time::timeout(deadline / 4, quit).await.is_err() {
                tracing::warn!(
                    reason = "transport too slow",
                    "left the liveness set to expire by itself"
                );
            }
        }
        self.cancel.cancel();
        tokio::time::timeout(deadline / 2, self.tasks.wait())
            .await
            .is_ok()
    }
}

/// Starts refreshes from anywhere (the REST and WS handlers).
#[derive(Clone)]
pub struct PeerRefresher {
    shared: Arc<Shared>,
}

impl PeerRefresher {
    /// Marks `computer` (or every watched peer) for a fresh snapshot; the
    /// requests go out at once from the caller's task.
    pub async fn refresh(&self, computer: Option<&str>, topics: Vec<Topic>) {
        let topics: Vec<Topic> = topics
            .into_iter()
            .filter(|t| *t != Topic::Computers)
            .collect();
        if topics.is_empty() {
            return;
        }
        let targets: Vec<String> = {
            let online = self.shared.peers.lock().online_names(self.shared.now());
            online
                .into_iter()
                .filter(|c| *c != self.shared.me && computer.is_none_or(|x| x == c))
                .collect()
        };
        for c in targets {
            self.shared.ask_snapshot(&c, topics.clone()).await;
        }
    }
}

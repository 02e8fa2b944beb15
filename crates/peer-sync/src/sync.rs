//! [`PeerSync`]: starts the protocol's tasks (heartbeat, push, receive,
//! and the owner of forwarded writes) over a transport and stops them in
//! order, saying `leave`. What the tasks share is [`Shared`] (`shared.rs`).

use crate::config::PeerSyncConfig;
use crate::feeds::Feeds;
use crate::forward::Forwarder;
use crate::gens::PushGens;
use crate::outage::Outage;
use crate::peers::Peers;
use crate::remote_writes::{self, ApplyWrites};
use crate::shared::{PendingWrites, Shared};
use crate::{heartbeat, push, receive};
use cache_core::DaemonCache;
use model::wire::{Envelope, Keys, Kind};
use model::{Metrics, PeerTransport, Topic};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Forwarded writes waiting for the owner task at most; more are dropped
/// (their askers time out).
const REMOTE_WRITES_QUEUE: usize = 256;

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
        let feeds = Feeds::new(cfg.request_timeout);
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
            feeds: Mutex::new(feeds),
            requests: req_tx,
            check_gaps: AtomicBool::new(false),
            outage: AtomicBool::new(false),
            gens: PushGens::default(),
            appends: Outage::default(),
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
        self.shared.ask_snapshots(targets, &topics).await;
    }
}

//! An in-process fleet for the `scale` scenario: N real `PeerSync`
//! instances, each with its own cache and its own `RedisTransport` (two
//! connections: commands and the blocking reader), as N daemons would run
//! them, minus the HTTP side nobody uses while idle.

use anyhow::Context as _;
use cache_core::{CacheConfig, DaemonCache};
use model::{
    Clock as _, Computer, EventName, Interest, Metrics, PeerTransport, SystemClock, VERSION,
};
use peer_sync::{PeerSync, PeerSyncConfig};
use peer_transport_redis::{RedisConfig, RedisTransport};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How many nodes connect at once while the fleet starts.
const START_BATCH: usize = 20;

/// The pause between two batches of starting nodes.
const START_PAUSE: Duration = Duration::from_millis(250);

/// How long one node may take to connect while hundreds start (a cold
/// start of the whole fleet is the busiest moment: every join is read by
/// every node started before it).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// How often each node's cache sweeps, as in `fleetd` (it is what judges a
/// previous-version peer offline).
const SWEEP_PERIOD: Duration = Duration::from_millis(500);

/// One computer of the in-process fleet.
pub(super) struct Node {
    pub(super) name: String,
    pub(super) cache: DaemonCache,
    sync: Option<PeerSync>,
    transport: Arc<RedisTransport>,
    sweeper: TaskTracker,
    stop_sweeper: CancellationToken,
}

impl Node {
    /// Connects to `url` and joins the fleet as `name`.
    pub(super) async fn start(url: &str, name: &str, cfg: PeerSyncConfig) -> anyhow::Result<Self> {
        let clock = Arc::new(SystemClock);
        let now = clock.now();
        let me = Computer {
            name: name.to_owned(),
            online: true,
            is_self: true,
            host: name.to_owned(),
            user: "bench".into(),
            version: VERSION.into(),
            boot_id: uuid::Uuid::new_v4().to_string(),
            started_at: now,
            last_seen: now,
            interest: Interest::default(),
            remote_writes: false,
            stats: None,
        };
        let metrics = Arc::new(Metrics::new());
        let cache = DaemonCache::with_metrics(me, CacheConfig::default(), clock, metrics.clone());
        let transport = Arc::new(
            peer_transport_redis::connect(RedisConfig {
                connect_timeout: CONNECT_TIMEOUT,
                ..RedisConfig::new(url.to_owned())
            })
            .await
            .with_context(|| format!("{name}: connect to Redis"))?,
        );
        let sync = PeerSync::start(
            cfg,
            cache.clone(),
            transport.clone() as Arc<dyn PeerTransport>,
            metrics,
        );
        let sweeper = TaskTracker::new();
        let stop_sweeper = CancellationToken::new();
        sweeper.spawn(
            cache
                .clone()
                .run_sweeper(SWEEP_PERIOD, stop_sweeper.clone()),
        );
        sweeper.close();
        Ok(Self {
            name: name.to_owned(),
            cache,
            sync: Some(sync),
            transport,
            sweeper,
            stop_sweeper,
        })
    }

    /// A crash as the fleet sees it: its link is gone, no `leave`.
    pub(super) async fn crash(&self) {
        self.transport.shutdown().await;
    }

    /// Says `leave` and stops (bounded), then closes the connections;
    /// returns whether its tasks stopped in time.
    pub(super) async fn stop(mut self) -> bool {
        let mut in_time = true;
        if let Some(sync) = self.sync.take() {
            in_time = sync.stop(Duration::from_secs(4)).await;
        }
        self.stop_sweeper.cancel();
        self.sweeper.wait().await;
        self.transport.shutdown().await;
        in_time
    }
}

/// Starts `names` in batches.
pub(super) async fn start_all(
    url: &str,
    names: &[String],
    cfg: &PeerSyncConfig,
) -> anyhow::Result<Vec<Node>> {
    let mut nodes = Vec::with_capacity(names.len());
    for chunk in names.chunks(START_BATCH) {
        let mut set = JoinSet::new();
        for (i, name) in chunk.iter().enumerate() {
            let (url, name, cfg) = (url.to_owned(), name.clone(), cfg.clone());
            set.spawn(async move {
                // A cold start of a whole fleet on 2 shared cores can time a
                // connection out: a few more tries before giving up.
                let mut tries = 0;
                loop {
                    tries += 1;
                    match Node::start(&url, &name, cfg.clone()).await {
                        Err(e) if tries < 4 => {
                            eprintln!("scale: {name}: {e:#}; trying again");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        r => return (i, r),
                    }
                }
            });
        }
        let mut batch: Vec<(usize, Node)> = Vec::with_capacity(chunk.len());
        while let Some(joined) = set.join_next().await {
            let (i, node) = joined.context("a node's start task failed")?;
            batch.push((i, node?));
        }
        batch.sort_by_key(|(i, _)| *i);
        nodes.extend(batch.into_iter().map(|(_, n)| n));
        // Paced, as computers boot: every join is read by every node.
        tokio::time::sleep(START_PAUSE).await;
    }
    Ok(nodes)
}

/// Stops every node concurrently.
pub(super) async fn stop_all(nodes: Vec<Node>) {
    let total = nodes.len();
    let mut set = JoinSet::new();
    for n in nodes {
        set.spawn(n.stop());
    }
    let mut late = 0usize;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(true) => {}
            Ok(false) => late += 1,
            Err(e) => eprintln!("scale: a node's stop task failed: {e}"),
        }
    }
    if late > 0 {
        // Every leave wakes every reader: a whole fleet stopping at once is
        // slow; the tasks were cancelled past the deadline all the same.
        eprintln!("scale: {late} of {total} nodes took longer than 4 s to stop (teardown)");
    }
}

/// Waits (polling every 250 ms, at most `patience`) until every node sees
/// `peers` online peers.
pub(super) async fn until_all_see(
    nodes: &[Node],
    peers: usize,
    patience: Duration,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    loop {
        let behind = nodes
            .iter()
            .filter(|n| n.cache.online_peers() != peers)
            .count();
        if behind == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > patience {
            let counts: Vec<usize> = nodes.iter().map(|n| n.cache.online_peers()).collect();
            let (min, max) = (
                counts.iter().min().copied().unwrap_or(0),
                counts.iter().max().copied().unwrap_or(0),
            );
            anyhow::bail!(
                "{behind} of {} nodes do not see {peers} peers after {patience:?} (they see {min} to {max})",
                nodes.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Watches every node's change feed for `event` about `computer`; the
/// returned set yields, per node, how long after `start` it came (or
/// `None` after `patience`). Subscribe before causing the event.
pub(super) fn watch_for(
    nodes: &[Node],
    computer: &str,
    event: EventName,
    start: Instant,
    patience: Duration,
) -> JoinSet<Option<Duration>> {
    let mut set = JoinSet::new();
    for n in nodes {
        let mut rx = n.cache.subscribe();
        let computer: Arc<str> = Arc::from(computer);
        set.spawn(async move {
            let wait = async {
                loop {
                    match rx.recv().await {
                        Ok(ev) if ev.event == event && *ev.computer == *computer => {
                            return Some(start.elapsed());
                        }
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return None,
                    }
                }
            };
            tokio::time::timeout(patience, wait).await.ok().flatten()
        });
    }
    set
}

/// Collects what [`watch_for`] saw: the times, and how many never saw it.
pub(super) async fn collect(mut set: JoinSet<Option<Duration>>) -> (Vec<Duration>, usize) {
    let mut seen = Vec::new();
    let mut missed = 0;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Some(d)) => seen.push(d),
            Ok(None) | Err(_) => missed += 1,
        }
    }
    seen.sort();
    (seen, missed)
}

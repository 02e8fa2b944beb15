//! Fixtures shared by the protocol tests: daemons as [`Node`]s (a cache,
//! an in-memory transport and a running `PeerSync`), paused-time waiting,
//! and feed helpers.
#![allow(dead_code, unused_imports)]

// The tests' prelude: what every protocol test names.
pub use bytes::Bytes;
pub use cache_core::{CacheConfig, DaemonCache, FeedEvent, InterestGuard};
pub use model::metrics::DropLabels;
pub use model::wire::{Envelope, Keys, Kind};
pub use model::{
    Computer, ComputerFilter, EventName, Interest, Metrics, PeerTransport, Session, SessionStatus,
    Timestamp, TokioClock, Topic,
};
pub use peer_sync::{PeerSync, PeerSyncConfig};
pub use peer_transport_memory::{MemoryHub, MemoryTransport};
pub use std::sync::Arc;
pub use std::time::Duration;
pub use tokio::sync::broadcast;

pub const PERIOD: Duration = Duration::from_secs(2);

pub struct Node {
    pub name: String,
    pub cache: DaemonCache,
    pub transport: MemoryTransport,
    pub metrics: Arc<Metrics>,
    pub sync: Option<PeerSync>,
    pub revs: std::collections::HashMap<String, u64>,
}

pub fn config(secret: Option<&[u8]>) -> PeerSyncConfig {
    PeerSyncConfig {
        heartbeat: PERIOD,
        secret: secret.map(<[u8]>::to_vec),
        ..PeerSyncConfig::default()
    }
}

impl Node {
    pub fn start(hub: &MemoryHub, name: &str) -> Self {
        Self::start_with(hub, name, config(None))
    }

    pub fn start_with(hub: &MemoryHub, name: &str, cfg: PeerSyncConfig) -> Self {
        Self::start_full(hub, name, cfg, CacheConfig::default())
    }

    /// A node with its own cache settings (feed sizes, retention).
    pub fn start_full(
        hub: &MemoryHub,
        name: &str,
        cfg: PeerSyncConfig,
        cache_cfg: CacheConfig,
    ) -> Self {
        Self::start_applying(hub, name, cfg, cache_cfg, None)
    }

    /// A node that applies forwarded writes through `applier` (when
    /// `cfg.allow_remote_writes` is set, which it also announces).
    pub fn start_applying(
        hub: &MemoryHub,
        name: &str,
        cfg: PeerSyncConfig,
        cache_cfg: CacheConfig,
        applier: Option<Arc<dyn peer_sync::ApplyWrites>>,
    ) -> Self {
        let clock = Arc::new(TokioClock::starting_at(Timestamp::from_millis(
            1_800_000_000_000,
        )));
        let me = Computer {
            name: name.into(),
            online: true,
            is_self: true,
            host: name.into(),
            user: "u".into(),
            version: "t".into(),
            boot_id: uuid(),
            started_at: Timestamp::from_millis(0),
            last_seen: Timestamp::from_millis(0),
            remote_writes: cfg.allow_remote_writes,
            stats: None,
            interest: Interest::default(),
        };
        let metrics = Arc::new(Metrics::new());
        let cache = DaemonCache::with_metrics(me, cache_cfg, clock, metrics.clone());
        let transport = hub.connect(name);
        let sync = PeerSync::start_with_writes(
            cfg,
            cache.clone(),
            Arc::new(transport.clone()) as Arc<dyn PeerTransport>,
            metrics.clone(),
            applier,
        );
        Self {
            name: name.into(),
            cache,
            transport,
            metrics,
            sync: Some(sync),
            revs: Default::default(),
        }
    }

    /// Creates or changes one of this node's sessions (the owner's write).
    pub fn touch(&mut self, id: &str) -> Session {
        let rev = self.revs.entry(id.into()).or_insert(0);
        *rev += 1;
        let s = Session {
            session_id: id.into(),
            computer: self.name.clone(),
            title: format!("{id} rev {rev}"),
            project_path: None,
            agent: "claude".into(),
            thinking_mode: None,
            status: SessionStatus::Active,
            created_at: Timestamp::from_millis(0),
            last_activity: self.cache.clock().now(),
            last_input: None,
            last_output: None,
            rev: *rev,
            stale: false,
        };
        self.cache.put_session(s.clone());
        s
    }

    /// Ends one of this node's sessions (the owner's close, one rev on).
    pub fn end(&mut self, id: &str) {
        let rev = self.revs.entry(id.into()).or_insert(0);
        *rev += 1;
        self.cache.close_session(&self.name, id, *rev);
    }

    /// Replaces this node's projects with `names` (paths `/p/<name>`), each
    /// with `todos` pending todos.
    pub fn set_preparation(&self, names: &[&str], todos: usize) {
        let projects: Vec<model::Project> = names
            .iter()
            .map(|n| model::Project {
                computer: self.name.clone(),
                name: (*n).into(),
                path: format!("/p/{n}"),
                description: None,
            })
            .collect();
        self.cache.set_projects(&self.name, projects);
        for n in names {
            let path = format!("/p/{n}");
            let list = (0..todos)
                .map(|i| model::Todo {
                    computer: self.name.clone(),
                    project_path: path.clone(),
                    slug: format!("t{i}"),
                    status: model::TodoStatus::Pending,
                    description: None,
                    has_requirements: false,
                    has_impl_plan: false,
                })
                .collect();
            self.cache.set_todos(&self.name, &path, list);
        }
    }

    /// This node's view of `computer`'s projects and todos, as JSON.
    pub fn preparation_of(&self, computer: &str) -> (String, String) {
        (
            String::from_utf8_lossy(&self.cache.projects_json(Some(computer))).into_owned(),
            String::from_utf8_lossy(&self.cache.todos_json(Some(computer), None)).into_owned(),
        )
    }

    pub fn watch(&self, topic: Topic) -> (InterestGuard, broadcast::Receiver<Arc<FeedEvent>>) {
        (
            self.cache.watch(topic, &ComputerFilter::All),
            self.cache.subscribe(),
        )
    }

    pub fn sessions_of(&self, computer: &str) -> Vec<Session> {
        serde_json::from_slice(&self.cache.sessions_json(Some(computer))).unwrap()
    }

    pub fn dropped(&self, reason: &'static str) -> u64 {
        self.metrics
            .dropped_inputs
            .get_or_create(&DropLabels {
                source: "redis",
                reason,
            })
            .get()
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.sync.take() {
            assert!(
                s.stop(Duration::from_secs(5)).await,
                "peer sync stopped in time"
            );
        }
    }
}

pub fn uuid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!("boot-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Waits, in paused time, until `cond` holds; panics after `limit`.
pub async fn until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) -> Duration {
    let start = tokio::time::Instant::now();
    loop {
        if cond() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Lets every task run for `d` of paused time.
pub async fn run_for(d: Duration) {
    tokio::time::sleep(d).await;
}

pub fn events_of(
    rx: &mut broadcast::Receiver<Arc<FeedEvent>>,
    topic: Topic,
) -> Vec<Arc<FeedEvent>> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .filter(|e| e.topic() == topic)
        .collect()
}

pub async fn two_online(hub: &MemoryHub) -> (Node, Node) {
    pair_with(hub, CacheConfig::default()).await
}

/// `a` (with its own cache settings) and `b`, once each sees the other.
pub async fn pair_with(hub: &MemoryHub, a_cache: CacheConfig) -> (Node, Node) {
    let a = Node::start_full(hub, "a", config(None), a_cache);
    let b = Node::start(hub, "b");
    until(Duration::from_secs(5), "peers see each other", || {
        a.cache.online_peers() == 1 && b.cache.online_peers() == 1
    })
    .await;
    (a, b)
}

/// Turns on test logs (`RUST_LOG=debug`), once per process.
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

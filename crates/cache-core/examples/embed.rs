//! Embedding the fleet cache in a Rust tool, without the daemon: two
//! "computers" in one process, each a [`DaemonCache`] with its own
//! [`PeerSync`], joined by the in-memory transport (the Redis Streams
//! transport, `peer-transport-redis`, plugs in the same way). `alpha`
//! writes a session; `beta`, which watches every computer's sessions, sees
//! it arrive in its own cache and prints it.
//!
//! Run it with `cargo run -p cache-core --example embed`; `cargo test -p
//! cache-core` runs it too (`tests/embed.rs`), so it cannot rot.

use cache_core::{CacheConfig, DaemonCache};
use model::{
    Clock, Computer, ComputerFilter, EventName, Interest, Metrics, PeerTransport, Session,
    SessionStatus, SystemClock, Topic,
};
use peer_sync::{PeerSync, PeerSyncConfig};
use peer_transport_memory::MemoryHub;
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long `beta` waits for `alpha`'s session before giving up.
const PATIENCE: Duration = Duration::from_secs(10);

/// One embedded "computer": its cache and the protocol that feeds it.
struct Node {
    cache: DaemonCache,
    sync: PeerSync,
}

impl Node {
    /// A cache for `name`, joined to the fleet on `hub`, its sweeper (the
    /// freshness rules) run by `tasks` until `cancel`.
    fn start(hub: &MemoryHub, name: &str, tasks: &TaskTracker, cancel: &CancellationToken) -> Self {
        let now = SystemClock.now();
        let me = Computer {
            name: name.into(),
            online: true,
            is_self: true,
            host: name.into(),
            user: "embed".into(),
            version: model::VERSION.into(),
            boot_id: format!("{name}-boot"),
            started_at: now,
            last_seen: now,
            remote_writes: false,
            stats: None,
            interest: Interest::default(),
        };
        let cache = DaemonCache::new(me, CacheConfig::default(), Arc::new(SystemClock));
        tasks.spawn(
            cache
                .clone()
                .run_sweeper(Duration::from_secs(1), cancel.clone()),
        );
        let transport: Arc<dyn PeerTransport> = Arc::new(hub.connect(name));
        let cfg = PeerSyncConfig {
            heartbeat: Duration::from_millis(500),
            block: Duration::from_millis(500),
            ..PeerSyncConfig::default()
        };
        let sync = PeerSync::start(cfg, cache.clone(), transport, Arc::new(Metrics::new()));
        Self { cache, sync }
    }
}

/// A session owned by `alpha`.
fn session() -> Session {
    let now = SystemClock.now();
    Session {
        session_id: "7b0c4a52-3f7e-4c1a-9d55-0c8f2f6e1a01".into(),
        computer: "alpha".into(),
        title: "embed the fleet cache".into(),
        project_path: Some("/home/me/src/tool".into()),
        agent: "claude".into(),
        thinking_mode: None,
        status: SessionStatus::Active,
        created_at: now,
        last_activity: now,
        last_input: None,
        last_output: None,
        rev: 1,
        stale: false,
    }
}

/// The whole demonstration; returns the session as `beta` holds it (JSON).
///
/// # Errors
///
/// When `beta` has not seen the session within [`PATIENCE`], or a peer
/// protocol does not stop in time.
pub async fn demo() -> Result<String, Box<dyn Error>> {
    let hub = MemoryHub::new();
    let tasks = TaskTracker::new();
    let cancel = CancellationToken::new();
    let alpha = Node::start(&hub, "alpha", &tasks, &cancel);
    let beta = Node::start(&hub, "beta", &tasks, &cancel);

    // A client of beta's cache watches every computer's sessions: beta
    // announces it, alpha starts pushing, beta asks alpha for a snapshot.
    let _watching = beta.cache.watch(Topic::Sessions, &ComputerFilter::All);
    let mut changes = beta.cache.subscribe();

    // alpha's own write (the daemon's local store would make it).
    alpha.cache.put_session(session());

    // Every change beta's cache applies comes out of its feed.
    let arrived = tokio::time::timeout(PATIENCE, async {
        loop {
            match changes.recv().await {
                Ok(e) if e.event == EventName::SessionStarted && &*e.computer == "alpha" => {
                    return Ok(e.data.clone());
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
    let json = match arrived {
        Ok(Ok(data)) => String::from_utf8(data.to_vec())?,
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => {
            return Err(format!("beta did not see alpha's session within {PATIENCE:?}").into());
        }
    };

    let stopped = alpha.sync.stop(Duration::from_secs(5)).await
        & beta.sync.stop(Duration::from_secs(5)).await;
    cancel.cancel();
    tasks.close();
    tasks.wait().await;
    if !stopped {
        return Err("a peer protocol did not stop within 5 s".into());
    }
    Ok(json)
}

#[allow(dead_code)] // `tests/embed.rs` includes this file for `demo` only.
#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let json = demo().await?;
    println!("beta's cache holds alpha's session: {json}");
    Ok(())
}

//! Composition: [`Daemon::build`] builds every part from the
//! configuration and opens the listeners, [`run`] waits for a signal, and
//! [`Daemon::shutdown`] stops in order (stop accepting, tell peers, close
//! WebSocket clients, drain requests, stop background tasks, flush the
//! store, remove the socket), bounded in time.

use crate::config::Config;
use crate::forwarding::{FromPeers, ToOwners};
use crate::health::{Health, LinkWatch};
use crate::identity;
use crate::listeners;
use crate::refresh::Refresh;
use crate::stats;
use crate::systemd::{self, Systemd};
use crate::writes::LocalWrites;
use anyhow::Context;
use api_rest::{Api, ApiParts, Upgrader};
use api_ws::{WsConfig, WsService};
use cache_core::{CacheConfig, DaemonCache};
use local_store::{PreparationWatcher, ProjectsConfig, SessionStore, Skips};
use model::{Clock, Metrics, PeerTransport, PreparationUpdate, SystemClock};
use peer_sync::{PeerSync, PeerSyncConfig};
use peer_transport_redis::{RedisConfig, RedisTransport};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long an ordered shutdown may take before the daemon gives up.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// How long the peer protocol and the WebSocket clients each get to stop.
const PART_STOP_DEADLINE: Duration = Duration::from_secs(3);

/// How often freshness rules are applied.
const SWEEP_PERIOD: Duration = Duration::from_millis(500);

/// Runs the daemon until SIGINT or SIGTERM.
///
/// # Errors
/// A start-up failure (store, listeners) or a shutdown past its deadline.
pub async fn run(config: Config, metrics: Arc<Metrics>) -> anyhow::Result<()> {
    let stop = stop_signal();
    let daemon = Daemon::build(config, metrics).await?;
    stop.await;
    tracing::info!("stopping");
    daemon.shutdown().await
}

/// Everything a running daemon owns, in the order [`Daemon::shutdown`]
/// stops it.
pub struct Daemon {
    /// Stops the listeners accepting.
    accept_cancel: CancellationToken,
    /// The listeners' tasks, which drain their requests.
    servers: TaskTracker,
    /// The peer protocol and its transport, with `--redis`.
    peers: Option<(PeerSync, Arc<RedisTransport>)>,
    /// The WebSocket API, whose clients are closed (1001).
    ws: WsService,
    /// Stops the background tasks (sweeper, stats, preparation, refreshes).
    cancel: CancellationToken,
    /// The background tasks.
    tasks: TaskTracker,
    /// The project watcher.
    watcher: PreparationWatcher,
    /// The local write path, whose store is flushed last.
    writes: Arc<LocalWrites>,
    /// The Unix socket, removed at the end unless systemd passed it.
    socket: PathBuf,
    /// Whether fleetd bound the socket itself (not socket activation), so
    /// removes its file at the end.
    socket_ours: bool,
    /// The service manager, told of readiness and of the stop.
    systemd: Systemd,
}

impl Daemon {
    /// Builds every part, in dependency order, and opens the listeners:
    /// the cache; the session store, loaded into the cache; the project
    /// watcher, written through to the cache; the background tasks; the
    /// peer protocol; the REST and WebSocket APIs.
    ///
    /// # Errors
    /// The store, the project watcher, the Redis URL or a listener cannot
    /// be used.
    pub async fn build(config: Config, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let me =
            identity::local_computer(&config.computer, config.allow_remote_writes, clock.as_ref());
        let boot_id = me.boot_id.clone();
        let cache =
            DaemonCache::with_metrics(me, CacheConfig::default(), clock.clone(), metrics.clone());
        let skips = Skips::counted_in(metrics.clone());

        let (store, session_count) = load_sessions(&config, &cache, clock, &skips)?;
        let writes = Arc::new(LocalWrites::new(store, cache.clone()));

        let tasks = TaskTracker::new();
        let cancel = CancellationToken::new();
        let projects = Arc::new(ProjectsConfig {
            projects: config.projects.clone(),
            roots: config.projects_roots.clone(),
            skips,
        });
        let watcher = watch_preparation(&config, &cache, &projects, &tasks, &cancel)?;
        tasks.spawn(
            cache
                .clone()
                .run_sweeper(SWEEP_PERIOD, cancel.child_token()),
        );
        tasks.spawn(stats::run(
            cache.clone(),
            config.data_dir.clone(),
            cancel.child_token(),
        ));

        let peers = start_peers(&config, &cache, &metrics, &writes)?;
        let refresher = Arc::new(Refresh::new(
            cache.clone(),
            projects,
            peers.as_ref().map(|(sync, _)| sync.refresher()),
            tasks.clone(),
        ));
        let ws = WsService::new(
            cache.clone(),
            WsConfig::default(),
            refresher.clone(),
            metrics.clone(),
            CancellationToken::new(),
        );
        let listener_count = 1 + usize::from(config.http.is_some());
        let api = Api::with_config(
            ApiParts {
                cache: cache.clone(),
                sessions: writes.clone(),
                remote: peers.as_ref().map(|(sync, _)| {
                    Arc::new(ToOwners {
                        forwarder: sync.forwarder(),
                        cache: cache.clone(),
                    }) as Arc<dyn api_rest::RemoteSessions>
                }),
                refresher,
                upgrader: Some(Arc::new(WsUpgrader(ws.clone()))),
                health: Arc::new(Health(peers.as_ref().map(|(_, t)| LinkWatch {
                    link: t.link(),
                    failure: t.link_failure(),
                }))),
                metrics,
                version: model::VERSION.to_owned(),
            },
            listeners::rest_config(listener_count),
        );
        let (servers, accept_cancel, socket_ours) = open_listeners(&config, api).await?;

        tracing::info!(
            computer = %config.computer,
            socket = %config.socket.display(),
            redis = config.redis.is_some(),
            remote_writes = config.allow_remote_writes,
            boot_id = %boot_id,
            sessions = session_count,
            "fleetd ready"
        );
        let systemd = Systemd::ready(
            &tasks,
            cancel.child_token(),
            &format!(
                "serving {} as {}, {session_count} sessions",
                config.socket.display(),
                config.computer
            ),
        );
        Ok(Self {
            accept_cancel,
            servers,
            peers,
            ws,
            cancel,
            tasks,
            watcher,
            writes,
            socket: config.socket,
            socket_ours,
            systemd,
        })
    }

    /// Stops in order, within [`SHUTDOWN_DEADLINE`]: stop accepting, tell
    /// peers (`leave`), close WebSocket clients, drain requests, stop the
    /// background tasks and the watcher, flush the store, remove the
    /// socket.
    ///
    /// # Errors
    /// Requests or background tasks still running at the deadline.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.systemd.stopping();
        let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
        self.accept_cancel.cancel();
        if let Some((sync, transport)) = self.peers {
            if !sync.stop(PART_STOP_DEADLINE).await {
                tracing::warn!("peer protocol did not stop in time");
            }
            transport.shutdown().await;
        }
        let cut = self.ws.shutdown(PART_STOP_DEADLINE).await;
        let drained = tokio::time::timeout_at(deadline, self.servers.wait())
            .await
            .is_ok();
        self.cancel.cancel();
        self.watcher.stop().await;
        self.tasks.close();
        let tasks_done = tokio::time::timeout_at(deadline, self.tasks.wait())
            .await
            .is_ok();
        if let Err(e) = self.writes.store().flush().await {
            tracing::error!(error = %e, "flushing the session store failed");
        }
        if self.socket_ours {
            listeners::remove_socket(&self.socket);
        }
        if !drained || !tasks_done || cut > 0 {
            tracing::warn!(drained, tasks_done, ws_cut = cut, "shutdown was not clean");
        }
        if !drained || !tasks_done {
            anyhow::bail!("shutdown passed its {SHUTDOWN_DEADLINE:?} deadline");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Opens the session store and writes its sessions into the cache; returns
/// the store and how many sessions it held.
fn load_sessions(
    config: &Config,
    cache: &DaemonCache,
    clock: Arc<dyn Clock>,
    skips: &Skips,
) -> anyhow::Result<(SessionStore, usize)> {
    let db_path = config.data_dir.join("sessions.db");
    let store = SessionStore::open(&db_path, &config.computer, clock).with_context(|| {
        format!(
            "--data-dir {}: opening the session store",
            config.data_dir.display()
        )
    })?;
    let loaded = store
        .list_counted(skips)
        .context("reading the session store")?;
    let count = loaded.len();
    for s in loaded {
        cache.put_session(s);
    }
    Ok((store, count))
}

/// Starts the project watcher, writes what it found at start into the
/// cache, and follows its changes on `tasks`.
fn watch_preparation(
    config: &Config,
    cache: &DaemonCache,
    projects: &ProjectsConfig,
    tasks: &TaskTracker,
    cancel: &CancellationToken,
) -> anyhow::Result<PreparationWatcher> {
    let (tx, rx) = mpsc::channel(64);
    let watcher = PreparationWatcher::start(
        config.computer.clone(),
        projects.clone(),
        tx,
        cancel.child_token(),
    )
    .context("watching project directories")?;
    cache.write_preparation(
        cache.local_name(),
        PreparationUpdate::all(watcher.initial()),
    );
    tasks.spawn(cache.clone().follow_local_preparation(rx));
    Ok(watcher)
}

/// Opens the Unix socket (or takes the one systemd passed) and, with
/// `--http`, the TCP listener, each served on a task of the returned tracker
/// until the returned token is cancelled; also says whether the socket file
/// is ours to remove.
///
/// # Errors
/// A listener cannot be opened.
async fn open_listeners(
    config: &Config,
    api: Api,
) -> anyhow::Result<(TaskTracker, CancellationToken, bool)> {
    let accept_cancel = CancellationToken::new();
    let servers = TaskTracker::new();
    let unix = systemd::unix_listener(&config.socket).await?;
    servers.spawn(api_rest::serve_unix(
        api.clone(),
        unix.listener,
        accept_cancel.clone(),
    ));
    if let Some(addr) = config.http {
        let tcp = listeners::bind_tcp(addr).await?;
        let bound = tcp.local_addr().ok();
        servers.spawn(api_rest::serve_tcp(
            api,
            tcp,
            config.token.clone(),
            accept_cancel.clone(),
        ));
        tracing::info!(addr = ?bound, token = config.token.is_some(), "TCP listener open");
    }
    servers.close();
    Ok((servers, accept_cancel, unix.ours))
}

/// Joins the fleet when `--redis` is given; forwarded writes are applied
/// through `writes` when `--allow-remote-writes` is set.
fn start_peers(
    config: &Config,
    cache: &DaemonCache,
    metrics: &Arc<Metrics>,
    writes: &Arc<LocalWrites>,
) -> anyhow::Result<Option<(PeerSync, Arc<RedisTransport>)>> {
    let Some(url) = &config.redis else {
        return Ok(None);
    };
    let transport = Arc::new(
        peer_transport_redis::connect_lazy(RedisConfig {
            tls: config.redis_tls.clone(),
            ..RedisConfig::new(url.clone())
        })
        .with_context(|| "--redis: cannot use this URL".to_owned())?,
    );
    if config.allow_remote_writes && config.secret.is_none() {
        tracing::warn!(
            reason =
                "no --secret-file: any client of this Redis can write this computer's sessions",
            "remote writes are allowed without a fleet secret"
        );
    }
    let applier = FromPeers {
        cache: cache.clone(),
        writes: writes.clone(),
    };
    let sync = PeerSync::start_with_writes(
        PeerSyncConfig {
            namespace: config.namespace.clone(),
            heartbeat: config.heartbeat,
            secret: config.secret.clone(),
            allow_remote_writes: config.allow_remote_writes,
            ..PeerSyncConfig::default()
        },
        cache.clone(),
        transport.clone() as Arc<dyn PeerTransport>,
        metrics.clone(),
        Some(Arc::new(applier)),
    );
    Ok(Some((sync, transport)))
}

struct WsUpgrader(WsService);

impl Upgrader for WsUpgrader {
    fn upgrade(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
        self.0.upgrade(req)
    }
}

/// Listens for SIGTERM and SIGINT from now on (before the listeners serve,
/// so that a stop asked right after readiness is a clean one), and returns
/// the future that completes at the first of them.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &'static str| match signal(kind) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, signal = name, "cannot listen for a stop signal");
            None
        }
    };
    let term = listen(SignalKind::terminate(), "SIGTERM");
    let int = listen(SignalKind::interrupt(), "SIGINT");
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(term) => {}
            () = wait(int) => {}
        }
    }
}

//! Composition: builds every part from the configuration, runs until a
//! signal, then stops in order (stop accepting, close WebSocket clients,
//! drain requests, flush the store, remove the socket), bounded in time.

use crate::config::Config;
use crate::forwarding::{FromPeers, ToOwners};
use crate::identity;
use crate::listeners;
use crate::refresh::Refresh;
use crate::stats;
use crate::systemd::{self, Systemd};
use crate::writes::LocalWrites;
use anyhow::Context;
use api_rest::{Api, ApiParts, HealthSource, RedisHealth, Upgrader};
use api_ws::{WsConfig, WsService};
use cache_core::{CacheConfig, DaemonCache};
use local_store::{PreparationUpdate, PreparationWatcher, ProjectsConfig, SessionStore};
use model::{Clock, Link, LinkFailure, Metrics, PeerTransport, SystemClock};
use peer_sync::{PeerSync, PeerSyncConfig};
use peer_transport_redis::{RedisConfig, RedisTransport};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long an ordered shutdown may take before the daemon gives up.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// How often freshness rules are applied.
const SWEEP_PERIOD: Duration = Duration::from_millis(500);

/// `/v1/health`'s `redis` and `redis_error` fields: `disabled` without
/// `--redis`; else `connected`, or, while the link is down, `error` when
/// the last failure needs an operator (TLS, credentials, permissions) and
/// `reconnecting` otherwise, with that failure's message.
struct Health(Option<LinkWatch>);

/// The transport's link state and its last failure.
struct LinkWatch {
    link: watch::Receiver<Link>,
    failure: watch::Receiver<Option<LinkFailure>>,
}

impl HealthSource for Health {
    fn redis_state(&self) -> &'static str {
        self.redis().state
    }

    fn redis(&self) -> RedisHealth {
        let Some(w) = &self.0 else {
            return RedisHealth {
                state: "disabled",
                error: None,
            };
        };
        if w.link.borrow().connected {
            return RedisHealth {
                state: "connected",
                error: None,
            };
        }
        let failure = w.failure.borrow().clone();
        let state = match &failure {
            Some(f) if f.cause.needs_operator() => "error",
            _ => "reconnecting",
        };
        RedisHealth {
            state,
            error: failure.map(|f| f.message()),
        }
    }
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

/// Runs the daemon until SIGINT or SIGTERM.
///
/// # Errors
/// A start-up failure (store, listeners) or a shutdown past its deadline.
pub async fn run(config: Config, metrics: Arc<Metrics>) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let me = identity::local_computer(&config.computer, config.allow_remote_writes, clock.as_ref());
    let boot_id = me.boot_id.clone();
    let cache =
        DaemonCache::with_metrics(me, CacheConfig::default(), clock.clone(), metrics.clone());

    let db_path = config.data_dir.join("sessions.db");
    let store =
        SessionStore::open(&db_path, &config.computer, clock.clone()).with_context(|| {
            format!(
                "--data-dir {}: opening the session store",
                config.data_dir.display()
            )
        })?;
    let loaded = store.list().context("reading the session store")?;
    let session_count = loaded.len();
    for s in loaded {
        cache.put_session(s);
    }

    let projects = Arc::new(ProjectsConfig {
        projects: config.projects.clone(),
        roots: config.projects_roots.clone(),
    });
    let tasks = TaskTracker::new();
    let cancel = CancellationToken::new();

    let (prep_tx, prep_rx) = mpsc::channel(64);
    let watcher = PreparationWatcher::start(
        config.computer.clone(),
        (*projects).clone(),
        prep_tx,
        cancel.child_token(),
    )
    .context("watching project directories")?;
    load_preparation(&cache, watcher.initial());
    tasks.spawn(apply_preparation(cache.clone(), prep_rx));
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
    let writes = Arc::new(LocalWrites::new(store, cache.clone()));
    let peers = start_peers(&config, &cache, &metrics, &writes)?;
    let link = peers.as_ref().map(|(_, t)| LinkWatch {
        link: t.link(),
        failure: t.link_failure(),
    });
    let refresher = Arc::new(Refresh::new(
        cache.clone(),
        projects.clone(),
        peers.as_ref().map(|(sync, _)| sync.refresher()),
        tasks.clone(),
    ));
    let ws_cancel = CancellationToken::new();
    let ws = WsService::new(
        cache.clone(),
        WsConfig::default(),
        refresher.clone(),
        metrics.clone(),
        ws_cancel.clone(),
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
            health: Arc::new(Health(link)),
            metrics: metrics.clone(),
            version: model::VERSION.to_owned(),
        },
        listeners::rest_config(listener_count),
    );

    let stop = stop_signal();
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

    stop.await;
    tracing::info!("stopping");
    systemd.stopping();

    let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
    accept_cancel.cancel();
    if let Some((sync, transport)) = peers {
        if !sync.stop(Duration::from_secs(3)).await {
            tracing::warn!("peer protocol did not stop in time");
        }
        transport.shutdown().await;
    }
    let cut = ws.shutdown(Duration::from_secs(3)).await;
    let drained = tokio::time::timeout_at(deadline, servers.wait())
        .await
        .is_ok();
    cancel.cancel();
    watcher.stop().await;
    tasks.close();
    let tasks_done = tokio::time::timeout_at(deadline, tasks.wait())
        .await
        .is_ok();
    if let Err(e) = writes.store().flush().await {
        tracing::error!(error = %e, "flushing the session store failed");
    }
    if unix.ours {
        listeners::remove_socket(&config.socket);
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

/// Writes this computer's projects and todos, as the watcher found them at
/// start, into the cache.
fn load_preparation(cache: &DaemonCache, (projects, todos): local_store::watch::PreparationState) {
    let name = cache.local_name().to_owned();
    cache.set_projects(&name, projects);
    for (path, list) in todos {
        cache.set_todos(&name, &path, list);
    }
}

/// Writes what the project watcher reports through to the cache.
async fn apply_preparation(cache: DaemonCache, mut rx: mpsc::Receiver<PreparationUpdate>) {
    let name = cache.local_name().to_owned();
    while let Some(update) = rx.recv().await {
        match update {
            PreparationUpdate::Projects(list) => {
                cache.set_projects(&name, list);
            }
            PreparationUpdate::Todos {
                project_path,
                todos,
            } => {
                cache.set_todos(&name, &project_path, todos);
            }
        }
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

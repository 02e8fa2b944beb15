//! Owned fred clients. [`ClientFactory`] builds every client of a
//! transport from the same settings, starts it (waiting for the first
//! connection or not) and spawns, on the transport's `TaskTracker`, the one
//! task that owns the client's connection task: it feeds fred's error and
//! reconnect events into the [`LinkHub`], restarts the connection task if it
//! ever ends by itself, and on stop sends `QUIT` and ends it. Each failure
//! is classified (`cause.rs`, with `probe.rs` behind TLS URLs) before it
//! reaches the hub, which logs it once per cause.
//!
//! In a cluster, every node any client connected to is remembered
//! ([`KnownNodes`]) and handed to the clients built later, so that a new
//! client still finds the cluster when the node named in the URL is gone.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use fred::clients::Client;
use fred::error::{Error as FredError, ErrorKind};
use fred::interfaces::{ClientLike, EventInterface};
use fred::types::ConnectHandle;
use fred::types::config::{Blocking, Server, ServerConfig};
use futures_util::FutureExt;
use parking_lot::Mutex;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, error, warn};

use model::{LinkCause, LinkFailure};

use crate::cause::classify;
use crate::config::FredSettings;
use crate::error::Error;
use crate::link::{ClientId, LinkHub};
use crate::probe::speaks_plain_resp;

/// How often a watcher compares fred's own state with the hub's, to repair
/// a missed or reordered event (a difference must persist two periods).
const RECONCILE_PERIOD: Duration = Duration::from_secs(1);

/// How long a stopping client waits for its connection task after `QUIT`.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// A fred client whose connection is owned by a watcher task; cancelling
/// `stop` quits it.
#[derive(Clone)]
pub(crate) struct OwnedClient {
    pub(crate) client: Client,
    pub(crate) id: ClientId,
    pub(crate) hub: Arc<LinkHub>,
    pub(crate) stop: CancellationToken,
}

impl OwnedClient {
    /// Marks the client down and makes fred drop and re-create its
    /// connections (used when a command timed out on a connection that
    /// fred still believes healthy: a half-open socket).
    pub(crate) async fn force_reconnect(&self) {
        self.hub.failed(
            self.id,
            LinkFailure::new(
                LinkCause::TimedOut,
                "a command got no answer in time; reconnecting",
            ),
        );
        if let Err(e) = self.client.force_reconnection().await {
            warn!(error = %e, "redis forced reconnection failed");
        }
    }
}

/// Aborts fred's connection task when its owner goes away without a clean
/// stop (e.g. the runtime shuts down).
struct AbortOnDrop(ConnectHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The cluster nodes the clients of one transport have connected to.
pub(crate) type KnownNodes = Arc<Mutex<BTreeSet<Server>>>;

/// How a client uses its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// Ordinary commands; a blocked command makes the next one wait.
    Commands,
    /// One blocking read at a time: a new command interrupts a blocked one
    /// (`CLIENT UNBLOCK`), so that a read abandoned by its caller does not
    /// hold the connection until its `BLOCK` ends.
    InterruptibleReads,
}

/// Builds, starts and watches the clients of one transport.
pub(crate) struct ClientFactory {
    settings: FredSettings,
    url: String,
    connect_timeout: Duration,
    quit_timeout: Duration,
    restart_delay: Duration,
    hub: Arc<LinkHub>,
    tracker: TaskTracker,
    /// Behind a TLS URL, the server a plain-text probe may ask.
    probe: Option<(String, u16)>,
    /// In a cluster, the nodes seen so far (`None` otherwise).
    known: Option<KnownNodes>,
}

impl ClientFactory {
    /// `url` is the redacted URL, for errors.
    pub(crate) fn new(
        settings: FredSettings,
        url: String,
        connect_timeout: Duration,
        restart_delay: Duration,
        hub: Arc<LinkHub>,
        tracker: TaskTracker,
    ) -> Self {
        let quit_timeout = Duration::from_secs(2).min(settings.performance.default_command_timeout);
        let probe = settings.probe_target();
        let known = settings
            .config
            .server
            .is_clustered()
            .then(|| Arc::new(Mutex::new(BTreeSet::new())));
        Self {
            settings,
            url,
            connect_timeout,
            quit_timeout,
            restart_delay,
            hub,
            tracker,
            probe,
            known,
        }
    }

    /// The tracker that owns every watcher.
    pub(crate) fn tracker(&self) -> &TaskTracker {
        &self.tracker
    }

    /// A new, unconnected client with the transport's settings (what
    /// `Client::clone_new` does, with `fail_fast` and the blocking policy
    /// chosen per use). A cluster client also knows every node seen so far.
    fn build(&self, fail_fast: bool, usage: Use) -> Client {
        let mut config = self.settings.config.clone();
        config.fail_fast = fail_fast;
        if usage == Use::InterruptibleReads {
            config.blocking = Blocking::Interrupt;
        }
        if let (ServerConfig::Clustered { hosts, .. }, Some(known)) =
            (&mut config.server, &self.known)
        {
            for server in known.lock().iter() {
                if !hosts.contains(server) {
                    hosts.push(server.clone());
                }
            }
        }
        Client::new(
            config,
            Some(self.settings.performance.clone()),
            Some(self.settings.connection.clone()),
            Some(self.settings.policy.clone()),
        )
    }

    /// Starts a client and waits up to the connect timeout for its first
    /// connection. Later losses are retried forever.
    pub(crate) async fn start_connected(
        &self,
        role: String,
        stop: CancellationToken,
        usage: Use,
    ) -> Result<OwnedClient, Error> {
        // fail_fast: a refused first connection is reported at once instead
        // of being retried until the timeout.
        let client = self.build(true, usage);
        let events = Events::subscribe(&client);
        let mut conn = AbortOnDrop(client.connect());
        let first = tokio::select! {
            r = client.wait_for_connect() => r,
            r = &mut conn.0 => Err(match r {
                Ok(Err(e)) => e,
                Ok(Ok(())) => FredError::new(ErrorKind::Unknown, "connection task ended before connecting"),
                Err(e) => FredError::new(ErrorKind::Unknown, format!("connection task failed: {e}")),
            }),
            () = tokio::time::sleep(self.connect_timeout) => {
                return Err(Error::ConnectTimeout { url: self.url.clone(), timeout: self.connect_timeout });
            }
        };
        if let Err(source) = first {
            // `conn` is dropped here, which aborts whatever is left of it.
            return Err(Error::Connect {
                url: self.url.clone(),
                source,
            });
        }
        let id = self.hub.register();
        self.hub.up(id);
        Ok(self.watch(role, client, conn, events, id, stop))
    }

    /// Starts a client that connects in the background, retrying with the
    /// reconnect policy until it succeeds.
    pub(crate) fn start_background(&self, role: String, stop: CancellationToken) -> OwnedClient {
        let client = self.build(false, Use::Commands);
        let events = Events::subscribe(&client);
        let conn = AbortOnDrop(client.connect());
        let id = self.hub.register();
        self.watch(role, client, conn, events, id, stop)
    }

    fn watch(
        &self,
        role: String,
        client: Client,
        conn: AbortOnDrop,
        events: Events,
        id: ClientId,
        stop: CancellationToken,
    ) -> OwnedClient {
        let owned = OwnedClient {
            client,
            id,
            hub: self.hub.clone(),
            stop,
        };
        let watcher = Watcher {
            owned: owned.clone(),
            conn,
            events,
            quit_timeout: self.quit_timeout,
            restart_delay: self.restart_delay,
            diagnosis: Diagnosis::new(self.probe.clone()),
            known: self.known.clone(),
        };
        let hub = self.hub.clone();
        let span = tracing::info_span!("redis_client", role = %role);
        self.tracker.spawn(
            async move {
                if AssertUnwindSafe(watcher.run())
                    .catch_unwind()
                    .await
                    .is_err()
                {
                    error!("redis client watcher panicked; the link shows it as down");
                    hub.down(id);
                }
            }
            .instrument(span),
        );
        owned
    }
}

/// fred's connection events for one client, subscribed before it connects
/// so that the first connection is seen too.
struct Events {
    errors: broadcast::Receiver<(FredError, Option<Server>)>,
    reconnects: broadcast::Receiver<Server>,
}

impl Events {
    fn subscribe(client: &Client) -> Self {
        Self {
            errors: client.error_rx(),
            reconnects: client.reconnect_rx(),
        }
    }
}

/// The task that owns one client's connection.
struct Watcher {
    owned: OwnedClient,
    conn: AbortOnDrop,
    events: Events,
    quit_timeout: Duration,
    restart_delay: Duration,
    diagnosis: Diagnosis,
    known: Option<KnownNodes>,
}

/// Turns fred's errors into causes, asking the plain-text probe when a TLS
/// handshake times out or is cut (at most once per distinct error kind in
/// an outage: retries reuse the answer).
struct Diagnosis {
    probe: Option<(String, u16)>,
    last: Option<(LinkCause, LinkCause)>,
}

impl Diagnosis {
    fn new(probe: Option<(String, u16)>) -> Self {
        Self { probe, last: None }
    }

    async fn failure(&mut self, e: &FredError) -> LinkFailure {
        let mut failure = classify(e);
        let Some((host, port)) = &self.probe else {
            return failure;
        };
        if !matches!(failure.cause, LinkCause::TimedOut | LinkCause::Lost) {
            return failure;
        }
        let diagnosed = match self.last {
            Some((raw, diagnosed)) if raw == failure.cause => diagnosed,
            _ => {
                let diagnosed = if speaks_plain_resp(host, *port).await {
                    LinkCause::NotTls
                } else {
                    failure.cause
                };
                self.last = Some((failure.cause, diagnosed));
                diagnosed
            }
        };
        if diagnosed == LinkCause::NotTls {
            failure = LinkFailure::new(
                LinkCause::NotTls,
                format!(
                    "{host}:{port} answers plain-text Redis commands; use redis:// or its TLS port ({e})"
                ),
            );
        }
        failure
    }

    /// Forgets earlier answers (after a reconnect).
    fn reset(&mut self) {
        self.last = None;
    }
}

impl Watcher {
    async fn run(mut self) {
        let OwnedClient {
            client,
            id,
            hub,
            stop,
        } = self.owned.clone();
        let mut tick = tokio::time::interval(RECONCILE_PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut mismatch_seen = false;
        let (mut errors_open, mut reconnects_open) = (true, true);
        let mut conn_running = true;
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                r = &mut self.conn.0 => {
                    match r {
                        Ok(Ok(())) => error!("redis connection task ended by itself; restarting it"),
                        Ok(Err(e)) => {
                            error!(error = %e, "redis connection task failed; restarting it");
                            let failure = self.diagnosis.failure(&e).await;
                            hub.failed(id, failure);
                        }
                        Err(e) => error!(error = %e, "redis connection task died; restarting it"),
                    }
                    hub.down(id);
                    tokio::select! {
                        () = stop.cancelled() => {
                            conn_running = false;
                            break;
                        }
                        () = tokio::time::sleep(self.restart_delay) => {}
                    }
                    self.conn = AbortOnDrop(client.connect());
                }
                r = self.events.errors.recv(), if errors_open => match r {
                    Ok((e, server)) => {
                        let server = server.map(|s| s.to_string()).unwrap_or_default();
                        let failure = self.diagnosis.failure(&e).await;
                        // The hub warns once per cause; each retry is at debug.
                        if !hub.failed(id, failure) {
                            debug!(error = %e, server, "redis still unreachable");
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        debug!(missed = n, "redis error events lagged");
                        if !client.is_connected() {
                            hub.down(id);
                        }
                    }
                    Err(RecvError::Closed) => errors_open = false,
                },
                r = self.events.reconnects.recv(), if reconnects_open => match r {
                    Ok(server) => {
                        self.diagnosis.reset();
                        if let Some(known) = &self.known {
                            known.lock().insert(server.clone());
                        }
                        // The hub logs the link's recovery once.
                        let reconnect = hub.up(id);
                        debug!(server = %server, reconnect, "redis client connected");
                    }
                    Err(RecvError::Lagged(n)) => {
                        debug!(missed = n, "redis reconnect events lagged");
                        if client.is_connected() {
                            hub.up(id);
                        }
                    }
                    Err(RecvError::Closed) => reconnects_open = false,
                },
                _ = tick.tick() => {
                    let fred_up = client.is_connected();
                    if fred_up == hub.is_up(id) {
                        mismatch_seen = false;
                    } else if mismatch_seen {
                        debug!(connected = fred_up, "redis link state repaired from the client state");
                        if fred_up {
                            hub.up(id);
                        } else {
                            hub.down(id);
                        }
                        mismatch_seen = false;
                    } else {
                        mismatch_seen = true;
                    }
                }
            }
        }
        // Forgotten at once: a reader being closed must not show the link
        // as down, and events from now on concern nobody.
        hub.remove(id);
        if conn_running {
            match tokio::time::timeout(self.quit_timeout, client.quit()).await {
                Ok(Ok(())) => debug!("redis client quit"),
                Ok(Err(e)) => debug!(error = %e, "redis QUIT failed; closing anyway"),
                Err(_) => debug!("redis QUIT timed out; closing anyway"),
            }
            if tokio::time::timeout(CLOSE_WAIT, &mut self.conn.0)
                .await
                .is_err()
            {
                debug!("redis connection task still running after QUIT; aborting it");
            }
        }
        // Dropping `self.conn` aborts the connection task if it is still there.
    }
}

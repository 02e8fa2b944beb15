//! [`RedisTransport`]: the [`PeerTransport`] on Redis Streams, built by
//! [`connect`] (waits for Redis, bounded) or [`connect_lazy`] (starts at once
//! and connects in the background).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use fred::interfaces::StreamsInterface;
use fred::types::Value;
use model::{
    AliveBeat, AliveSet, Field, Link, LinkFailure, PeerTransport, StreamCounts, StreamId,
    StreamReader, TransportError,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::client::{ClientFactory, OwnedClient, Use};
use crate::cluster_reader::ClusterReader;
use crate::config::RedisConfig;
use crate::error::{Error, bad_reply, transport_error};
use crate::link::LinkHub;
use crate::liveness;
use crate::reader::RedisReader;
use crate::reply;

/// How long [`RedisTransport::shutdown`] waits for its clients to close.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// The Redis Streams [`PeerTransport`].
///
/// Owns a main fred client (appends and bounds), one client per
/// [`reader`](PeerTransport::reader), and the tasks that watch them. Stop it
/// with [`shutdown`](Self::shutdown); dropping it stops them too, without
/// waiting.
pub struct RedisTransport {
    main: OwnedClient,
    factory: Arc<ClientFactory>,
    hub: Arc<LinkHub>,
    root: CancellationToken,
    block: Duration,
    clustered: bool,
    readers: AtomicU64,
}

/// Connects to Redis and waits (at most `cfg.connect_timeout`) for the
/// first connection. Later losses are retried forever in the background.
///
/// # Errors
/// [`Error::BadUrl`], [`Error::Tls`] or [`Error::BadConfig`] for a bad
/// setting; [`Error::Connect`] or [`Error::ConnectTimeout`] when Redis can't
/// be reached now (use [`connect_lazy`] to start anyway).
pub async fn connect(cfg: RedisConfig) -> Result<RedisTransport, Error> {
    let parts = Parts::new(&cfg)?;
    let main = parts
        .factory
        .start_connected("main".into(), parts.root.clone(), Use::Commands)
        .await?;
    info!(url = %cfg.redacted_url(), "connected to Redis");
    Ok(parts.finish(main, &cfg))
}

/// Checks the settings and returns at once; the connection is made in the
/// background and retried (exponential backoff with jitter) until it
/// succeeds, so a daemon can start while Redis is down. Until then,
/// [`PeerTransport::link`] says `connected: false` and commands wait up to
/// `command_timeout` and then fail.
///
/// # Errors
/// [`Error::BadUrl`], [`Error::Tls`] or [`Error::BadConfig`] for a bad
/// setting; [`Error::NoRuntime`] outside a Tokio runtime.
pub fn connect_lazy(cfg: RedisConfig) -> Result<RedisTransport, Error> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(Error::NoRuntime);
    }
    let parts = Parts::new(&cfg)?;
    let main = parts
        .factory
        .start_background("main".into(), parts.root.clone());
    info!(url = %cfg.redacted_url(), "connecting to Redis in the background");
    Ok(parts.finish(main, &cfg))
}

/// What both constructors build before the main client.
struct Parts {
    factory: Arc<ClientFactory>,
    hub: Arc<LinkHub>,
    root: CancellationToken,
    clustered: bool,
}

impl Parts {
    fn new(cfg: &RedisConfig) -> Result<Self, Error> {
        let settings = cfg.validate()?;
        let clustered = settings.config.server.is_clustered();
        let hub = Arc::new(LinkHub::new());
        let factory = Arc::new(ClientFactory::new(
            settings,
            cfg.redacted_url(),
            cfg.connect_timeout,
            cfg.reconnect_max_delay,
            hub.clone(),
            TaskTracker::new(),
        ));
        Ok(Self {
            factory,
            hub,
            root: CancellationToken::new(),
            clustered,
        })
    }

    fn finish(self, main: OwnedClient, cfg: &RedisConfig) -> RedisTransport {
        RedisTransport {
            main,
            factory: self.factory,
            hub: self.hub,
            root: self.root,
            block: cfg.block,
            clustered: self.clustered,
            readers: AtomicU64::new(0),
        }
    }
}

impl RedisTransport {
    /// Stops every client (`QUIT`) and every task this transport started,
    /// waiting at most [`SHUTDOWN_WAIT`]. Readers stop working too. Calling
    /// it again does nothing more.
    pub async fn shutdown(&self) {
        self.root.cancel();
        let tracker = self.factory.tracker();
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_WAIT, tracker.wait())
            .await
            .is_err()
        {
            warn!(
                remaining = tracker.len(),
                "Redis clients still closing after the shutdown deadline"
            );
        }
    }

    /// Why the link last failed, while it is down: `None` while it is up
    /// (and before any failure). Changes with every new cause; the cause
    /// says whether retries can fix it ([`model::LinkCause::needs_operator`]).
    pub fn link_failure(&self) -> watch::Receiver<Option<LinkFailure>> {
        self.hub.subscribe_failure()
    }

    fn check_open(&self) -> Result<(), TransportError> {
        if self.root.is_cancelled() {
            return Err(TransportError::Disconnected {
                reason: "the transport was shut down".into(),
            });
        }
        Ok(())
    }
}

impl Drop for RedisTransport {
    fn drop(&mut self) {
        // The watchers quit their clients on their own; nothing to wait for.
        self.root.cancel();
    }
}

/// `MAXLEN ~ max_len`.
fn cap(max_len: usize) -> (&'static str, &'static str, i64) {
    ("MAXLEN", "~", i64::try_from(max_len).unwrap_or(i64::MAX))
}

/// Field/value pairs with the values as raw bytes, shared, not copied.
fn pairs<'a>(fields: &[Field<'a>]) -> Vec<(&'a str, Value)> {
    fields
        .iter()
        .map(|(k, v)| (*k, Value::Bytes(v.clone())))
        .collect()
}

fn first_id(
    command: &'static str,
    v: Result<Value, fred::error::Error>,
) -> Result<Option<StreamId>, TransportError> {
    let v = v.map_err(|e| transport_error(command, &e))?;
    Ok(reply::entries(command, v)?.first().map(|e| e.id))
}

#[async_trait::async_trait]
impl PeerTransport for RedisTransport {
    async fn append(
        &self,
        stream: &str,
        fields: &[Field<'_>],
        max_len: usize,
    ) -> Result<StreamId, TransportError> {
        self.check_open()?;
        let id: Value = self
            .main
            .client
            .xadd(stream, false, cap(max_len), "*", pairs(fields))
            .await
            .map_err(|e| transport_error("XADD", &e))?;
        reply::stream_id("XADD", &id)
    }

    async fn append_batch(
        &self,
        stream: &str,
        entries: &[Vec<Field<'_>>],
        max_len: usize,
    ) -> Result<Vec<StreamId>, TransportError> {
        self.check_open()?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let pipeline = self.main.client.pipeline();
        for fields in entries {
            // Queues the command in memory; errors here are argument errors.
            let () = pipeline
                .xadd(stream, false, cap(max_len), "*", pairs(fields))
                .await
                .map_err(|e| transport_error("XADD", &e))?;
        }
        let results = pipeline.try_all::<Value>().await;
        if results.len() != entries.len() {
            return Err(bad_reply(
                "XADD",
                format!("{} replies to {} commands", results.len(), entries.len()),
            ));
        }
        results
            .into_iter()
            .map(|r| {
                let v = r.map_err(|e| transport_error("XADD", &e))?;
                reply::stream_id("XADD", &v)
            })
            .collect()
    }

    async fn bounds(&self, stream: &str) -> Result<Option<(StreamId, StreamId)>, TransportError> {
        self.check_open()?;
        // Both in one round trip.
        let pipeline = self.main.client.pipeline();
        let () = pipeline
            .xrange(stream, "-", "+", Some(1))
            .await
            .map_err(|e| transport_error("XRANGE", &e))?;
        let () = pipeline
            .xrevrange(stream, "+", "-", Some(1))
            .await
            .map_err(|e| transport_error("XREVRANGE", &e))?;
        let mut results = pipeline.try_all::<Value>().await.into_iter();
        let (Some(first), Some(last)) = (results.next(), results.next()) else {
            return Err(bad_reply("XRANGE", "missing replies"));
        };
        let first = first_id("XRANGE", first)?;
        let last = first_id("XREVRANGE", last)?;
        Ok(first.zip(last))
    }

    async fn counts(&self, stream: &str) -> Result<Option<StreamCounts>, TransportError> {
        self.check_open()?;
        let reply: Result<Value, _> = self.main.client.xinfo_stream(stream, false, None).await;
        let info = match reply {
            Ok(v) => v,
            // XINFO on a missing key is an error reply: the stream does not exist.
            Err(e) if e.details().to_ascii_lowercase().contains("no such key") => return Ok(None),
            Err(e) => return Err(transport_error("XINFO", &e)),
        };
        let pairs: Vec<(String, Value)> = match info {
            Value::Map(map) => map
                .inner()
                .into_iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_owned(), v)))
                .collect(),
            Value::Array(items) => items
                .chunks(2)
                .filter_map(|kv| match kv {
                    [k, v] => k.as_string().map(|k| (k, v.clone())),
                    _ => None,
                })
                .collect(),
            _ => return Err(bad_reply("XINFO", "expected a map")),
        };
        let field = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.as_u64())
        };
        // Servers before Redis 7 do not report `entries-added`: unknown.
        Ok(field("length")
            .zip(field("entries-added"))
            .map(|(length, entries_added)| StreamCounts {
                length,
                entries_added,
            }))
    }

    fn has_liveness(&self) -> bool {
        true
    }

    async fn alive_beat(
        &self,
        key: &str,
        member: &str,
        ttl: Duration,
        since_ms: u64,
    ) -> Result<AliveBeat, TransportError> {
        self.check_open()?;
        liveness::beat(&self.main.client, key, member, ttl, since_ms).await
    }

    async fn alive_members(&self, key: &str) -> Result<AliveSet, TransportError> {
        self.check_open()?;
        liveness::members(&self.main.client, key).await
    }

    async fn alive_remove(&self, key: &str, member: &str) -> Result<(), TransportError> {
        self.check_open()?;
        liveness::remove(&self.main.client, key, member).await
    }

    async fn put_record(&self, key: &str, field: &str, value: &[u8]) -> Result<(), TransportError> {
        self.check_open()?;
        liveness::put_record(&self.main.client, key, field, value).await
    }

    async fn records(&self, key: &str) -> Result<Vec<(String, Bytes)>, TransportError> {
        self.check_open()?;
        liveness::records(&self.main.client, key).await
    }

    async fn remove_record(&self, key: &str, field: &str) -> Result<(), TransportError> {
        self.check_open()?;
        liveness::remove_record(&self.main.client, key, field).await
    }

    async fn reader(&self) -> Result<Box<dyn StreamReader>, TransportError> {
        self.check_open()?;
        let n = self.readers.fetch_add(1, Ordering::Relaxed);
        if self.clustered {
            // One client per hash slot read, made on first use.
            return Ok(Box::new(ClusterReader::new(
                self.factory.clone(),
                format!("reader-{n}"),
                self.block,
                self.root.child_token(),
            )));
        }
        let owned = self
            .factory
            .start_connected(
                format!("reader-{n}"),
                self.root.child_token(),
                Use::Commands,
            )
            .await
            .map_err(|e| TransportError::Disconnected {
                reason: e.to_string(),
            })?;
        Ok(Box::new(RedisReader::new(owned, self.block)))
    }

    fn link(&self) -> watch::Receiver<Link> {
        self.hub.subscribe()
    }
}

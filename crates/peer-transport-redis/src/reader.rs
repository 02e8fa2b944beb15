//! [`RedisReader`]: blocking `XREAD`s on a connection of their own, for a
//! single Redis (plain, TLS or behind Sentinel).
//!
//! Always `XREAD COUNT n BLOCK ms STREAMS k1 k2 .. id1 id2 ..` from explicit
//! ids (never `$`), with `BLOCK` at most the configured `block` and a
//! command timeout longer than it, so that the server answers first. A nil
//! reply (nothing came) is an empty result.
//!
//! A cluster cannot serve one `XREAD` over keys of several hash slots: the
//! transport gives cluster callers a
//! [`ClusterReader`](crate::cluster_reader::ClusterReader) instead, which
//! uses [`xread`] once per slot group.

use std::time::Duration;

use fred::error::ErrorKind;
use fred::interfaces::{ClientLike, StreamsInterface};
use fred::types::Value;
use model::{StreamBatch, StreamId, StreamReader, TransportError};
use tokio_util::sync::DropGuard;
use tracing::debug;

use crate::client::OwnedClient;
use crate::error::transport_error;
use crate::reply;

/// A [`StreamReader`] with its own fred client. Dropping it closes that
/// client (its `QUIT` runs on the transport's task tracker).
pub struct RedisReader {
    owned: OwnedClient,
    max_block: Duration,
    _stop_on_drop: DropGuard,
}

impl RedisReader {
    pub(crate) fn new(owned: OwnedClient, max_block: Duration) -> Self {
        let guard = owned.stop.clone().drop_guard();
        Self {
            owned,
            max_block,
            _stop_on_drop: guard,
        }
    }
}

/// What a timed-out read says about its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnTimeout {
    /// Always a half-open connection: force a reconnect.
    Reconnect,
    /// A half-open connection only if the link did not come back since the
    /// read was sent. Otherwise fred re-sent the read after the reconnect
    /// and the outage used up its command timeout (a `BLOCK` re-sent late
    /// cannot end in time): nothing is wrong with the connection now.
    ReconnectUnlessRecovered,
}

/// One `XREAD` over streams that share a hash slot (or any streams outside
/// a cluster). `block` of zero means no `BLOCK` at all (`BLOCK 0` would
/// wait forever). Takes its arguments by value so that the future can be
/// kept across calls (`cluster_reader.rs`).
pub(crate) async fn xread(
    owned: OwnedClient,
    from: Vec<(String, StreamId)>,
    count: u64,
    block: Duration,
    on_timeout: OnTimeout,
) -> Result<Vec<StreamBatch>, TransportError> {
    let reconnects = owned.hub.reconnects();
    let (keys, ids): (Vec<String>, Vec<String>) =
        from.into_iter().map(|(k, id)| (k, id.to_string())).unzip();
    let block_ms = u64::try_from(block.as_millis()).ok().filter(|ms| *ms > 0);
    let client = &owned.client;
    match client
        .xread::<Value, _, _>(Some(count), block_ms, keys, ids)
        .await
    {
        Ok(v) => reply::xread(v),
        Err(e) => {
            if *e.kind() == ErrorKind::Timeout && client.is_connected() {
                let recovered = owned.hub.reconnects() != reconnects;
                if on_timeout == OnTimeout::ReconnectUnlessRecovered && recovered {
                    debug!("XREAD re-sent after a reconnect timed out; the connection is fine");
                } else {
                    // The server did not answer within a timeout longer than
                    // BLOCK although the socket looks fine: a half-open
                    // connection. Make fred replace it; the link counts it as
                    // a reconnect.
                    owned.force_reconnect().await;
                }
            }
            Err(transport_error("XREAD", &e))
        }
    }
}

/// `COUNT 0` is "no limit" to Redis; the contract says "at most count".
pub(crate) fn count_arg(count: usize) -> u64 {
    u64::try_from(count.max(1)).unwrap_or(u64::MAX)
}

#[async_trait::async_trait]
impl StreamReader for RedisReader {
    async fn read(
        &mut self,
        from: &[(String, StreamId)],
        count: usize,
        block: Duration,
    ) -> Result<Vec<StreamBatch>, TransportError> {
        if self.owned.stop.is_cancelled() {
            return Err(TransportError::Disconnected {
                reason: "the transport was shut down".into(),
            });
        }
        let block = block.min(self.max_block);
        if from.is_empty() {
            // Nothing to read: behave like a read that timed out, so that a
            // caller's loop does not spin.
            tokio::time::sleep(block).await;
            return Ok(Vec::new());
        }
        xread(
            self.owned.clone(),
            from.to_vec(),
            count_arg(count),
            block,
            OnTimeout::Reconnect,
        )
        .await
    }
}

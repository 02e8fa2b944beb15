//! [`RedisReader`]: blocking `XREAD`s on a connection of their own.
//!
//! Always `XREAD COUNT n BLOCK ms STREAMS k1 k2 .. id1 id2 ..` from explicit
//! ids (never `$`), with `BLOCK` at most the configured `block` and a
//! command timeout longer than it, so that the server answers first. A nil
//! reply (nothing came) is an empty result.
//!
//! In a cluster, one `XREAD` can only name keys of one hash slot. When the
//! streams of a read span several slots, the reader polls each slot's
//! streams without blocking every [`CLUSTER_POLL`] until something comes or
//! `block` has passed: up to that much latency, in cluster mode only.

use std::collections::BTreeMap;
use std::time::Duration;

use fred::error::ErrorKind;
use fred::interfaces::{ClientLike, StreamsInterface};
use fred::types::Value;
use model::{StreamBatch, StreamId, StreamReader, TransportError};
use tokio::time::Instant;
use tokio_util::sync::DropGuard;

use crate::client::OwnedClient;
use crate::error::transport_error;
use crate::reply;

/// How often a cluster read spanning several hash slots polls.
pub const CLUSTER_POLL: Duration = Duration::from_millis(50);

/// A [`StreamReader`] with its own fred client. Dropping it closes that
/// client (its `QUIT` runs on the transport's task tracker).
pub struct RedisReader {
    owned: OwnedClient,
    max_block: Duration,
    clustered: bool,
    _stop_on_drop: DropGuard,
}

impl RedisReader {
    pub(crate) fn new(owned: OwnedClient, max_block: Duration, clustered: bool) -> Self {
        let guard = owned.stop.clone().drop_guard();
        Self {
            owned,
            max_block,
            clustered,
            _stop_on_drop: guard,
        }
    }

    /// One `XREAD` over streams that share a hash slot (or any streams
    /// outside a cluster). `block` of zero means no `BLOCK` at all
    /// (`BLOCK 0` would wait forever).
    async fn xread(
        &self,
        from: &[(String, StreamId)],
        count: u64,
        block: Duration,
    ) -> Result<Vec<StreamBatch>, TransportError> {
        let keys: Vec<String> = from.iter().map(|(k, _)| k.clone()).collect();
        let ids: Vec<String> = from.iter().map(|(_, id)| id.to_string()).collect();
        let block_ms = u64::try_from(block.as_millis()).ok().filter(|ms| *ms > 0);
        let client = &self.owned.client;
        match client
            .xread::<Value, _, _>(Some(count), block_ms, keys, ids)
            .await
        {
            Ok(v) => reply::xread(v),
            Err(e) => {
                if *e.kind() == ErrorKind::Timeout && client.is_connected() {
                    // The server did not answer within a timeout longer than
                    // BLOCK although the socket looks fine: a half-open
                    // connection. Make fred replace it; the link counts it as
                    // a reconnect.
                    self.owned.force_reconnect().await;
                }
                Err(transport_error("XREAD", &e))
            }
        }
    }

    /// Reads streams of several cluster hash slots by polling each slot.
    async fn poll_slots(
        &self,
        groups: Vec<Vec<(String, StreamId)>>,
        count: u64,
        block: Duration,
    ) -> Result<Vec<StreamBatch>, TransportError> {
        let deadline = Instant::now() + block;
        loop {
            let mut out = Vec::new();
            for group in &groups {
                out.extend(self.xread(group, count, Duration::ZERO).await?);
            }
            let now = Instant::now();
            if !out.is_empty() || now >= deadline {
                return Ok(out);
            }
            tokio::time::sleep(CLUSTER_POLL.min(deadline - now)).await;
        }
    }
}

/// Groups streams by cluster hash slot, keeping their order within a slot.
fn by_slot(from: &[(String, StreamId)]) -> Vec<Vec<(String, StreamId)>> {
    let mut groups: BTreeMap<u16, Vec<(String, StreamId)>> = BTreeMap::new();
    for (key, id) in from {
        let slot = fred::util::redis_keyslot(key.as_bytes());
        groups.entry(slot).or_default().push((key.clone(), *id));
    }
    groups.into_values().collect()
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
        // COUNT 0 is "no limit" to Redis; the contract says "at most count".
        let count = u64::try_from(count.max(1)).unwrap_or(u64::MAX);
        if self.clustered {
            let groups = by_slot(from);
            if groups.len() > 1 {
                return self.poll_slots(groups, count, block).await;
            }
        }
        self.xread(from, count, block).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_tags_share_a_slot() {
        let from = vec![
            ("fleet:events:{alpha}".to_string(), StreamId::ZERO),
            ("fleet:inbox:{alpha}".to_string(), StreamId::new(1, 0)),
            ("fleet:presence".to_string(), StreamId::new(2, 0)),
        ];
        let groups = by_slot(&from);
        assert_eq!(groups.len(), 2);
        let alpha = groups
            .iter()
            .find(|g| g.len() == 2)
            .expect("the {alpha} keys are together");
        assert_eq!(alpha[0].0, "fleet:events:{alpha}");
        assert_eq!(alpha[1].0, "fleet:inbox:{alpha}");
    }
}

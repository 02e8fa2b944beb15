//! [`ClusterReader`]: blocking reads over a Redis Cluster, one blocking
//! `XREAD` per hash slot, none of them polled.
//!
//! A cluster refuses one `XREAD` over keys of several slots (`CROSSSLOT`),
//! and a blocked `XREAD` holds its connection. So the streams of a read are
//! grouped by slot (`slots.rs`) and each group gets a fred client of its
//! own (connections to the masters, and one of them blocked), on which one
//! `XREAD BLOCK` is in flight at a time. [`StreamReader::read`] waits for
//! the first group that answers and returns what every group has ready.
//!
//! A group's read stays in flight across calls: when the caller comes back
//! with positions at or after the ones the read was started from (the
//! usual case: the other groups' positions did not move), the pending read
//! is still good, and its entries at or before the new positions are
//! dropped when it answers. When a position moved backwards (e.g. a
//! re-snapshot) or the group's streams changed, the pending read is
//! abandoned and a new one sent; the group's client is set to interrupt a
//! blocked command before sending the next (`CLIENT UNBLOCK`), so the
//! abandoned read does not hold the connection until its `BLOCK` ends.
//!
//! A read that fred re-sent after a reconnect may time out although the
//! connection is fine (the outage used up its command timeout); that is
//! not taken for a half-open connection (no forced reconnect), only a
//! failed read that the caller retries.
//!
//! No task is spawned here: the pending reads are futures kept in the
//! reader, whose replies wait in fred's channels until polled. Dropping
//! the reader stops every group's client.

use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use model::{StreamBatch, StreamId, StreamReader, TransportError};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};
use tracing::debug;

use crate::client::{ClientFactory, OwnedClient, Use};
use crate::reader::{OnTimeout, count_arg, xread};
use crate::slots::by_slot;

type Read = Pin<Box<dyn Future<Output = Result<Vec<StreamBatch>, TransportError>> + Send>>;

/// A [`StreamReader`] for a Redis Cluster: one client and at most one
/// pending blocking read per hash slot of the streams it reads.
pub struct ClusterReader {
    factory: Arc<ClientFactory>,
    role: String,
    max_block: Duration,
    stop: CancellationToken,
    groups: BTreeMap<u16, Group>,
    _stop_on_drop: DropGuard,
}

/// The streams of one slot: their client and the read in flight.
struct Group {
    owned: OwnedClient,
    pending: Option<Pending>,
    _stop_on_drop: DropGuard,
}

/// A read in flight and the positions it was sent with.
struct Pending {
    from: Vec<(String, StreamId)>,
    read: Read,
}

impl ClusterReader {
    /// A reader whose clients are built by `factory` on first use, each
    /// stopped by `stop` (and all of them when the reader is dropped).
    pub(crate) fn new(
        factory: Arc<ClientFactory>,
        role: String,
        max_block: Duration,
        stop: CancellationToken,
    ) -> Self {
        let guard = stop.clone().drop_guard();
        Self {
            factory,
            role,
            max_block,
            stop,
            groups: BTreeMap::new(),
            _stop_on_drop: guard,
        }
    }

    /// Makes sure every slot in `wanted` has a client, and forgets the
    /// groups no longer read (stopping their clients).
    async fn sync_groups(
        &mut self,
        wanted: &BTreeMap<u16, Vec<(String, StreamId)>>,
    ) -> Result<(), TransportError> {
        self.groups.retain(|slot, _| wanted.contains_key(slot));
        for slot in wanted.keys() {
            if self.groups.contains_key(slot) {
                continue;
            }
            let stop = self.stop.child_token();
            let owned = self
                .factory
                .start_connected(
                    format!("{}-slot-{slot}", self.role),
                    stop.clone(),
                    Use::InterruptibleReads,
                )
                .await
                .map_err(|e| TransportError::Disconnected {
                    reason: e.to_string(),
                })?;
            self.groups.insert(
                *slot,
                Group {
                    owned,
                    pending: None,
                    _stop_on_drop: stop.drop_guard(),
                },
            );
        }
        Ok(())
    }

    /// Starts a read on every group without a usable one.
    fn start_reads(
        &mut self,
        wanted: &BTreeMap<u16, Vec<(String, StreamId)>>,
        count: u64,
        block: Duration,
    ) {
        for (slot, want) in wanted {
            let Some(group) = self.groups.get_mut(slot) else {
                continue;
            };
            if group
                .pending
                .as_ref()
                .is_some_and(|p| covers(&p.from, want))
            {
                continue;
            }
            if group.pending.is_some() {
                debug!(slot, "a position moved back: abandoning the pending read");
            }
            group.pending = Some(Pending {
                from: want.clone(),
                read: Box::pin(xread(
                    group.owned.clone(),
                    want.clone(),
                    count,
                    block,
                    OnTimeout::ReconnectUnlessRecovered,
                )),
            });
        }
    }
}

/// Whether a read sent from `sent` can answer a read from `want`: the same
/// streams, none of them ahead of the wanted position (entries up to the
/// wanted positions are dropped from its answer).
fn covers(sent: &[(String, StreamId)], want: &[(String, StreamId)]) -> bool {
    sent.len() == want.len()
        && want.iter().all(|(key, at)| {
            sent.iter()
                .find(|(k, _)| k == key)
                .is_some_and(|(_, sent_at)| sent_at <= at)
        })
}

/// The part of `batches` after the wanted positions, at most `count`
/// entries a stream; streams left empty are left out.
fn after(batches: Vec<StreamBatch>, want: &[(String, StreamId)], count: usize) -> Vec<StreamBatch> {
    batches
        .into_iter()
        .filter_map(|(stream, entries)| {
            let at = want.iter().find(|(k, _)| *k == stream)?.1;
            let entries: Vec<_> = entries
                .into_iter()
                .filter(|e| e.id > at)
                .take(count.max(1))
                .collect();
            (!entries.is_empty()).then_some((stream, entries))
        })
        .collect()
}

#[async_trait::async_trait]
impl StreamReader for ClusterReader {
    async fn read(
        &mut self,
        from: &[(String, StreamId)],
        count: usize,
        block: Duration,
    ) -> Result<Vec<StreamBatch>, TransportError> {
        if self.stop.is_cancelled() {
            return Err(TransportError::Disconnected {
                reason: "the transport was shut down".into(),
            });
        }
        let block = block.min(self.max_block);
        let deadline = Instant::now() + block;
        let wanted = by_slot(from);
        self.sync_groups(&wanted).await?;
        if wanted.is_empty() {
            // Nothing to read: behave like a read that timed out, so that a
            // caller's loop does not spin.
            tokio::time::sleep_until(deadline).await;
            return Ok(Vec::new());
        }
        let count_n = count_arg(count);
        loop {
            self.start_reads(&wanted, count_n, block);
            let groups = &mut self.groups;
            // Every group whose read has answered, taken out of `pending`.
            let answered = poll_fn(|cx| {
                let mut done = Vec::new();
                for (slot, group) in groups.iter_mut() {
                    if let Some(pending) = &mut group.pending
                        && let Poll::Ready(r) = pending.read.as_mut().poll(cx)
                    {
                        group.pending = None;
                        done.push((*slot, r));
                    }
                }
                if done.is_empty() {
                    Poll::Pending
                } else {
                    Poll::Ready(done)
                }
            });
            let answered = tokio::select! {
                done = answered => done,
                () = tokio::time::sleep_until(deadline) => return Ok(Vec::new()),
            };
            let mut out = Vec::new();
            for (slot, result) in answered {
                // An error is returned at once; what other groups answered
                // in the same round is read again when the caller retries
                // from the same ids.
                let batches = result?;
                if let Some(want) = wanted.get(&slot) {
                    out.extend(after(batches, want, count));
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
            // Only timeouts, or entries the caller already had: read again.
            if Instant::now() >= deadline {
                return Ok(Vec::new());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::StreamEntry;

    fn at(key: &str, ms: u64) -> (String, StreamId) {
        (key.to_owned(), StreamId::new(ms, 0))
    }

    fn entries(ids: &[u64]) -> Vec<StreamEntry> {
        ids.iter()
            .map(|ms| StreamEntry {
                id: StreamId::new(*ms, 0),
                fields: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn a_pending_read_covers_positions_at_or_after_its_own() {
        let sent = vec![at("a", 5), at("b", 7)];
        assert!(covers(&sent, &[at("a", 5), at("b", 7)]));
        assert!(
            covers(&sent, &[at("b", 9), at("a", 6)]),
            "forwards, any order"
        );
        assert!(
            !covers(&sent, &[at("a", 4), at("b", 7)]),
            "a position moved back"
        );
        assert!(!covers(&sent, &[at("a", 5)]), "a stream left the group");
        assert!(!covers(&sent, &[at("a", 5), at("c", 7)]), "another stream");
        assert!(!covers(&sent, &[at("a", 5), at("b", 7), at("c", 0)]));
    }

    #[test]
    fn an_answer_keeps_only_what_follows_the_wanted_positions() {
        let batches = vec![
            ("a".to_owned(), entries(&[6, 7, 8, 9])),
            ("b".to_owned(), entries(&[3])),
            ("x".to_owned(), entries(&[1])),
        ];
        let out = after(batches, &[at("a", 7), at("b", 3)], 1);
        assert_eq!(out, vec![("a".to_owned(), entries(&[8]))]);
    }
}

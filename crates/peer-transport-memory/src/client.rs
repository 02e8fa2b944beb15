//! [`MemoryTransport`]: one client's handle on a [`MemoryHub`], implementing
//! [`PeerTransport`], with its link state and the faults a test can inject
//! into it (cut, reconnect).

use crate::hub::MemoryHub;
use crate::link::ClientShared;
use crate::reader::MemoryReader;
use bytes::Bytes;
use model::{
    AliveBeat, AliveSet, Field, Link, PeerTransport, StreamCounts, StreamId, StreamReader,
    TransportError,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A client of a [`MemoryHub`], made by [`MemoryHub::connect`]: what a
/// daemon under test gets as its [`PeerTransport`].
///
/// Clones are the same client (same link, cut together). Readers made by
/// [`PeerTransport::reader`] belong to it too: cutting the client fails
/// their reads, including a read blocked at that moment.
#[derive(Debug, Clone)]
pub struct MemoryTransport {
    hub: MemoryHub,
    client: Arc<ClientShared>,
}

impl MemoryTransport {
    /// Wraps a registered client (see [`MemoryHub::connect`]).
    pub(crate) fn new(hub: MemoryHub, client: Arc<ClientShared>) -> Self {
        Self { hub, client }
    }

    /// The name this client was connected with.
    pub fn name(&self) -> &str {
        &self.client.name
    }

    /// The hub this client talks to.
    pub fn hub(&self) -> &MemoryHub {
        &self.hub
    }

    /// Whether the link is up now.
    pub fn is_connected(&self) -> bool {
        self.client.is_connected()
    }

    /// Disconnects this client: from now on every call (of this handle, its
    /// clones and its readers) returns [`TransportError::Disconnected`] at
    /// once, reads blocked now wake and return that error, and the link
    /// reads `connected: false`. Streams are untouched. Returns whether it
    /// was connected.
    pub fn cut(&self) -> bool {
        let was_up = self.client.cut();
        self.hub.wake_readers();
        was_up
    }

    /// Connects this client again and adds one to `link.reconnects`. On a
    /// client that was not cut it simulates a blip (lost and back at once):
    /// the reconnect is counted, and blocked reads carry on, as they do when
    /// a Redis client re-sends them after reconnecting.
    pub fn reconnect(&self) {
        self.client.reconnect();
    }

    /// Makes every call of this client (its clones and readers too) take
    /// `rtt` before it acts, as over a network link of that round trip;
    /// `Duration::ZERO`, the default, is a link with no delay. A blocking
    /// read also gets its entries `rtt` after they were appended at the
    /// earliest. For tests of what a slow link costs (requests sent one
    /// after another add up; sent together they do not).
    pub fn set_round_trip(&self, rtt: Duration) {
        self.client.set_round_trip(rtt);
    }
}

impl MemoryHub {
    /// A new client named `name` (usually the computer's name), connected.
    /// The name is what [`MemoryHub::cut`] and [`MemoryHub::reconnect`]
    /// address and what `Disconnected` errors mention; several clients may
    /// share a name, and then they are cut and reconnected together.
    pub fn connect(&self, name: &str) -> MemoryTransport {
        MemoryTransport::new(self.clone(), self.register(name))
    }
}

/// The form entries are stored in; values are shared, not copied.
fn owned_fields(fields: &[Field<'_>]) -> Vec<(String, Bytes)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[async_trait::async_trait]
impl PeerTransport for MemoryTransport {
    /// Appends and trims to exactly `max_len` (an outcome Redis'
    /// approximate `MAXLEN ~` allows); wakes blocked readers.
    async fn append(
        &self,
        stream: &str,
        fields: &[Field<'_>],
        max_len: usize,
    ) -> Result<StreamId, TransportError> {
        self.client.call().await?;
        let ids = self
            .hub
            .append(stream, vec![owned_fields(fields)], Some(max_len));
        ids.first().copied().ok_or(TransportError::Protocol {
            command: "XADD",
            reason: "no id returned for the entry".to_owned(),
        })
    }

    /// Appends all entries atomically (contiguous ids, one trim at the end),
    /// like a pipelined `XADD` batch that reached the server.
    async fn append_batch(
        &self,
        stream: &str,
        entries: &[Vec<Field<'_>>],
        max_len: usize,
    ) -> Result<Vec<StreamId>, TransportError> {
        self.client.call().await?;
        let owned = entries.iter().map(|e| owned_fields(e)).collect();
        Ok(self.hub.append(stream, owned, Some(max_len)))
    }

    async fn bounds(&self, stream: &str) -> Result<Option<(StreamId, StreamId)>, TransportError> {
        self.client.call().await?;
        Ok(self.hub.bounds(stream))
    }

    async fn counts(&self, stream: &str) -> Result<Option<StreamCounts>, TransportError> {
        self.client.call().await?;
        Ok(self.hub.counts(stream))
    }

    fn has_liveness(&self) -> bool {
        true
    }

    /// Atomic under the hub's lock; the clock is the id clock (tokio time).
    async fn alive_beat(
        &self,
        key: &str,
        member: &str,
        ttl: Duration,
        since_ms: u64,
    ) -> Result<AliveBeat, TransportError> {
        self.client.call().await?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        Ok(self.hub.alive_beat(key, member, ttl_ms, since_ms))
    }

    async fn alive_members(&self, key: &str) -> Result<AliveSet, TransportError> {
        self.client.call().await?;
        Ok(self.hub.alive_set(key))
    }

    async fn alive_remove(&self, key: &str, member: &str) -> Result<(), TransportError> {
        self.client.call().await?;
        self.hub.alive_remove(key, member);
        Ok(())
    }

    async fn put_record(&self, key: &str, field: &str, value: &[u8]) -> Result<(), TransportError> {
        self.client.call().await?;
        self.hub
            .put_record(key, field, Bytes::copy_from_slice(value));
        Ok(())
    }

    async fn records(&self, key: &str) -> Result<Vec<(String, Bytes)>, TransportError> {
        self.client.call().await?;
        Ok(self.hub.records(key))
    }

    async fn remove_record(&self, key: &str, field: &str) -> Result<(), TransportError> {
        self.client.call().await?;
        self.hub.remove_record(key, field);
        Ok(())
    }

    async fn reader(&self) -> Result<Box<dyn StreamReader>, TransportError> {
        self.client.check()?;
        Ok(Box::new(MemoryReader::new(
            self.hub.clone(),
            self.client.clone(),
        )))
    }

    fn link(&self) -> watch::Receiver<Link> {
        self.client.subscribe()
    }
}

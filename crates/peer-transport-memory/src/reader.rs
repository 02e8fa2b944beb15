//! [`MemoryReader`]: blocking reads (`XREAD COUNT n BLOCK ms STREAMS ...`)
//! against a [`MemoryHub`], on behalf of one client.

use crate::hub::MemoryHub;
use crate::link::ClientShared;
use model::{StreamBatch, StreamId, StreamReader, TransportError};
use std::sync::Arc;
use std::time::Duration;

/// A reader made by [`model::PeerTransport::reader`] on a
/// [`crate::MemoryTransport`]. It shares its client's link: when the client
/// is cut, its reads fail, and a read blocked at that moment wakes and fails.
#[derive(Debug)]
pub struct MemoryReader {
    hub: MemoryHub,
    client: Arc<ClientShared>,
}

impl MemoryReader {
    /// A reader for `client` on `hub`.
    pub(crate) fn new(hub: MemoryHub, client: Arc<ClientShared>) -> Self {
        Self { hub, client }
    }
}

#[async_trait::async_trait]
impl StreamReader for MemoryReader {
    /// Like `XREAD`: for each `(stream, id)`, in the order given, up to
    /// `count` entries with a greater id (`count` 0 means no limit); only
    /// streams with such entries appear. An id that was trimmed away is
    /// not an error: what remains after it is returned. When nothing is
    /// there yet, waits up to `block` in tokio time (so paused-time tests
    /// work) and returns `Ok(vec![])` on timeout; `block` zero does not wait
    /// (unlike Redis `BLOCK 0`, which waits forever).
    ///
    /// # Errors
    /// [`TransportError::Disconnected`] when the client is cut, before or
    /// during the wait; [`TransportError::Command`] when `from` is empty
    /// (Redis refuses an `XREAD` without streams).
    async fn read(
        &mut self,
        from: &[(String, StreamId)],
        count: usize,
        block: Duration,
    ) -> Result<Vec<StreamBatch>, TransportError> {
        self.client.count_call();
        if from.is_empty() {
            return Err(TransportError::Command {
                command: "XREAD",
                reason: "no streams given".to_owned(),
            });
        }
        let deadline = tokio::time::sleep(block);
        tokio::pin!(deadline);
        loop {
            // Register for wake-ups before looking, so an append or cut that
            // lands between the look and the wait still wakes us: a `Notified`
            // receives `notify_waiters` from its creation on; `enable` also
            // covers `notify_one`, should the hub ever use it.
            let changed = self.hub.changed().notified();
            tokio::pin!(changed);
            changed.as_mut().enable();

            self.client.check()?;
            let batches = self.hub.read(from, count);
            if !batches.is_empty() || block.is_zero() {
                // The answer crosses the simulated link (if one is set).
                self.client.travel().await;
                self.client.check()?;
                return Ok(batches);
            }
            tokio::select! {
                // A change wins over the deadline: re-check before giving up.
                biased;
                () = &mut changed => {}
                () = &mut deadline => return Ok(Vec::new()),
            }
        }
    }
}

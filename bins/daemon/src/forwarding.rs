//! Forwarded session writes, composed: the API's [`RemoteSessions`] port
//! over the peer protocol's [`Forwarder`] (the asker's side), and the
//! protocol's [`ApplyWrites`] over the same local write path as REST (the
//! owner's side: store commit, then cache, then the answer).

use crate::writes::LocalWrites;
use api_rest::{ForwardError, RemoteSessions};
use cache_core::DaemonCache;
use model::forwarded::{ForwardedWrite, WriteReply};
use peer_sync::{ApplyWrites, Forwarder};
use std::sync::Arc;

/// The asker's side: writes of other computers' sessions go to their owners.
pub struct ToOwners(pub Forwarder);

#[async_trait::async_trait]
impl RemoteSessions for ToOwners {
    async fn forward(
        &self,
        owner: &str,
        write: ForwardedWrite,
    ) -> Result<WriteReply, ForwardError> {
        self.0
            .forward(owner, write)
            .await
            .map_err(|e| ForwardError::Unreachable {
                owner: owner.to_owned(),
                reason: match e {
                    peer_sync::ForwardError::Offline { .. } => "it is offline".to_owned(),
                    peer_sync::ForwardError::Silent { waited, .. } => {
                        format!("it did not answer within {} s", waited.as_secs_f32())
                    }
                    other => other.to_string(),
                },
            })
    }
}

/// The owner's side: a forwarded write is applied as a local client's.
pub struct FromPeers {
    /// The cache, which says who owns a session.
    pub cache: DaemonCache,
    /// The local write path (store, then cache).
    pub writes: Arc<LocalWrites>,
}

#[async_trait::async_trait]
impl ApplyWrites for FromPeers {
    async fn apply(&self, _from: &str, write: ForwardedWrite) -> WriteReply {
        api_rest::apply_forwarded(&self.cache, self.writes.as_ref(), write).await
    }
}

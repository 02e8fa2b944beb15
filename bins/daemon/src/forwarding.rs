//! Forwarded session writes, composed: the API's [`RemoteSessions`] port
//! over the peer protocol's [`Forwarder`] (the asker's side), and the
//! protocol's [`ApplyWrites`] over the same local write path as REST (the
//! owner's side: store commit, then cache, then the answer).

use crate::writes::LocalWrites;
use api_rest::{ForwardError, RemoteSessions};
use cache_core::DaemonCache;
use model::forwarded::{ForwardedWrite, WriteReply};
use model::{ComputerFilter, Topic};
use peer_sync::{ApplyWrites, Forwarder};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How long a session the cache does not hold is looked for in the fleet.
const LOCATE_TIMEOUT: Duration = Duration::from_secs(3);

/// The asker's side: writes of other computers' sessions go to their owners.
pub struct ToOwners {
    /// The peer protocol's asker.
    pub forwarder: Forwarder,
    /// The cache, watched while a session is looked up.
    pub cache: DaemonCache,
}

#[async_trait::async_trait]
impl RemoteSessions for ToOwners {
    /// Watches every computer's sessions (as a WebSocket client would, so
    /// the online peers send snapshots) until the session shows up in the
    /// cache, for at most the forward timeout (3 s); waits on the cache's
    /// change feed, never polling. With no peer online there is nowhere
    /// to look.
    async fn locate(&self, session_id: &str) -> Option<String> {
        if self.cache.online_peers() == 0 {
            return None;
        }
        let mut feed = self.cache.subscribe();
        let _watching = self.cache.watch(Topic::Sessions, &ComputerFilter::All);
        let deadline = tokio::time::Instant::now() + LOCATE_TIMEOUT;
        loop {
            if let Some(r) = self.cache.session(session_id) {
                return Some(r.computer.to_string());
            }
            match tokio::time::timeout_at(deadline, feed.recv()).await {
                Err(_) | Ok(Err(RecvError::Closed)) => {
                    tracing::debug!(
                        session_id,
                        ?LOCATE_TIMEOUT,
                        "session not found in the fleet"
                    );
                    return None;
                }
                Ok(Ok(_) | Err(RecvError::Lagged(_))) => {}
            }
        }
    }

    async fn forward(
        &self,
        owner: &str,
        write: ForwardedWrite,
    ) -> Result<WriteReply, ForwardError> {
        self.forwarder
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

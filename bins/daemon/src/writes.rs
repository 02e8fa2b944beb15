//! Session writes: committed to the local store first (durable before the
//! answer), then written through to the cache, which publishes the change.
//! One write at a time goes through both, so the cache sees every `rev` in
//! the order the store made them: concurrent writes of one session are each
//! published, none dropped as outdated.

use api_rest::{LocalSessions, WriteError};
use cache_core::DaemonCache;
use local_store::SessionStore;
use model::{NewSession, Session, SessionPatch};

/// The local store and the cache, written in that order.
pub struct LocalWrites {
    store: SessionStore,
    cache: DaemonCache,
    /// Held across the store commit and the cache update.
    order: tokio::sync::Mutex<()>,
}

impl LocalWrites {
    /// Writes go to `store`, then `cache`.
    pub fn new(store: SessionStore, cache: DaemonCache) -> Self {
        Self {
            store,
            cache,
            order: tokio::sync::Mutex::new(()),
        }
    }

    /// The store, for flushing at shutdown.
    pub fn store(&self) -> &SessionStore {
        &self.store
    }
}

fn map_err(e: local_store::Error) -> WriteError {
    match e {
        local_store::Error::NotFound { session_id } => WriteError::NotFound { session_id },
        local_store::Error::Invalid(e) => WriteError::Invalid(e),
        other => {
            tracing::error!(error = %other, "session store write failed");
            WriteError::Unavailable {
                reason: other.to_string(),
            }
        }
    }
}

#[async_trait::async_trait]
impl LocalSessions for LocalWrites {
    async fn create(&self, req: NewSession) -> Result<Session, WriteError> {
        let _order = self.order.lock().await;
        let session = self.store.create(req).await.map_err(map_err)?;
        self.cache.put_session(session.clone());
        Ok(session)
    }

    async fn update(&self, id: &str, patch: SessionPatch) -> Result<Session, WriteError> {
        let _order = self.order.lock().await;
        let session = self.store.update(id, patch).await.map_err(map_err)?;
        self.cache.put_session(session.clone());
        Ok(session)
    }

    async fn end(&self, id: &str) -> Result<(), WriteError> {
        let _order = self.order.lock().await;
        let session = self.store.end(id).await.map_err(map_err)?;
        self.cache
            .close_session(&session.computer, &session.session_id, session.rev);
        Ok(())
    }
}

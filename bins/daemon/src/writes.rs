//! Session writes: committed to the local store first (durable before the
//! answer), then written through to the cache, which publishes the change.
//! The cache is written from the store's commit hook, inside the store's
//! critical section, so it sees every `rev` in the order the store made
//! them: concurrent writes of one session are each published, none dropped
//! as outdated, and no lock is held across the thread hops of a write.

use api_rest::{LocalSessions, WriteError};
use cache_core::DaemonCache;
use local_store::SessionStore;
use model::{NewSession, Session, SessionPatch, SessionStatus};
use std::sync::Arc;

/// The local store and the cache, written in that order.
pub struct LocalWrites {
    store: SessionStore,
}

impl LocalWrites {
    /// Writes go to `store`, then `cache`.
    pub fn new(store: SessionStore, cache: DaemonCache) -> Self {
        let through = cache;
        let hooked = store.set_commit_hook(Arc::new(move |s: &Session| {
            if s.status == SessionStatus::Closed {
                through.close_session(&s.computer, &s.session_id, s.rev);
            } else {
                through.put_session(s.clone());
            }
        }));
        if !hooked {
            tracing::error!(
                "the session store had a commit hook already: the cache may miss writes"
            );
        }
        Self { store }
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
        self.store.create(req).await.map_err(map_err)
    }

    async fn update(&self, id: &str, patch: SessionPatch) -> Result<Session, WriteError> {
        self.store.update(id, patch).await.map_err(map_err)
    }

    async fn end(&self, id: &str) -> Result<(), WriteError> {
        self.store.end(id).await.map_err(map_err).map(|_| ())
    }
}

//! Session writes: committed to the local store first (durable before the
//! answer), then written through to the cache, which publishes the change.
//! The cache is written from the store's commit hook, inside the store's
//! critical section, so it sees every `rev` in the order the store made
//! them: concurrent writes of one session are each published, none dropped
//! as outdated, and no lock is held across the thread hops of a write.
//!
//! A write the disk refuses (full: 507 `storage_full`; read-only: 503
//! `storage_unavailable`) is rolled back by the store and never reaches the
//! cache. Such failures are logged once when they start and once when a
//! write succeeds again, not once per refused request.

use api_rest::{LocalSessions, WriteError};
use cache_core::DaemonCache;
use local_store::SessionStore;
use model::{NewSession, Session, SessionPatch, SessionStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The local store and the cache, written in that order.
pub struct LocalWrites {
    store: SessionStore,
    /// Whether the last write failed because the disk refused it.
    refused_by_disk: AtomicBool,
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
        Self {
            store,
            refused_by_disk: AtomicBool::new(false),
        }
    }

    /// The store, for flushing at shutdown.
    pub fn store(&self) -> &SessionStore {
        &self.store
    }
}

impl LocalWrites {
    /// The answer to a write, logging a change of the disk's state.
    fn outcome<T>(&self, result: Result<T, local_store::Error>) -> Result<T, WriteError> {
        match result {
            Ok(v) => {
                if self.refused_by_disk.swap(false, Ordering::Relaxed) {
                    tracing::info!("session store writes work again");
                }
                Ok(v)
            }
            Err(e) => Err(self.refused(e)),
        }
    }

    fn refused(&self, e: local_store::Error) -> WriteError {
        use local_store::Error as E;
        match e {
            E::NotFound { session_id } => WriteError::NotFound { session_id },
            E::Invalid(e) => WriteError::Invalid(e),
            E::StorageFull { .. } | E::ReadOnly { .. } => {
                let full = matches!(e, E::StorageFull { .. });
                let reason = e.to_string();
                if self.refused_by_disk.swap(true, Ordering::Relaxed) {
                    tracing::debug!(reason = %reason, "session write refused: the disk refuses writes");
                } else {
                    tracing::warn!(
                        error = %e,
                        reason = if full { "disk full" } else { "file system read-only" },
                        "session store cannot write: session writes are refused (nothing half written) until it can; logged once"
                    );
                }
                if full {
                    WriteError::StorageFull { reason }
                } else {
                    WriteError::StorageUnavailable { reason }
                }
            }
            other => {
                tracing::error!(error = %other, "session store write failed");
                WriteError::Unavailable {
                    reason: other.to_string(),
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl LocalSessions for LocalWrites {
    async fn create(&self, req: NewSession) -> Result<Session, WriteError> {
        self.outcome(self.store.create(req).await)
    }

    async fn update(&self, id: &str, patch: SessionPatch) -> Result<Session, WriteError> {
        self.outcome(self.store.update(id, patch).await)
    }

    async fn end(&self, id: &str) -> Result<(), WriteError> {
        self.outcome(self.store.end(id).await).map(|_| ())
    }
}

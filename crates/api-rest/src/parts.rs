//! [`ApiParts`]: what every handler needs, filled in by the daemon. It
//! sits below the router and the handlers, which all read it, and below
//! [`crate::Api`], which holds it.

use crate::ports::{HealthSource, LocalSessions, RemoteSessions, Upgrader};
use model::Metrics;
use model::Refresher;
use std::sync::Arc;

/// Everything the API is built from; the daemon fills it in.
pub struct ApiParts {
    /// The fleet cache every read is answered from.
    pub cache: cache_core::DaemonCache,
    /// Writes to this computer's sessions.
    pub sessions: Arc<dyn LocalSessions>,
    /// Writes to other computers' sessions, forwarded to their owners;
    /// `None` (standalone) answers them 503 `peer_unreachable`.
    pub remote: Option<Arc<dyn RemoteSessions>>,
    /// Starts background refreshes (`POST /v1/refresh`).
    pub refresher: Arc<dyn Refresher>,
    /// The WebSocket endpoint for `GET /v1/ws`; `None` answers it 404.
    pub upgrader: Option<Arc<dyn Upgrader>>,
    /// The fleet link's state, for `/v1/health`.
    pub health: Arc<dyn HealthSource>,
    /// The daemon's metrics, rendered by `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// The daemon's version, reported by `/v1/health`.
    pub version: String,
}

impl std::fmt::Debug for ApiParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiParts")
            .field("cache", &self.cache)
            .field("upgrader", &self.upgrader.is_some())
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

//! The refresh port ([`model::Refresher`]) for both APIs (`POST
//! /v1/refresh` and the WebSocket `refresh` op): pull data again from its
//! owner, in the background. This computer's projects and todos are
//! re-read from disk; peers (when the daemon has them) are asked for
//! snapshots, whose answers arrive as change events.

use cache_core::DaemonCache;
use local_store::ProjectsConfig;
use model::{PreparationUpdate, RefreshError, RefreshScope, Refresher, Topic};
use peer_sync::PeerRefresher;
use std::sync::Arc;
use tokio_util::task::TaskTracker;

/// Starts refreshes as owned background tasks.
pub struct Refresh {
    cache: DaemonCache,
    projects: Arc<ProjectsConfig>,
    peers: Option<PeerRefresher>,
    tracker: TaskTracker,
}

impl Refresh {
    /// Refreshes run on `tracker`, so shutdown waits for them.
    pub fn new(
        cache: DaemonCache,
        projects: Arc<ProjectsConfig>,
        peers: Option<PeerRefresher>,
        tracker: TaskTracker,
    ) -> Self {
        Self {
            cache,
            projects,
            peers,
            tracker,
        }
    }
}

impl Refresher for Refresh {
    fn refresh(&self, scope: RefreshScope) -> Result<(), RefreshError> {
        let RefreshScope { topics, computer } = scope;
        let local = self.cache.local_name().to_owned();
        let wants_local = computer.as_deref().is_none_or(|c| c == local);
        if wants_local && topics.contains(&Topic::Preparation) {
            let cache = self.cache.clone();
            let projects = self.projects.clone();
            self.tracker.spawn(async move {
                let name = local.clone();
                let scanned =
                    tokio::task::spawn_blocking(move || local_store::scan_all(&name, &projects))
                        .await;
                match scanned {
                    Ok(state) => {
                        cache.write_preparation(&local, PreparationUpdate::all(state));
                    }
                    Err(e) => tracing::error!(error = %e, "refresh of local projects failed"),
                }
            });
        }
        // Local sessions are written through on every change and computers
        // come from heartbeats: there is nothing to pull for them locally.
        let remote = computer
            .as_deref()
            .is_none_or(|c| c != self.cache.local_name());
        if let (true, Some(peers)) = (remote, self.peers.clone()) {
            self.tracker.spawn(async move {
                peers.refresh(computer.as_deref(), topics).await;
            });
        }
        Ok(())
    }
}

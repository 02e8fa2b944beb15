//! `POST /v1/refresh` and the WS `refresh` op: pull data again from its
//! owner, in the background: this computer's projects and todos are re-read
//! from disk, and peers (when the daemon has them) are asked for snapshots,
//! whose answers arrive as WebSocket events.

use api_rest::{RefreshError, Refresher};
use api_ws::WsRefresh;
use cache_core::DaemonCache;
use local_store::ProjectsConfig;
use model::{RefreshRequest, Topic};
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

    fn start(&self, topics: Vec<Topic>, computer: Option<String>) {
        let local = self.cache.local_name().to_owned();
        let wants_local = computer.as_deref().is_none_or(|c| c == local);
        if wants_local && topics.contains(&Topic::Preparation) {
            let cache = self.cache.clone();
            let projects = self.projects.clone();
            self.tracker.spawn(async move {
                let scanned =
                    tokio::task::spawn_blocking(move || local_store::scan_all(&local, &projects))
                        .await;
                match scanned {
                    Ok((projects, todos)) => {
                        let name = cache.local_name().to_owned();
                        cache.set_projects(&name, projects);
                        for (path, list) in todos {
                            cache.set_todos(&name, &path, list);
                        }
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
    }
}

impl Refresher for Refresh {
    fn refresh(&self, req: RefreshRequest) -> Result<(), RefreshError> {
        let topics = match req.topics {
            None => Topic::ALL.to_vec(),
            Some(names) => names
                .iter()
                .map(|n| Topic::parse(n))
                .collect::<Result<Vec<_>, _>>()
                .map_err(RefreshError::Invalid)?,
        };
        if let Some(c) = &req.computer {
            model::validate_computer_name(c).map_err(RefreshError::Invalid)?;
        }
        self.start(topics, req.computer);
        Ok(())
    }
}

impl WsRefresh for Refresh {
    fn refresh(&self, topic: Option<Topic>, computer: Option<String>) -> Result<(), String> {
        let topics = topic.map_or_else(|| Topic::ALL.to_vec(), |t| vec![t]);
        self.start(topics, computer);
        Ok(())
    }
}

//! [`DaemonCache::write_preparation`]: the one function through which
//! preparation data read from disk (the start-up scan, the project
//! watcher's changes, a rescan asked for by `refresh`) enters the cache,
//! whoever read it. It is `set_projects` and `set_todos` applied in order.

use crate::DaemonCache;
use model::PreparationUpdate;
use tokio::sync::mpsc;

impl DaemonCache {
    /// Writes `updates` about `computer`'s projects and todos, in order;
    /// each one that changes something is published (`projects_updated`,
    /// `todos_updated`). Returns whether any did. A whole state is written
    /// with [`PreparationUpdate::all`].
    pub fn write_preparation(
        &self,
        computer: &str,
        updates: impl IntoIterator<Item = PreparationUpdate>,
    ) -> bool {
        let mut changed = false;
        for update in updates {
            changed |= match update {
                PreparationUpdate::Projects(projects) => self.set_projects(computer, projects),
                PreparationUpdate::Todos {
                    project_path,
                    todos,
                } => self.set_todos(computer, &project_path, todos),
            };
        }
        changed
    }

    /// Writes every update `rx` brings about this computer (the project
    /// watcher's channel) until every sender is gone. The caller owns the
    /// task that runs it.
    pub async fn follow_local_preparation(self, mut rx: mpsc::Receiver<PreparationUpdate>) {
        let local = self.local_name().to_owned();
        while let Some(update) = rx.recv().await {
            self.write_preparation(&local, [update]);
        }
    }
}

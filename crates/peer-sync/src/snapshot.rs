//! Snapshots between daemons: what this daemon sends when asked, and how a
//! received one replaces what the cache held about its sender.

use cache_core::DaemonCache;
use model::wire::SnapshotData;
use model::{Metrics, Project, Session, Todo, Topic};
use std::collections::BTreeMap;

/// This computer's own data for the topics asked.
pub(crate) fn build(cache: &DaemonCache, topics: &[Topic]) -> SnapshotData {
    let me = cache.local_name();
    let mut data = SnapshotData::default();
    if topics.contains(&Topic::Sessions) {
        data.sessions = serde_json::from_slice::<Vec<Session>>(&cache.sessions_json(Some(me))).ok();
    }
    if topics.contains(&Topic::Preparation) {
        data.projects = serde_json::from_slice::<Vec<Project>>(&cache.projects_json(Some(me))).ok();
        data.todos = serde_json::from_slice::<Vec<Todo>>(&cache.todos_json(Some(me), None)).ok();
    }
    data
}

/// Replaces what the cache holds about `computer` with its snapshot.
/// Records that claim another owner are dropped and counted.
pub(crate) fn apply(cache: &DaemonCache, computer: &str, data: SnapshotData, metrics: &Metrics) {
    let mut forged = 0usize;
    if let Some(sessions) = data.sessions {
        let (own, other): (Vec<Session>, Vec<Session>) =
            sessions.into_iter().partition(|s| s.computer == computer);
        forged += other.len();
        cache.replace_sessions(computer, own);
    }
    if let Some(projects) = data.projects {
        let (own, other): (Vec<Project>, Vec<Project>) =
            projects.into_iter().partition(|p| p.computer == computer);
        forged += other.len();
        let paths: Vec<String> = own.iter().map(|p| p.path.clone()).collect();
        cache.set_projects(computer, own);
        let mut by_project: BTreeMap<String, Vec<Todo>> =
            paths.into_iter().map(|p| (p, Vec::new())).collect();
        for t in data.todos.unwrap_or_default() {
            if t.computer != computer {
                forged += 1;
                continue;
            }
            by_project
                .entry(t.project_path.clone())
                .or_default()
                .push(t);
        }
        for (path, todos) in by_project {
            cache.set_todos(computer, &path, todos);
        }
    }
    if forged > 0 {
        tracing::warn!(
            peer = computer,
            records = forged,
            reason = "record names another owner",
            "dropped snapshot records"
        );
        metrics.dropped("redis", "forged_record");
    }
}

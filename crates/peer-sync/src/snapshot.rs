//! Snapshots between daemons: what this daemon sends when asked, and how a
//! received one replaces what the cache held about its sender.

use bytes::Bytes;
use cache_core::DaemonCache;
use model::wire::{PushGen, ResponseBody, SnapshotData};
use model::{Metrics, Project, Session, StreamId, Todo, Topic};
use std::collections::BTreeMap;

/// The body of a snapshot response (`ResponseBody` of `model::wire`) with
/// this computer's own data for the topics asked, concatenated from the
/// cache's serialized lists rather than parsed and serialized again.
pub(crate) fn response(
    cache: &DaemonCache,
    id: &str,
    topics: &[Topic],
    events_id: StreamId,
    push_gen: PushGen,
) -> Bytes {
    let me = cache.local_name();
    let mut data: Vec<(&str, Bytes)> = Vec::new();
    if topics.contains(&Topic::Sessions) {
        data.push(("sessions", cache.sessions_json(Some(me))));
    }
    if topics.contains(&Topic::Preparation) {
        data.push(("projects", cache.projects_json(Some(me))));
        data.push(("todos", cache.todos_json(Some(me), None)));
    }
    ResponseBody::encode_snapshot(id, &data, &events_id.to_string(), push_gen)
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

#[cfg(test)]
mod tests {
    use super::*;
    use cache_core::CacheConfig;
    use model::{Computer, Interest, SessionStatus, SystemClock, Timestamp};
    use std::sync::Arc;

    #[test]
    fn a_response_is_the_contract_s_response_body() {
        let me = Computer {
            name: "a".into(),
            online: true,
            is_self: true,
            host: "a".into(),
            user: "u".into(),
            version: "t".into(),
            boot_id: "b".into(),
            started_at: Timestamp::from_millis(0),
            last_seen: Timestamp::from_millis(0),
            remote_writes: false,
            stats: None,
            interest: Interest::default(),
        };
        let cache = DaemonCache::new(me, CacheConfig::default(), Arc::new(SystemClock));
        let session = Session {
            session_id: "s\"1".into(),
            computer: "a".into(),
            title: "t".into(),
            project_path: None,
            agent: "x".into(),
            thinking_mode: None,
            status: SessionStatus::Active,
            created_at: Timestamp::from_millis(1),
            last_activity: Timestamp::from_millis(2),
            last_input: None,
            last_output: None,
            rev: 3,
            stale: false,
        };
        cache.put_session(session.clone());
        let body = response(
            &cache,
            "req\"1",
            &[Topic::Sessions],
            StreamId::new(5, 6),
            PushGen {
                sessions: 2,
                preparation: 0,
            },
        );
        // The exact bytes: the contract's response body, field for field.
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            format!(
                r#"{{"id":"req\"1","ok":true,"data":{{"sessions":[{}]}},"events_id":"5-6","push_gen":{{"sessions":2,"preparation":0}}}}"#,
                serde_json::to_string(&session).unwrap()
            )
        );
        let parsed: ResponseBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed.id, "req\"1");
        assert!(parsed.ok);
        assert_eq!(parsed.events_id, "5-6");
        assert_eq!(parsed.push_gen.sessions, 2);
        assert_eq!(parsed.data.sessions, Some(vec![session]));
        assert_eq!(parsed.data.projects, None);

        let prep = response(
            &cache,
            "r",
            &[Topic::Preparation],
            StreamId::ZERO,
            PushGen::default(),
        );
        assert_eq!(
            std::str::from_utf8(&prep).unwrap(),
            r#"{"id":"r","ok":true,"data":{"projects":[],"todos":[]},"events_id":"0-0","push_gen":{"sessions":0,"preparation":0}}"#
        );
        let parsed: ResponseBody = serde_json::from_slice(&prep).unwrap();
        assert_eq!(parsed.data.sessions, None);
        assert_eq!(parsed.data.projects, Some(vec![]));
        assert_eq!(parsed.data.todos, Some(vec![]));
    }
}

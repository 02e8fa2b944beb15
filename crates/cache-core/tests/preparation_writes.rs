//! `write_preparation` and `follow_local_preparation`: preparation data
//! read from disk enters the cache in order, and only changes are
//! published.

use cache_core::{CacheConfig, DaemonCache};
use model::{
    Computer, Interest, PreparationUpdate, Project, Timestamp, Todo, TodoStatus, TokioClock,
};
use std::sync::Arc;

fn cache() -> DaemonCache {
    let me = Computer {
        name: "me".into(),
        online: true,
        is_self: true,
        host: "me".into(),
        user: "u".into(),
        version: "0".into(),
        boot_id: "boot-me".into(),
        started_at: Timestamp::from_millis(0),
        last_seen: Timestamp::from_millis(0),
        remote_writes: false,
        stats: None,
        interest: Interest::default(),
    };
    let clock = TokioClock::starting_at(Timestamp::from_millis(1_800_000_000_000));
    DaemonCache::new(me, CacheConfig::default(), Arc::new(clock))
}

fn project(path: &str) -> Project {
    Project {
        computer: "me".into(),
        name: path.trim_start_matches('/').into(),
        path: path.into(),
        description: None,
    }
}

fn todo(path: &str, slug: &str) -> Todo {
    Todo {
        computer: "me".into(),
        project_path: path.into(),
        slug: slug.into(),
        status: TodoStatus::Pending,
        description: None,
        has_requirements: false,
        has_impl_plan: false,
    }
}

#[tokio::test]
async fn a_whole_state_then_watched_changes_are_written_and_published_once() {
    let cache = cache();
    let mut feed = cache.subscribe();
    let state = (
        vec![project("/a"), project("/b")],
        vec![("/a".to_owned(), vec![todo("/a", "one")])],
    );
    assert!(cache.write_preparation("me", PreparationUpdate::all(state.clone())));
    assert!(
        !cache.write_preparation("me", PreparationUpdate::all(state)),
        "the same state again changes nothing"
    );
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(PreparationUpdate::Todos {
        project_path: "/b".into(),
        todos: vec![todo("/b", "two")],
    })
    .await
    .unwrap();
    drop(tx);
    cache.clone().follow_local_preparation(rx).await;

    let mut events = Vec::new();
    while let Ok(ev) = feed.try_recv() {
        events.push(ev.event.as_str());
    }
    assert_eq!(
        events,
        ["projects_updated", "todos_updated", "todos_updated"]
    );
    let todos: Vec<Todo> = serde_json::from_slice(&cache.todos_json(None, None)).unwrap();
    assert_eq!(todos.len(), 2);
}

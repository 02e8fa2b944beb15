//! The exact bytes the cache publishes: WebSocket `event` frames (with each
//! event's payload) and `snapshot` frames. They are the contract
//! (`PROTOCOL.md` section 4): a refactor of how they are built must leave
//! every byte as it is.

use cache_core::{CacheConfig, DaemonCache, Opening};
use model::{
    Clock, Computer, ComputerFilter, Interest, Project, Session, SessionStatus, Timestamp, Todo,
    TodoStatus, Topic,
};
use std::sync::Arc;

/// A wall clock that never moves, so `last_seen` is a fixed string.
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000)
    }
}

fn cache() -> DaemonCache {
    let me = Computer {
        name: "me".into(),
        online: true,
        is_self: true,
        host: "h".into(),
        user: "u".into(),
        version: "0".into(),
        boot_id: "b\"1".into(),
        started_at: Timestamp::from_millis(0),
        last_seen: Timestamp::from_millis(0),
        remote_writes: false,
        stats: None,
        interest: Interest::default(),
    };
    DaemonCache::new(me, CacheConfig::default(), Arc::new(Fixed))
}

fn session(status: SessionStatus, rev: u64) -> Session {
    Session {
        session_id: "s\"1".into(),
        computer: "me".into(),
        title: "t".into(),
        project_path: None,
        agent: "a".into(),
        thinking_mode: None,
        status,
        created_at: Timestamp::from_millis(0),
        last_activity: Timestamp::from_millis(1000),
        last_input: None,
        last_output: None,
        rev,
        stale: false,
    }
}

const SESSION: &str = r#"{"session_id":"s\"1","computer":"me","title":"t","project_path":null,"agent":"a","thinking_mode":null,"status":"active","created_at":"1970-01-01T00:00:00.000Z","last_activity":"1970-01-01T00:00:01.000Z","last_input":null,"last_output":null,"rev":1,"stale":false}"#;
const PROJECT: &str = r#"{"computer":"me","name":"p","path":"/p","description":null}"#;
const TODO: &str = r#"{"computer":"me","project_path":"/p","slug":"t1","status":"pending","description":null,"has_requirements":false,"has_impl_plan":false}"#;
const ME: &str = r#"{"name":"me","online":true,"self":true,"host":"h","user":"u","version":"0","boot_id":"b\"1","started_at":"1970-01-01T00:00:00.000Z","last_seen":"2027-01-15T08:00:00.000Z","remote_writes":false,"stats":null,"interest":{}}"#;

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

#[test]
fn event_frames_and_payloads_are_byte_exact() {
    let cache = cache();
    let mut feed = cache.subscribe();
    cache.put_session(session(SessionStatus::Active, 1));
    cache.put_session(session(SessionStatus::Closed, 2));
    cache.set_projects(
        "me",
        vec![Project {
            computer: "me".into(),
            name: "p".into(),
            path: "/p".into(),
            description: None,
        }],
    );
    cache.set_todos(
        "me",
        "/p",
        vec![Todo {
            computer: "me".into(),
            project_path: "/p".into(),
            slug: "t1".into(),
            status: TodoStatus::Pending,
            description: None,
            has_requirements: false,
            has_impl_plan: false,
        }],
    );
    // A project that goes publishes its todos as an empty list.
    cache.set_projects("me", vec![]);

    let frames: Vec<(String, String)> = std::iter::from_fn(|| feed.try_recv().ok())
        .map(|e| (text(&e.data).to_owned(), text(&e.frame).to_owned()))
        .collect();
    let expected_data = [
        SESSION.to_owned(),
        r#"{"session_id":"s\"1","computer":"me"}"#.to_owned(),
        format!(r#"{{"computer":"me","projects":[{PROJECT}]}}"#),
        format!(r#"{{"computer":"me","project_path":"/p","todos":[{TODO}]}}"#),
        r#"{"computer":"me","projects":[]}"#.to_owned(),
        r#"{"computer":"me","project_path":"/p","todos":[]}"#.to_owned(),
    ];
    let heads = [
        r#"{"type":"event","topic":"sessions","epoch":"b\"1","seq":1,"event":"session_started","data":"#,
        r#"{"type":"event","topic":"sessions","epoch":"b\"1","seq":2,"event":"session_closed","data":"#,
        r#"{"type":"event","topic":"preparation","epoch":"b\"1","seq":3,"event":"projects_updated","data":"#,
        r#"{"type":"event","topic":"preparation","epoch":"b\"1","seq":4,"event":"todos_updated","data":"#,
        r#"{"type":"event","topic":"preparation","epoch":"b\"1","seq":5,"event":"projects_updated","data":"#,
        r#"{"type":"event","topic":"preparation","epoch":"b\"1","seq":6,"event":"todos_updated","data":"#,
    ];
    assert_eq!(frames.len(), expected_data.len());
    for ((data, frame), (want, head)) in frames.iter().zip(expected_data.iter().zip(heads)) {
        assert_eq!(data, want);
        assert_eq!(frame, &format!("{head}{want}}}"));
    }
}

#[test]
fn snapshot_frames_are_byte_exact() {
    let cache = cache();
    cache.put_session(session(SessionStatus::Active, 1));
    cache.set_projects(
        "me",
        vec![Project {
            computer: "me".into(),
            name: "p".into(),
            path: "/p".into(),
            description: None,
        }],
    );
    let frame = |topic| match cache.open(topic, &ComputerFilter::All, None) {
        Opening::Snapshot { frame, .. } => text(&frame).to_owned(),
        Opening::Replay { .. } => panic!("no since: a snapshot"),
    };
    assert_eq!(
        frame(Topic::Sessions),
        format!(
            r#"{{"type":"snapshot","topic":"sessions","epoch":"b\"1","seq":2,"data":{{"sessions":[{SESSION}]}}}}"#
        )
    );
    assert_eq!(
        frame(Topic::Preparation),
        format!(
            r#"{{"type":"snapshot","topic":"preparation","epoch":"b\"1","seq":2,"data":{{"projects":[{PROJECT}],"todos":[]}}}}"#
        )
    );
    assert_eq!(
        frame(Topic::Computers),
        format!(
            r#"{{"type":"snapshot","topic":"computers","epoch":"b\"1","seq":2,"data":{{"computers":[{ME}]}}}}"#
        )
    );
    assert_eq!(
        text(&cache.projects_with_todos_json(None)),
        format!(r#"[{},"todos":[]}}]"#, &PROJECT[..PROJECT.len() - 1])
    );
}

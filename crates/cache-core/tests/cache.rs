//! Behaviour of the cache through its public API: interest, the feed and
//! replay, and freshness with paused tokio time (no sleeps).

use cache_core::{Applied, CacheConfig, DaemonCache, Opening, Since};
use model::{
    Computer, ComputerFilter, EventName, Interest, Project, Session, SessionStatus, Timestamp,
    TokioClock, Topic,
};
use std::sync::Arc;
use std::time::Duration;

fn computer(name: &str) -> Computer {
    Computer {
        name: name.into(),
        online: true,
        is_self: false,
        host: name.into(),
        user: "u".into(),
        version: "0".into(),
        boot_id: format!("boot-{name}"),
        started_at: Timestamp::from_millis(0),
        last_seen: Timestamp::from_millis(0),
        remote_writes: false,
        stats: None,
        interest: Interest::default(),
    }
}

fn cache() -> DaemonCache {
    let clock = TokioClock::starting_at(Timestamp::from_millis(1_800_000_000_000));
    DaemonCache::new(computer("me"), CacheConfig::default(), Arc::new(clock))
}

fn session(computer: &str, id: &str, rev: u64, activity: i64) -> Session {
    Session {
        session_id: id.into(),
        computer: computer.into(),
        title: format!("t{rev}"),
        project_path: None,
        agent: "claude".into(),
        thinking_mode: None,
        status: SessionStatus::Active,
        created_at: Timestamp::from_millis(0),
        last_activity: Timestamp::from_millis(activity),
        last_input: None,
        last_output: None,
        rev,
        stale: false,
    }
}

fn sessions(cache: &DaemonCache, computer: Option<&str>) -> Vec<Session> {
    serde_json::from_slice(&cache.sessions_json(computer)).unwrap()
}

#[tokio::test]
async fn interest_is_reference_counted() {
    let cache = cache();
    let mut changes = cache.interest_changes();
    let a = cache.watch(Topic::Sessions, &ComputerFilter::All);
    let b = cache.watch(Topic::Sessions, &ComputerFilter::All);
    assert!(changes.has_changed().unwrap());
    assert_eq!(changes.borrow_and_update().sessions, vec!["*"]);
    drop(a);
    assert_eq!(cache.interest_count(Topic::Sessions, "*"), 1);
    assert_eq!(cache.interest().sessions, vec!["*"]);
    assert!(
        !changes.has_changed().unwrap(),
        "one of two leaving changes nothing"
    );
    drop(b);
    assert!(cache.interest().is_empty());
    assert!(changes.has_changed().unwrap());

    let only = cache.watch(
        Topic::Preparation,
        &ComputerFilter::Only(["x".to_string()].into()),
    );
    assert!(cache.is_watched(Topic::Preparation, "x"));
    assert!(!cache.is_watched(Topic::Preparation, "y"));
    // The local computer's record shows what it watches.
    let me = &cache.computers()[0];
    assert_eq!(me.interest.preparation, vec!["x"]);
    drop(only);
}

#[tokio::test]
async fn sessions_apply_by_rev_and_publish_only_changes() {
    let cache = cache();
    let mut feed = cache.subscribe();
    assert_eq!(
        cache.put_session(session("me", "s1", 1, 10)),
        Applied::Started
    );
    assert_eq!(
        cache.put_session(session("me", "s1", 1, 10)),
        Applied::Unchanged
    );
    assert_eq!(
        cache.put_session(session("me", "s1", 2, 20)),
        Applied::Updated
    );
    assert_eq!(
        cache.put_session(session("me", "s1", 1, 10)),
        Applied::Outdated
    );
    assert_eq!(
        cache.put_session(session("peer", "s2", 1, 30)),
        Applied::Started
    );
    let names: Vec<EventName> = std::iter::from_fn(|| feed.try_recv().ok())
        .map(|e| e.event)
        .collect();
    assert_eq!(
        names,
        [
            EventName::SessionStarted,
            EventName::SessionUpdated,
            EventName::SessionStarted
        ]
    );
    let all = sessions(&cache, None);
    assert_eq!(
        all.iter()
            .map(|s| s.session_id.as_str())
            .collect::<Vec<_>>(),
        ["s2", "s1"],
        "newest activity first"
    );
    assert_eq!(sessions(&cache, Some("peer")).len(), 1);

    assert_eq!(cache.close_session("me", "s1", 3), Applied::Closed);
    assert_eq!(
        cache.put_session(session("me", "s1", 2, 20)),
        Applied::Outdated,
        "no revival"
    );
    assert!(cache.session("s1").is_none());
}

#[tokio::test]
async fn open_replays_from_since_or_falls_back_to_snapshot() {
    let config = CacheConfig {
        replay_capacity: 8,
        ..CacheConfig::default()
    };
    let clock = TokioClock::starting_at(Timestamp::from_millis(0));
    let cache = DaemonCache::new(computer("me"), config, Arc::new(clock));
    cache.put_session(session("me", "s", 1, 1));
    let Opening::Snapshot { seq, frame } = cache.open(Topic::Sessions, &ComputerFilter::All, None)
    else {
        panic!("no since: snapshot");
    };
    let v: serde_json::Value = serde_json::from_slice(&frame).unwrap();
    assert_eq!(v["type"], "snapshot");
    assert_eq!(v["data"]["sessions"][0]["session_id"], "s");
    for rev in 2..=6 {
        cache.put_session(session("me", "s", rev, rev as i64));
    }
    let since = Since {
        epoch: cache.epoch().into(),
        seq,
    };
    match cache.open(Topic::Sessions, &ComputerFilter::All, Some(&since)) {
        Opening::Replay { events, .. } => {
            assert_eq!(
                events.iter().map(|e| e.rev.unwrap()).collect::<Vec<_>>(),
                [2, 3, 4, 5, 6]
            );
        }
        other => panic!("expected replay, got {other:?}"),
    }
    // Narrowed to another computer: nothing to replay.
    let other = ComputerFilter::Only(["peer".to_string()].into());
    assert!(matches!(
        cache.open(Topic::Sessions, &other, Some(&since)),
        Opening::Replay { events, .. } if events.is_empty()
    ));
    for rev in 7..=20 {
        cache.put_session(session("me", "s", rev, rev as i64));
    }
    assert!(
        matches!(
            cache.open(Topic::Sessions, &ComputerFilter::All, Some(&since)),
            Opening::Snapshot { .. }
        ),
        "older than the ring"
    );
    let foreign = Since {
        epoch: "another-boot".into(),
        seq: 19,
    };
    assert!(
        matches!(
            cache.open(Topic::Sessions, &ComputerFilter::All, Some(&foreign)),
            Opening::Snapshot { .. }
        ),
        "another epoch"
    );
}

#[tokio::test(start_paused = true)]
async fn silent_peer_goes_offline_after_three_periods_then_is_forgotten() {
    let cache = cache();
    let period = Duration::from_secs(2);
    cache.peer_heartbeat(computer("peer"), period);
    cache.put_session(session("peer", "p1", 4, 1));
    tokio::time::advance(Duration::from_millis(5_900)).await;
    assert!(cache.sweep().went_offline.is_empty());
    assert_eq!(cache.online_peers(), 1);
    tokio::time::advance(Duration::from_millis(100)).await;
    assert_eq!(cache.sweep().went_offline, ["peer"]);
    assert_eq!(cache.online_peers(), 0);
    assert!(
        sessions(&cache, Some("peer"))[0].stale,
        "kept, marked stale"
    );

    // Heard again: its sessions are its own once more, not stale (the
    // feed resumes from where it was, or a snapshot replaces them).
    tokio::time::advance(Duration::from_secs(60)).await;
    cache.peer_heartbeat(computer("peer"), period);
    assert!(!sessions(&cache, Some("peer"))[0].stale);
    assert_eq!(
        cache.put_session(session("peer", "p1", 4, 1)),
        Applied::Unchanged,
        "the owner's state of the same rev is what is held"
    );

    cache.peer_offline("peer");
    tokio::time::advance(Duration::from_secs(599)).await;
    assert!(cache.sweep().forgotten.is_empty());
    assert_eq!(sessions(&cache, Some("peer")).len(), 1);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(cache.sweep().forgotten, ["peer"]);
    assert!(sessions(&cache, Some("peer")).is_empty());
    assert_eq!(cache.computers().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn unwatched_remote_preparation_expires_watched_is_due() {
    let cache = cache();
    let project = |c: &str| Project {
        computer: c.into(),
        name: "p".into(),
        path: "/p".into(),
        description: None,
    };
    cache.set_projects("peer", vec![project("peer")]);
    cache.set_projects("me", vec![project("me")]);
    tokio::time::advance(Duration::from_secs(299)).await;
    assert_eq!(cache.sweep().preparation_expired, Vec::<String>::new());
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(cache.sweep().preparation_expired, ["peer"]);
    let left: Vec<Project> = serde_json::from_slice(&cache.projects_json(None)).unwrap();
    assert_eq!(left, vec![project("me")], "local data never expires");

    let _watch = cache.watch(Topic::Preparation, &ComputerFilter::All);
    cache.set_projects("peer", vec![project("peer")]);
    tokio::time::advance(Duration::from_secs(300)).await;
    let report = cache.sweep();
    assert_eq!(report.preparation_due, ["peer"]);
    assert!(report.preparation_expired.is_empty());
    let kept: Vec<Project> = serde_json::from_slice(&cache.projects_json(Some("peer"))).unwrap();
    assert_eq!(
        kept,
        vec![project("peer")],
        "watched data is kept while due"
    );
}

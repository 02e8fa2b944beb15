//! Tests of [`SessionStore`] against real SQLite files in a temp dir.

use super::*;
use model::{SessionStatus, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};

/// A wall clock the test moves by hand.
struct FakeClock(AtomicI64);

impl FakeClock {
    fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    clock: Arc<FakeClock>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            clock: Arc::new(FakeClock(AtomicI64::new(1_000))),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("nested/dirs/sessions.db")
    }

    fn open(&self) -> SessionStore {
        SessionStore::open(&self.db(), "alpha", self.clock.clone()).unwrap()
    }
}

fn new_session(title: &str) -> NewSession {
    NewSession {
        title: title.into(),
        project_path: None,
        agent: None,
        thinking_mode: None,
        status: None,
        session_id: None,
        as_of: None,
        computer: None,
    }
}

#[tokio::test]
async fn create_fills_defaults() {
    let f = Fixture::new();
    let store = f.open();
    let s = store.create(new_session("fix bug")).await.unwrap();
    assert_eq!(s.computer, "alpha");
    assert_eq!(s.title, "fix bug");
    assert_eq!(s.agent, "unknown");
    assert_eq!(s.status, SessionStatus::Active);
    assert_eq!(s.rev, 1);
    assert!(!s.stale);
    assert_eq!(s.created_at, Timestamp::from_millis(1_000));
    assert_eq!(s.last_activity, s.created_at);
    assert!(uuid::Uuid::parse_str(&s.session_id).is_ok());
    assert_eq!(store.get(&s.session_id).await.unwrap(), Some(s));
}

#[tokio::test]
async fn create_keeps_given_fields_and_refuses_bad_ones() {
    let f = Fixture::new();
    let store = f.open();
    let s = store
        .create(NewSession {
            title: "t".into(),
            project_path: Some("/p".into()),
            agent: Some("claude".into()),
            thinking_mode: Some("deep".into()),
            status: Some(SessionStatus::Waiting),
            session_id: None,
            as_of: None,
            computer: None,
        })
        .await
        .unwrap();
    assert_eq!(s.project_path.as_deref(), Some("/p"));
    assert_eq!(s.agent, "claude");
    assert_eq!(s.thinking_mode.as_deref(), Some("deep"));
    assert_eq!(s.status, SessionStatus::Waiting);

    for bad in [
        new_session("  "),
        NewSession {
            status: Some(SessionStatus::Closed),
            ..new_session("t")
        },
    ] {
        let err = store.create(bad).await.unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
    }
    assert_eq!(store.list().unwrap().len(), 1);
}

#[tokio::test]
async fn update_applies_fields_and_bumps_rev() {
    let f = Fixture::new();
    let store = f.open();
    let s = store.create(new_session("t")).await.unwrap();
    f.clock.set(2_000);
    let patch = SessionPatch {
        title: Some("renamed".into()),
        status: Some(SessionStatus::Idle),
        last_input: Some(Some("hello".into())),
        last_output: Some(Some("hi".into())),
        agent: Some("codex".into()),
        thinking_mode: Some(Some("fast".into())),
        as_of: None,
    };
    let u = store.update(&s.session_id, patch).await.unwrap();
    assert_eq!(u.rev, 2);
    assert_eq!(u.title, "renamed");
    assert_eq!(u.status, SessionStatus::Idle);
    assert_eq!(u.last_input.as_deref(), Some("hello"));
    assert_eq!(u.last_output.as_deref(), Some("hi"));
    assert_eq!(u.agent, "codex");
    assert_eq!(u.thinking_mode.as_deref(), Some("fast"));
    assert_eq!(u.created_at, Timestamp::from_millis(1_000));
    assert_eq!(u.last_activity, Timestamp::from_millis(2_000));

    // Some(None) clears; absent keeps.
    f.clock.set(3_000);
    let cleared = SessionPatch {
        last_input: Some(None),
        thinking_mode: Some(None),
        ..SessionPatch::default()
    };
    let c = store.update(&s.session_id, cleared).await.unwrap();
    assert_eq!(c.rev, 3);
    assert_eq!(c.last_input, None);
    assert_eq!(c.thinking_mode, None);
    assert_eq!(c.last_output.as_deref(), Some("hi"));
    assert_eq!(c.title, "renamed");
    assert_eq!(store.get(&s.session_id).await.unwrap(), Some(c));
}

#[tokio::test]
async fn empty_patch_changes_nothing() {
    let f = Fixture::new();
    let store = f.open();
    let s = store.create(new_session("t")).await.unwrap();
    f.clock.set(5_000);
    let same = store
        .update(&s.session_id, SessionPatch::default())
        .await
        .unwrap();
    assert_eq!(same, s);
}

#[tokio::test]
async fn update_refuses_bad_patch_and_unknown_id() {
    let f = Fixture::new();
    let store = f.open();
    let s = store.create(new_session("t")).await.unwrap();
    let bad = SessionPatch {
        title: Some(String::new()),
        ..SessionPatch::default()
    };
    let err = store.update(&s.session_id, bad).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    let err = store
        .update("nope", SessionPatch::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { ref session_id } if session_id == "nope"));
    assert_eq!(store.get(&s.session_id).await.unwrap(), Some(s));
}

#[tokio::test]
async fn end_returns_closed_and_removes() {
    let f = Fixture::new();
    let store = f.open();
    let s = store.create(new_session("t")).await.unwrap();
    let keep = store.create(new_session("other")).await.unwrap();
    f.clock.set(9_000);
    let closed = store.end(&s.session_id).await.unwrap();
    assert_eq!(closed.status, SessionStatus::Closed);
    assert_eq!(closed.rev, 2);
    assert_eq!(closed.last_activity, Timestamp::from_millis(9_000));
    assert_eq!(store.get(&s.session_id).await.unwrap(), None);
    let err = store.end(&s.session_id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert_eq!(store.list().unwrap(), vec![keep]);
}

#[tokio::test]
async fn survives_reopen_with_same_rev() {
    let f = Fixture::new();
    let (a, b) = {
        let store = f.open();
        let a = store.create(new_session("a")).await.unwrap();
        f.clock.set(2_000);
        let b = store.create(new_session("b")).await.unwrap();
        f.clock.set(3_000);
        let a = store
            .update(
                &a.session_id,
                SessionPatch {
                    last_output: Some(Some("done".into())),
                    ..SessionPatch::default()
                },
            )
            .await
            .unwrap();
        store.flush().await.unwrap();
        (a, b)
    };
    let store = f.open();
    // Newest last_activity first.
    assert_eq!(store.list().unwrap(), vec![a.clone(), b]);
    assert_eq!(store.get(&a.session_id).await.unwrap().unwrap().rev, 2);
    let again = store
        .update(
            &a.session_id,
            SessionPatch {
                title: Some("x".into()),
                ..SessionPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(again.rev, 3);
}

#[tokio::test]
async fn writes_are_durable_without_flush() {
    let f = Fixture::new();
    let store = f.open();
    let s = store.create(new_session("a")).await.unwrap();
    // A second connection (as after a crash and restart) sees the commit
    // while the first is still open.
    let other = f.open();
    assert_eq!(other.get(&s.session_id).await.unwrap(), Some(s));
}

#[test]
fn reopening_is_idempotent_and_sets_up_the_file() {
    let f = Fixture::new();
    drop(f.open());
    drop(f.open());
    let conn = Connection::open(f.db()).unwrap();
    assert_eq!(schema::version(&conn), schema::MIGRATIONS.len() as i64);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perm = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(perm(f.db().parent().unwrap()), 0o700);
        assert_eq!(perm(&f.dir.path().join("nested")), 0o700);
        assert_eq!(perm(&f.db()), 0o600);
    }
}

#[test]
fn refuses_bad_computer_name_and_unusable_path() {
    let f = Fixture::new();
    let err = SessionStore::open(&f.db(), "bad name", f.clock.clone()).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    // A directory where the file should be.
    std::fs::create_dir_all(f.dir.path().join("isdir")).unwrap();
    let err =
        SessionStore::open(&f.dir.path().join("isdir"), "alpha", f.clock.clone()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[tokio::test]
async fn list_skips_impossible_rows() {
    let f = Fixture::new();
    let store = f.open();
    let good = store.create(new_session("good")).await.unwrap();
    let conn = Connection::open(f.db()).unwrap();
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON;
         INSERT INTO sessions (session_id, title, agent, status, created_at, last_activity, rev)
         VALUES ('bad', 't', 'a', 'sleeping', 0, 0, 1);",
    )
    .unwrap();
    assert_eq!(store.list().unwrap(), vec![good]);
    let err = store.get("bad").await.unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
}

#[tokio::test]
async fn create_with_a_chosen_id_is_idempotent() {
    let f = Fixture::new();
    let store = f.open();
    let req = NewSession {
        session_id: Some("claude:abc-1".into()),
        ..new_session("first")
    };
    let s = store.create(req.clone()).await.unwrap();
    assert_eq!(s.session_id, "claude:abc-1");
    assert_eq!(s.rev, 1);
    f.clock.set(2_000);
    let again = store
        .create(NewSession {
            title: "second".into(),
            ..req
        })
        .await
        .unwrap();
    assert_eq!(again, s, "the stored session comes back unchanged");
    assert_eq!(store.list().unwrap().len(), 1);
    let bad = NewSession {
        session_id: Some("a/b".into()),
        ..new_session("t")
    };
    assert!(matches!(
        store.create(bad).await.unwrap_err(),
        Error::Invalid(_)
    ));
}

#[tokio::test]
async fn a_patch_older_than_the_session_changes_nothing() {
    let f = Fixture::new();
    let store = f.open();
    let s = store.create(new_session("t")).await.unwrap();
    f.clock.set(5_000);
    let at = |ms| Some(Timestamp::from_millis(ms));
    let newer = SessionPatch {
        status: Some(SessionStatus::Waiting),
        as_of: at(4_000),
        ..SessionPatch::default()
    };
    let u = store.update(&s.session_id, newer).await.unwrap();
    assert_eq!((u.rev, u.status), (2, SessionStatus::Waiting));
    assert_eq!(u.last_activity, Timestamp::from_millis(4_000));
    let older = SessionPatch {
        status: Some(SessionStatus::Idle),
        as_of: at(3_000),
        ..SessionPatch::default()
    };
    assert_eq!(store.update(&s.session_id, older).await.unwrap(), u);
    let future = SessionPatch {
        status: Some(SessionStatus::Active),
        as_of: at(9_000),
        ..SessionPatch::default()
    };
    let v = store.update(&s.session_id, future).await.unwrap();
    assert_eq!(
        v.last_activity,
        Timestamp::from_millis(5_000),
        "capped at now"
    );
}

/// Group commit under many concurrent writers: every write is durable
/// (found after reopening), each caller hears back only once its write is
/// visible to another connection and the commit hook has seen it, the hook
/// sees each session's revs in order, and a write refused in the middle of
/// a group (unknown session) fails alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_are_all_committed_before_they_are_answered() {
    const WRITERS: usize = 40;
    const EACH: usize = 10;
    const SESSIONS: usize = 10;
    let f = Fixture::new();
    let store = f.open();
    let seen: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let hook_seen = Arc::clone(&seen);
    assert!(store.set_commit_hook(Arc::new(move |s: &Session| {
        hook_seen
            .lock()
            .unwrap()
            .push((s.session_id.clone(), s.rev));
    })));
    let mut ids = Vec::new();
    for i in 0..SESSIONS {
        ids.push(
            store
                .create(new_session(&format!("s{i}")))
                .await
                .unwrap()
                .session_id,
        );
    }
    let observer = Arc::new(Mutex::new(Connection::open(f.db()).unwrap()));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (store, ids, observer, seen) = (
            store.clone(),
            ids.clone(),
            Arc::clone(&observer),
            Arc::clone(&seen),
        );
        tasks.spawn(async move {
            let mut answered = Vec::new();
            for k in 0..EACH {
                if w % 8 == 0 && k % 3 == 0 {
                    let err = store
                        .update(
                            "no-such-session",
                            SessionPatch {
                                title: Some("x".into()),
                                ..SessionPatch::default()
                            },
                        )
                        .await
                        .unwrap_err();
                    assert!(matches!(err, Error::NotFound { .. }), "{err}");
                }
                let id = &ids[(w + k) % SESSIONS];
                let s = store
                    .update(
                        id,
                        SessionPatch {
                            last_output: Some(Some(format!("w{w} k{k}"))),
                            ..SessionPatch::default()
                        },
                    )
                    .await
                    .unwrap();
                let committed: i64 = observer
                    .lock()
                    .unwrap()
                    .query_row(
                        "SELECT rev FROM sessions WHERE session_id = ?1",
                        [id],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert!(
                    u64::try_from(committed).unwrap() >= s.rev,
                    "rev {} answered before its commit (another connection sees {committed})",
                    s.rev
                );
                assert!(
                    seen.lock().unwrap().contains(&(id.clone(), s.rev)),
                    "rev {} answered before the commit hook saw it",
                    s.rev
                );
                answered.push((id.clone(), s.rev));
            }
            answered
        });
    }
    let mut answered: Vec<(String, u64)> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        answered.extend(done.unwrap());
    }
    let per_session = (WRITERS * EACH / SESSIONS) as u64;
    for id in &ids {
        let mut revs: Vec<u64> = answered
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, r)| *r)
            .collect();
        revs.sort_unstable();
        assert_eq!(revs, (2..=per_session + 1).collect::<Vec<_>>(), "{id}");
        let hooked: Vec<u64> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, r)| *r)
            .collect();
        assert_eq!(hooked, (1..=per_session + 1).collect::<Vec<_>>(), "{id}");
    }
    drop(store);
    let reopened = f.open();
    let listed = reopened.list().unwrap();
    assert_eq!(listed.len(), SESSIONS);
    for s in listed {
        assert_eq!(s.rev, per_session + 1, "{}", s.session_id);
    }
}

fn chosen(id: &str, title: &str) -> NewSession {
    NewSession {
        session_id: Some(id.into()),
        ..new_session(title)
    }
}

#[tokio::test]
async fn a_session_created_again_after_its_end_continues_above_the_end() {
    let f = Fixture::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = f.open();
    let hooked = Arc::clone(&seen);
    store.set_commit_hook(Arc::new(move |s: &Session| {
        hooked.lock().unwrap().push((s.rev, s.status));
    }));
    store.create(chosen("agent-1", "first")).await.unwrap();
    let patch = SessionPatch {
        status: Some(SessionStatus::Idle),
        ..SessionPatch::default()
    };
    store.update("agent-1", patch).await.unwrap();
    f.clock.set(5_000);
    assert_eq!(store.end("agent-1").await.unwrap().rev, 3);

    f.clock.set(6_000);
    let back = store.create(chosen("agent-1", "resumed")).await.unwrap();
    assert_eq!(back.rev, 4, "one above the end's rev 3");
    assert_eq!(back.title, "resumed");
    assert_eq!(back.status, SessionStatus::Active);
    assert_eq!(back.created_at, Timestamp::from_millis(6_000));
    assert_eq!(store.get("agent-1").await.unwrap(), Some(back.clone()));
    // Created again while live: idempotent, as any chosen id.
    assert_eq!(store.create(chosen("agent-1", "x")).await.unwrap(), back);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            (1, SessionStatus::Active),
            (2, SessionStatus::Idle),
            (3, SessionStatus::Closed),
            (4, SessionStatus::Active),
        ]
    );

    // Ended again, and created again by a restarted daemon: still above.
    assert_eq!(store.end("agent-1").await.unwrap().rev, 5);
    drop(store);
    let store = f.open();
    assert_eq!(
        store.create(chosen("agent-1", "again")).await.unwrap().rev,
        6
    );
    // Other ids are not affected.
    assert_eq!(store.create(chosen("agent-2", "new")).await.unwrap().rev, 1);
}

#[tokio::test]
async fn an_end_is_forgotten_after_a_day() {
    let f = Fixture::new();
    let store = f.open();
    for id in ["old", "recent"] {
        store.create(chosen(id, "t")).await.unwrap();
    }
    store.end("old").await.unwrap();
    let day = i64::try_from(ops::ENDED_RETENTION.as_millis()).unwrap();
    f.clock.set(1_000 + day + 1);
    // Each end prunes the ends older than a day.
    store.end("recent").await.unwrap();
    let remembered: Vec<String> = {
        let conn = Connection::open(f.db()).unwrap();
        let mut stmt = conn.prepare("SELECT session_id FROM ended").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(remembered, vec!["recent".to_owned()]);
    assert_eq!(store.create(chosen("old", "t")).await.unwrap().rev, 1);
    assert_eq!(store.create(chosen("recent", "t")).await.unwrap().rev, 3);
}

#[tokio::test]
async fn a_store_of_the_first_schema_is_migrated_and_keeps_its_sessions() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.db().parent().unwrap()).unwrap();
    {
        let mut conn = Connection::open(f.db()).unwrap();
        schema::migrate_with(&mut conn, &f.db(), &schema::MIGRATIONS[..1]).unwrap();
        conn.execute_batch(
            "INSERT INTO sessions (session_id, title, agent, status, created_at, last_activity, rev)
             VALUES ('kept', 't', 'a', 'idle', 0, 0, 7);",
        )
        .unwrap();
    }
    let store = f.open();
    assert_eq!(store.get("kept").await.unwrap().unwrap().rev, 7);
    assert_eq!(store.end("kept").await.unwrap().rev, 8);
    assert_eq!(store.create(chosen("kept", "t")).await.unwrap().rev, 9);
}

//! The protocol between daemons, several in one process over the in-memory
//! transport, with paused tokio time: propagation, interest-gated push, no
//! echo, resume after a cut, restarts, offline detection, bad entries.

mod common;

use common::*;

#[tokio::test(start_paused = true)]
async fn a_session_created_on_a_reaches_a_subscriber_on_b() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    a.touch("before");
    b.cache.put_session(Session {
        session_id: "on-b".into(),
        computer: "b".into(),
        ..a.sessions_of("a")[0].clone()
    });
    let (_guard, mut rx) = b.watch(Topic::Sessions);
    until(Duration::from_secs(5), "snapshot of a on b", || {
        b.sessions_of("a").len() == 1
    })
    .await;
    let all: Vec<Session> = serde_json::from_slice(&b.cache.sessions_json(None)).unwrap();
    assert_eq!(all.len(), 2, "b holds a's and its own sessions");

    let created = a.touch("s1");
    until(Duration::from_secs(5), "session on b", || {
        b.sessions_of("a").len() == 2
    })
    .await;
    let events = events_of(&mut rx, Topic::Sessions);
    let started = events
        .iter()
        .filter(|e| e.event == EventName::SessionStarted)
        .find(|e| {
            serde_json::from_slice::<Session>(&e.data)
                .unwrap()
                .session_id
                == "s1"
        })
        .expect("session_started for s1");
    assert_eq!(&*started.computer, "a");
    assert_eq!(
        serde_json::from_slice::<Session>(&started.data).unwrap(),
        created
    );
}

#[tokio::test(start_paused = true)]
async fn with_no_subscriber_changes_append_nothing() {
    let hub = MemoryHub::new();
    let (mut a, _b) = two_online(&hub).await;
    for i in 0..1000 {
        a.touch(&format!("s{}", i % 10));
    }
    run_for(PERIOD * 3).await;
    assert_eq!(hub.appends("fleet:events:"), 0, "no events appended");
    assert_eq!(hub.appends("fleet:inbox:"), 0, "no requests either");
    assert!(hub.appends("fleet:presence") > 0, "heartbeats only");
}

#[tokio::test(start_paused = true)]
async fn push_starts_and_stops_within_a_round_trip_of_interest() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    // Just after a heartbeat, so the next one is a whole period away.
    let start = tokio::time::Instant::now();
    let (guard, _rx) = b.watch(Topic::Sessions);
    until(PERIOD / 2, "a sees b's interest", || {
        a.touch("x");
        hub.appends("fleet:events:{a}") > 0
    })
    .await;
    assert!(
        start.elapsed() < PERIOD,
        "pushing began before the next heartbeat period"
    );
    until(PERIOD / 2, "b applies a's push", || {
        b.sessions_of("a").len() == 1
    })
    .await;

    drop(guard);
    run_for(Duration::from_millis(50)).await;
    let before = hub.appends("fleet:events:{a}");
    for _ in 0..10 {
        a.touch("x");
    }
    run_for(Duration::from_millis(50)).await;
    assert_eq!(
        hub.appends("fleet:events:{a}"),
        before,
        "no push after the last watcher left"
    );
}

#[tokio::test(start_paused = true)]
async fn no_echo_each_stream_gets_exactly_its_owners_changes() {
    let hub = MemoryHub::new();
    let (mut a, mut b) = two_online(&hub).await;
    let (_ga, _ra) = a.watch(Topic::Sessions);
    let (_gb, _rb) = b.watch(Topic::Sessions);
    until(Duration::from_secs(5), "both watched", || {
        a.cache.interest_count(Topic::Sessions, "*") == 1
    })
    .await;
    run_for(Duration::from_millis(100)).await;
    let (ea, eb) = (hub.len("fleet:events:{a}"), hub.len("fleet:events:{b}"));
    for i in 0..100 {
        a.touch(&format!("a{}", i % 7));
        b.touch(&format!("b{}", i % 5));
    }
    until(Duration::from_secs(5), "caches converge", || {
        b.sessions_of("a") == a.sessions_of("a") && a.sessions_of("b") == b.sessions_of("b")
    })
    .await;
    run_for(PERIOD * 2).await;
    assert_eq!(hub.len("fleet:events:{a}") - ea, 100);
    assert_eq!(hub.len("fleet:events:{b}") - eb, 100);
    assert_eq!(b.sessions_of("a"), a.sessions_of("a"));
    assert_eq!(a.sessions_of("b"), b.sessions_of("b"));
}

#[tokio::test(start_paused = true)]
async fn a_cut_off_subscriber_gets_every_missed_change_in_order() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    let (_g, mut rx) = b.watch(Topic::Sessions);
    a.touch("s");
    until(Duration::from_secs(5), "initial", || {
        b.sessions_of("a").len() == 1
    })
    .await;
    events_of(&mut rx, Topic::Sessions);

    b.transport.cut();
    for _ in 0..50 {
        a.touch("s");
    }
    run_for(Duration::from_millis(500)).await;
    b.transport.reconnect();
    until(Duration::from_secs(10), "b catches up", || {
        b.sessions_of("a") == a.sessions_of("a")
    })
    .await;
    let revs: Vec<u64> = events_of(&mut rx, Topic::Sessions)
        .iter()
        .filter_map(|e| e.rev)
        .collect();
    assert_eq!(
        revs,
        (2..=51).collect::<Vec<u64>>(),
        "all 50, in order, none twice"
    );
}

#[tokio::test(start_paused = true)]
async fn a_trimmed_gap_is_healed_by_a_snapshot() {
    logs();
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    let (_g, _rx) = b.watch(Topic::Sessions);
    a.touch("s");
    until(Duration::from_secs(5), "initial", || {
        b.sessions_of("a").len() == 1
    })
    .await;
    b.transport.cut();
    for i in 0..50 {
        a.touch(&format!("t{i}"));
    }
    run_for(Duration::from_millis(100)).await;
    hub.trim("fleet:events:{a}", 5);
    b.transport.reconnect();
    until(Duration::from_secs(10), "b converges by snapshot", || {
        b.sessions_of("a") == a.sessions_of("a")
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_restarted_subscriber_resumes_by_snapshot_with_nothing_stale() {
    let hub = MemoryHub::new();
    let (mut a, mut b) = two_online(&hub).await;
    for i in 0..5 {
        a.touch(&format!("s{i}"));
    }
    {
        let (_g, _rx) = b.watch(Topic::Sessions);
        until(Duration::from_secs(5), "initial", || {
            b.sessions_of("a").len() == 5
        })
        .await;
    }
    b.stop().await;
    // While b is away, a closes two sessions and changes one.
    a.cache.close_session("a", "s0", 10);
    a.cache.close_session("a", "s1", 10);
    a.touch("s2");
    let b2 = Node::start(&hub, "b");
    let (_g, _rx) = b2.watch(Topic::Sessions);
    until(Duration::from_secs(10), "b2 converges", || {
        b2.sessions_of("a") == a.sessions_of("a")
    })
    .await;
    assert_eq!(b2.sessions_of("a").len(), 3);
    assert!(b2.sessions_of("a").iter().all(|s| !s.stale));
}

#[tokio::test(start_paused = true)]
async fn a_crashed_peer_goes_offline_after_three_periods_and_is_forgotten() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    let (_g, _rx) = b.watch(Topic::Sessions);
    a.touch("s");
    until(Duration::from_secs(5), "initial", || {
        b.sessions_of("a").len() == 1
    })
    .await;
    tokio::spawn(b.cache.clone().run_sweeper(
        Duration::from_millis(100),
        tokio_util::sync::CancellationToken::new(),
    ));
    a.transport.cut(); // a crash, as the fleet sees it: silence, no leave
    let cut_at = tokio::time::Instant::now();
    let took = until(PERIOD * 5, "a offline on b", || b.cache.online_peers() == 0).await;
    assert!(
        took >= PERIOD * 2,
        "not before 3 periods since the last heartbeat ({took:?})"
    );
    assert!(b.sessions_of("a")[0].stale, "kept, marked stale");
    until(Duration::from_secs(11 * 60), "forgotten", || {
        b.sessions_of("a").is_empty()
    })
    .await;
    assert!(cut_at.elapsed() >= Duration::from_secs(600));
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_leaves_is_offline_at_once() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    a.stop().await;
    let took = until(PERIOD, "offline on leave", || b.cache.online_peers() == 0).await;
    assert!(
        took < PERIOD / 4,
        "at once, not after missed heartbeats ({took:?})"
    );
}

#[tokio::test(start_paused = true)]
async fn one_of_two_watchers_leaving_keeps_the_push_going() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    let (g1, _r1) = b.watch(Topic::Sessions);
    let (_g2, _r2) = b.watch(Topic::Sessions);
    a.touch("s");
    until(Duration::from_secs(5), "initial", || {
        b.sessions_of("a").len() == 1
    })
    .await;
    drop(g1);
    run_for(PERIOD * 2).await;
    let s = a.touch("s");
    until(Duration::from_secs(5), "still pushed", || {
        b.sessions_of("a") == vec![s.clone()]
    })
    .await;
}

fn raw(env: &Envelope, secret: Option<&[u8]>) -> Vec<(String, Bytes)> {
    env.to_fields(secret)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn bad_entries_are_dropped_and_counted_and_nothing_else_is_hurt() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    let (_g, _rx) = b.watch(Topic::Sessions);
    a.touch("s");
    until(Duration::from_secs(5), "initial", || {
        b.sessions_of("a").len() == 1
    })
    .await;
    let keys = Keys::new("fleet");
    let boot_a = a.cache.epoch().to_owned();

    // A heartbeat whose body is not a heartbeat.
    hub.xadd_raw(
        &keys.presence(),
        raw(
            &Envelope::new(Kind::Heartbeat, "c", "x", &serde_json::json!({"name": 5})),
            None,
        ),
    );
    // Bad JSON in an event on a's stream.
    let mut bad_json = Envelope::new(Kind::Event, "a", &boot_a, &serde_json::json!({}));
    bad_json.body = Bytes::from_static(b"{not json");
    hub.xadd_raw(&keys.events("a"), raw(&bad_json, None));
    // A body over the limit.
    let mut big = Envelope::new(Kind::Event, "a", &boot_a, &serde_json::json!({}));
    big.body = Bytes::from(vec![b' '; model::wire::MAX_BODY_BYTES + 1]);
    hub.xadd_raw(&keys.events("a"), raw(&big, None));
    // A forged sender on a's stream.
    let forged = Envelope::new(
        Kind::Event,
        "c",
        "x",
        &serde_json::json!({"event":"session_closed","data":{"session_id":"s","computer":"a"}}),
    );
    hub.xadd_raw(&keys.events("a"), raw(&forged, None));

    until(Duration::from_secs(5), "all counted", || {
        b.dropped("bad_body") >= 2 && b.dropped("too_large") == 1 && b.dropped("forged_from") == 1
    })
    .await;
    let s = a.touch("s");
    until(Duration::from_secs(5), "still flowing", || {
        b.sessions_of("a") == vec![s.clone()]
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn with_a_secret_unsigned_entries_are_dropped() {
    let hub = MemoryHub::new();
    let secret: &[u8] = b"fleet secret";
    let mut a = Node::start_with(&hub, "a", config(Some(secret)));
    let b = Node::start_with(&hub, "b", config(Some(secret)));
    until(Duration::from_secs(5), "signed peers meet", || {
        b.cache.online_peers() == 1
    })
    .await;
    let (_g, _rx) = b.watch(Topic::Sessions);
    a.touch("s");
    until(Duration::from_secs(5), "signed push", || {
        b.sessions_of("a").len() == 1
    })
    .await;
    let keys = Keys::new("fleet");
    hub.xadd_raw(
        &keys.presence(),
        raw(
            &Envelope::new(Kind::Leave, "a", a.cache.epoch(), &serde_json::json!({})),
            None,
        ),
    );
    until(Duration::from_secs(5), "unsigned dropped", || {
        b.dropped("unsigned") == 1
    })
    .await;
    assert_eq!(
        b.cache.online_peers(),
        1,
        "the unsigned leave changed nothing"
    );
}

#[tokio::test(start_paused = true)]
async fn a_store_replaced_by_an_empty_one_is_re_announced_and_re_snapshotted() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    let (_g, _rx) = b.watch(Topic::Sessions);
    for i in 0..5 {
        a.touch(&format!("s{i}"));
    }
    until(Duration::from_secs(5), "initial", || {
        b.sessions_of("a").len() == 5
    })
    .await;
    hub.restart();
    assert!(hub.streams().is_empty(), "everything gone");
    until(Duration::from_secs(5), "re-announced", || {
        hub.len("fleet:presence") >= 2
    })
    .await;
    a.cache.close_session("a", "s0", 10);
    for i in 5..8 {
        a.touch(&format!("s{i}"));
    }
    until(Duration::from_secs(10), "caches converge", || {
        b.sessions_of("a") == a.sessions_of("a")
    })
    .await;
    assert_eq!(b.cache.online_peers(), 1);
}

#[tokio::test(start_paused = true)]
async fn refresh_pulls_a_snapshot_without_any_watcher() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    for i in 0..3 {
        a.touch(&format!("s{i}"));
    }
    assert!(
        b.sessions_of("a").is_empty(),
        "nothing pushed: nobody watches"
    );
    let sync = b.sync.as_ref().unwrap();
    sync.refresh(Some("a"), vec![Topic::Sessions]).await;
    until(Duration::from_secs(5), "refreshed", || {
        b.sessions_of("a").len() == 3
    })
    .await;
    assert_eq!(b.sessions_of("a"), a.sessions_of("a"));
}

#[tokio::test(start_paused = true)]
async fn a_topic_watched_later_is_pulled_too() {
    let hub = MemoryHub::new();
    let (a, b) = two_online(&hub).await;
    let project = model::Project {
        computer: "a".into(),
        name: "p".into(),
        path: "/p".into(),
        description: None,
    };
    a.cache.set_projects("a", vec![project.clone()]);
    let (_gs, _rs) = b.watch(Topic::Sessions);
    run_for(Duration::from_millis(200)).await;
    assert_eq!(
        &b.cache.projects_json(Some("a"))[..],
        b"[]",
        "not watched yet"
    );
    let (_gp, _rp) = b.watch(Topic::Preparation);
    until(Duration::from_secs(5), "projects pulled", || {
        serde_json::from_slice::<Vec<model::Project>>(&b.cache.projects_json(Some("a"))).unwrap()
            == vec![project.clone()]
    })
    .await;
}

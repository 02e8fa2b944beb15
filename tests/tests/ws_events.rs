//! WebSocket session feed (PROTOCOL.md section 4): a `sessions` snapshot holds the
//! sessions created before subscribing, then every REST write arrives as one event
//! (`session_started`, `session_updated`, `session_closed`) with the daemon's boot id as
//! `epoch` and `seq` growing by one; and a client gets only the topics and computers it
//! subscribed to.

mod common;

use common::{
    PATIENCE, QUIET_WINDOW, create_session, create_titled, delete_session, expect_event, id_of,
    patch_session, seq_of, subscribe_with,
};
use fleet_tests::{DaemonFixture, StatusCode, json};
use futures_util::future::join_all;

#[tokio::test]
async fn rest_writes_arrive_as_session_events() {
    let daemon = DaemonFixture::builder().start().await;
    let boot_id = daemon.health().await["boot_id"].clone();
    let before = create_session(&daemon, &json!({"title": "before", "agent": "claude"})).await;

    let mut ws = daemon.ws().await;
    let snapshot = ws.subscribe("sessions").await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    assert_eq!(snapshot["topic"], "sessions", "{snapshot}");
    assert_eq!(
        snapshot["epoch"], boot_id,
        "epoch is the boot id: {snapshot}"
    );
    assert_eq!(
        snapshot["data"],
        json!({"sessions": [before]}),
        "the snapshot holds this computer's sessions"
    );
    let mut seq = seq_of(&snapshot);

    let started = create_session(&daemon, &json!({"title": "during", "status": "idle"})).await;
    let id = id_of(&started);
    seq += 1;
    let event = expect_event(&mut ws, "sessions", "session_started", seq).await;
    assert_eq!(event["epoch"], boot_id, "{event}");
    assert_eq!(
        event["data"], started,
        "the event carries the created session"
    );

    let updated = patch_session(&daemon, &id, &json!({"last_input": "hello"})).await;
    seq += 1;
    let event = expect_event(&mut ws, "sessions", "session_updated", seq).await;
    assert_eq!(event["epoch"], boot_id, "{event}");
    assert_eq!(event["data"], updated, "the event carries the new state");
    assert_eq!(
        event["data"]["rev"].as_u64(),
        started["rev"].as_u64().map(|r| r + 1),
        "rev + 1: {event}"
    );

    // A second change of the same session is one more event, not a repeat.
    let updated_again = patch_session(&daemon, &id, &json!({"status": "waiting"})).await;
    seq += 1;
    let event = expect_event(&mut ws, "sessions", "session_updated", seq).await;
    assert_eq!(event["data"], updated_again);
    assert_eq!(
        event["data"]["rev"].as_u64(),
        updated["rev"].as_u64().map(|r| r + 1),
        "rev + 1: {event}"
    );

    delete_session(&daemon, &id).await;
    seq += 1;
    let event = expect_event(&mut ws, "sessions", "session_closed", seq).await;
    assert_eq!(event["epoch"], boot_id, "{event}");
    assert_eq!(
        event["data"],
        json!({"session_id": id, "computer": daemon.computer()}),
        "session_closed carries the id and computer"
    );

    // Each change was sent once.
    ws.expect_no_message(QUIET_WINDOW).await;
}

#[tokio::test]
async fn a_preparation_subscriber_gets_no_session_events() {
    let daemon = DaemonFixture::builder().start().await;
    let mut sessions = daemon.ws().await;
    sessions.subscribe("sessions").await;
    let mut preparation = daemon.ws().await;
    let snapshot = preparation.subscribe("preparation").await;
    assert_eq!(
        snapshot["data"],
        json!({"projects": [], "todos": []}),
        "no projects configured: {snapshot}"
    );

    let session = create_titled(&daemon, "not for preparation").await;
    let id = id_of(&session);
    patch_session(&daemon, &id, &json!({"title": "still not"})).await;
    delete_session(&daemon, &id).await;

    // Positive control: the events were published.
    for name in ["session_started", "session_updated", "session_closed"] {
        sessions.next_event_named(name, PATIENCE).await;
    }
    preparation.expect_no_message(QUIET_WINDOW).await;
}

#[tokio::test]
async fn a_client_narrowed_to_another_computer_gets_nothing_of_this_one() {
    let daemon = DaemonFixture::builder().start().await;
    let existing = create_titled(&daemon, "existing").await;

    let mut all = daemon.ws().await;
    let snapshot = all.subscribe("sessions").await;
    assert_eq!(snapshot["data"]["sessions"], json!([existing]));

    let mut narrowed = daemon.ws().await;
    let snapshot = subscribe_with(
        &mut narrowed,
        &json!({"op": "subscribe", "topic": "sessions", "computers": ["x"]}),
    )
    .await;
    assert_eq!(
        snapshot["data"],
        json!({"sessions": []}),
        "the snapshot holds only computer x's sessions: {snapshot}"
    );

    // Narrowed to this computer: the same session is there.
    let mut own = daemon.ws().await;
    let snapshot = subscribe_with(
        &mut own,
        &json!({"op": "subscribe", "topic": "sessions", "computers": [daemon.computer()]}),
    )
    .await;
    assert_eq!(snapshot["data"]["sessions"], json!([existing]));

    let created = create_titled(&daemon, "new").await;
    patch_session(&daemon, &id_of(&existing), &json!({"status": "idle"})).await;
    delete_session(&daemon, &id_of(&created)).await;

    // Positive controls: both other clients saw all three changes.
    for client in [&mut all, &mut own] {
        for name in ["session_started", "session_updated", "session_closed"] {
            client.next_event_named(name, PATIENCE).await;
        }
    }
    narrowed.expect_no_message(QUIET_WINDOW).await;
}

/// Concurrent PATCHes of one session: each answered change (a distinct `rev`) is one
/// `session_updated` event, in `rev` order, none lost to the race between writers.
#[tokio::test]
async fn concurrent_writes_of_one_session_are_each_published() {
    const WRITERS: usize = 8;
    const PER_WRITER: usize = 25;
    let daemon = DaemonFixture::builder().start().await;
    let session = create_titled(&daemon, "contended").await;
    let id = id_of(&session);
    let first_rev = session["rev"].as_u64().expect("rev");
    let mut ws = daemon.ws().await;
    let snapshot = ws.subscribe("sessions").await;

    let path = format!("/v1/sessions/{id}");
    let writers = (0..WRITERS).map(|w| {
        let (daemon, path) = (&daemon, path.as_str());
        async move {
            let mut revs = Vec::new();
            for n in 0..PER_WRITER {
                let body = json!({ "last_output": format!("writer {w} change {n}") });
                let (status, answer) = daemon.http_patch_json(path, &body).await;
                assert_eq!(status, StatusCode::OK, "{answer}");
                revs.push(answer["rev"].as_u64().expect("rev"));
            }
            revs
        }
    });
    let mut answered: Vec<u64> = join_all(writers).await.concat();
    answered.sort_unstable();
    let total = WRITERS * PER_WRITER;
    let expected: Vec<u64> = (first_rev + 1..=first_rev + total as u64).collect();
    assert_eq!(answered, expected, "each PATCH answered its own rev");

    let mut seq = seq_of(&snapshot);
    let mut published = Vec::new();
    for _ in 0..total {
        let frame = ws
            .next_matching(PATIENCE, "the next session_updated", |v| {
                v["type"] == "event" && v["event"] == "session_updated"
            })
            .await;
        seq += 1;
        assert_eq!(seq_of(&frame), seq, "seq grows by one: {frame}");
        let rev = frame["data"]["rev"].as_u64().expect("rev");
        published.push(rev);
        if rev == first_rev + total as u64 {
            break;
        }
    }
    assert_eq!(
        published, expected,
        "every answered change reaches subscribers, in rev order"
    );
}

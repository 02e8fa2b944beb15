//! Resuming a WebSocket subscription with `since` (PROTOCOL.md section 4): from a point
//! the daemon can serve, exactly the missed events are replayed, in order and without a
//! snapshot; from a point it can't (older than the replay ring, another boot, the
//! future), the answer is a snapshot; and a resume that missed more than the 1 MiB queue
//! holds still catches up.

mod common;

use common::{
    PATIENCE, QUIET_WINDOW, create_titled, delete_session, expect_event, id_of, metric,
    patch_session, seq_of,
};
use fleet_tests::{DaemonFixture, StatusCode, Value, WsClient, assert_eventually, json};
use futures_util::future::join_all;

/// Changes made while the resuming client is away in the ring test: more than the
/// replay ring holds (4096).
const MANY_CHANGES: usize = 4200;

/// Concurrent writers making them.
const WRITERS: usize = 8;

/// Subscribes to sessions with `since` and returns the first frame that answers.
async fn resume(ws: &mut WsClient, epoch: &Value, seq: u64) -> Value {
    ws.send_json(&json!({
        "op": "subscribe",
        "topic": "sessions",
        "since": {"epoch": epoch, "seq": seq},
    }))
    .await;
    ws.recv_json(PATIENCE).await
}

/// Subscribes, reads the snapshot and leaves; the snapshot's epoch and seq.
async fn subscribe_and_leave(daemon: &DaemonFixture) -> (Value, u64) {
    let mut ws = daemon.ws().await;
    let snapshot = ws.subscribe("sessions").await;
    ws.close().await;
    (snapshot["epoch"].clone(), seq_of(&snapshot))
}

#[tokio::test]
async fn since_replays_exactly_the_missed_events() {
    let daemon = DaemonFixture::builder().start().await;
    let existing = create_titled(&daemon, "existing").await;
    let existing_id = id_of(&existing);

    // A witness stays subscribed the whole time: it sees the live events the resuming
    // client missed, and keeps interest steady so that nothing else is published.
    let mut witness = daemon.ws().await;
    witness.subscribe("sessions").await;

    let (epoch, seq) = subscribe_and_leave(&daemon).await;
    assert_eventually!(
        metric(&daemon, "fleet_ws_clients").await,
        |v| *v == Some(1.0),
        timeout = PATIENCE,
    );

    // Ten changes while the client is away.
    let added = create_titled(&daemon, "added").await;
    let added_id = id_of(&added);
    for n in 0..4 {
        patch_session(
            &daemon,
            &existing_id,
            &json!({"last_output": format!("out {n}")}),
        )
        .await;
    }
    for n in 0..3 {
        patch_session(
            &daemon,
            &added_id,
            &json!({"last_input": format!("in {n}")}),
        )
        .await;
    }
    delete_session(&daemon, &added_id).await;
    patch_session(&daemon, &existing_id, &json!({"status": "idle"})).await;
    let mut names = vec!["session_started"];
    names.extend(["session_updated"; 7]);
    names.extend(["session_closed", "session_updated"]);

    let mut missed = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let next = seq + 1 + u64::try_from(n).expect("small");
        missed.push(expect_event(&mut witness, "sessions", name, next).await);
    }

    let mut resumed = daemon.ws().await;
    let first = resume(&mut resumed, &epoch, seq).await;
    assert_eq!(
        first["type"], "event",
        "a servable since is answered with a replay, not a snapshot: {first}"
    );
    let mut replayed = vec![first];
    for _ in 1..names.len() {
        replayed.push(resumed.recv_json(PATIENCE).await);
    }
    assert_eq!(
        replayed, missed,
        "the replay is exactly the missed events, in order"
    );
    resumed.expect_no_message(QUIET_WINDOW).await;

    // Live events follow the replay without a gap or a repeat.
    let last = patch_session(&daemon, &existing_id, &json!({"status": "active"})).await;
    let next = seq + 1 + u64::try_from(names.len()).expect("small");
    let event = expect_event(&mut resumed, "sessions", "session_updated", next).await;
    assert_eq!(event["data"], last);
}

/// Creates one session per writer and makes `total` changes, each writer patching its
/// own session (so that every change is published: see `ws_events.rs` on concurrent
/// writes of one session) with a `last_output` of `output_len` bytes. The sessions as
/// `GET /v1/sessions` lists them afterwards.
async fn make_changes(daemon: &DaemonFixture, total: usize, output_len: usize) -> Value {
    let mut paths = Vec::new();
    for w in 0..WRITERS {
        let id = id_of(&create_titled(daemon, &format!("busy {w}")).await);
        paths.push(format!("/v1/sessions/{id}"));
    }
    let writers = paths.iter().enumerate().map(|(w, path)| async move {
        for n in (w..total).step_by(WRITERS) {
            let output = format!("{n:06}{}", "o".repeat(output_len.saturating_sub(6)));
            let body = json!({ "last_output": output }).to_string();
            let (status, _, answer) = daemon
                .request("PATCH", path, &[("content-type", "application/json")], body)
                .await;
            assert_eq!(status, StatusCode::OK, "PATCH {n}: {answer:?}");
        }
    });
    join_all(writers).await;
    let (status, sessions) = daemon.http_get("/v1/sessions").await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    let revs: u64 = sessions
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| s["rev"].as_u64().expect("rev") - 1)
        .sum();
    assert_eq!(revs, total as u64, "every change was made: {sessions}");
    sessions
}

#[tokio::test]
async fn since_older_than_the_replay_ring_gets_a_snapshot() {
    let daemon = DaemonFixture::builder().start().await;
    let (epoch, seq) = subscribe_and_leave(&daemon).await;
    let sessions = make_changes(&daemon, MANY_CHANGES, 16).await;

    for since in [seq, 0] {
        let mut ws = daemon.ws().await;
        let frame = resume(&mut ws, &epoch, since).await;
        assert_eq!(
            frame["type"], "snapshot",
            "since seq {since} is older than the replay ring: a snapshot, got {frame}"
        );
        assert_eq!(frame["epoch"], epoch, "{frame}");
        assert!(
            seq_of(&frame) >= seq + MANY_CHANGES as u64,
            "the snapshot is at the latest seq: {frame}"
        );
        assert_eq!(frame["data"], json!({ "sessions": sessions }), "{frame}");
        ws.expect_no_message(QUIET_WINDOW).await;
    }
}

/// After a 4008 a client "resumes with since" (PROTOCOL.md section 4). When what it
/// missed is more than the 1 MiB queue holds, that resume must still succeed (a complete
/// replay or a snapshot), not be closed with 4008 again: else it can never catch up.
#[tokio::test]
async fn a_resume_whose_replay_exceeds_the_queue_limit_still_succeeds() {
    let daemon = DaemonFixture::builder().start().await;
    let (epoch, seq) = subscribe_and_leave(&daemon).await;
    // About 1.6 MB of events, all still in the replay ring (4096).
    let changes = 1600;
    make_changes(&daemon, changes, 600).await;
    let (_, health) = daemon.http_get("/v1/health").await;
    assert_eq!(health["boot_id"], epoch);

    let mut ws = daemon.ws().await;
    ws.send_json(&json!({
        "op": "subscribe",
        "topic": "sessions",
        "since": {"epoch": epoch, "seq": seq},
    }))
    .await;
    // Read as fast as possible until caught up: a snapshot, or the last missed event.
    let mut replayed = 0_usize;
    loop {
        let frame = ws.recv_json(PATIENCE).await;
        if frame["type"] == "snapshot" {
            break;
        }
        assert_eq!(frame["type"], "event", "{frame}");
        replayed += 1;
        // The writers' session_started events, then every change.
        if replayed == WRITERS + changes {
            break;
        }
    }
    // Caught up and live.
    let session = create_titled(&daemon, "after catching up").await;
    let event = ws.next_event_named("session_started", PATIENCE).await;
    assert_eq!(event["data"], session);
}

#[tokio::test]
async fn since_of_another_boot_or_the_future_gets_a_snapshot() {
    let mut daemon = DaemonFixture::builder().start().await;
    let session = create_titled(&daemon, "s").await;
    let id = id_of(&session);
    let (epoch, seq) = subscribe_and_leave(&daemon).await;
    patch_session(&daemon, &id, &json!({"last_input": "one"})).await;
    let current = patch_session(&daemon, &id, &json!({"last_input": "two"})).await;

    for (since_epoch, since_seq, why) in [
        (json!("not-this-boot"), seq, "another epoch"),
        (epoch.clone(), seq + 1_000_000, "a seq from the future"),
    ] {
        let mut ws = daemon.ws().await;
        let frame = resume(&mut ws, &since_epoch, since_seq).await;
        assert_eq!(frame["type"], "snapshot", "{why}: {frame}");
        assert_eq!(frame["epoch"], epoch, "{why}: {frame}");
        assert_eq!(frame["data"], json!({"sessions": [current]}), "{why}");
        ws.expect_no_message(QUIET_WINDOW).await;
    }

    // After a restart the old epoch is another boot's.
    daemon.restart().await;
    let boot_id = daemon.health().await["boot_id"].clone();
    assert_ne!(boot_id, epoch, "the boot id changes at every start");
    let mut ws = daemon.ws().await;
    let frame = resume(&mut ws, &epoch, seq).await;
    assert_eq!(
        frame["type"], "snapshot",
        "resume across a restart: {frame}"
    );
    assert_eq!(frame["epoch"], boot_id, "{frame}");
    assert_eq!(frame["data"], json!({"sessions": [current]}));
}

//! The daemon's life (PROTOCOL.md sections 1 and 3): session writes are durable before
//! they are answered, so they survive a SIGKILL; SIGTERM and SIGINT stop it cleanly
//! (exit 0, WebSocket clients get close 1001, the socket file is removed); a bad
//! configuration is refused with exit code 2.

mod common;

use std::time::Duration;

use common::{PATIENCE, create_session, create_titled, delete_session, id_of, patch_session};
use fleet_tests::{CloseCode, DaemonFixture, StatusCode, TERMINATE_TIMEOUT, json};
use rustix::process::{Pid, Signal, kill_process};

#[tokio::test]
async fn sessions_survive_a_sigkill() {
    let mut daemon = DaemonFixture::builder().start().await;
    let boot_id = daemon.health().await["boot_id"].clone();
    let kept = create_session(
        &daemon,
        &json!({"title": "kept", "project_path": "/p", "agent": "claude"}),
    )
    .await;
    let kept_id = id_of(&kept);
    patch_session(&daemon, &kept_id, &json!({"last_input": "one"})).await;
    let kept = patch_session(&daemon, &kept_id, &json!({"last_output": "two"})).await;
    let other = create_titled(&daemon, "other").await;
    let ended = create_titled(&daemon, "ended").await;
    delete_session(&daemon, &id_of(&ended)).await;

    // No graceful stop: whatever was answered must already be in the store.
    daemon.kill();
    daemon.restart().await;

    let health = daemon.health().await;
    assert_ne!(health["boot_id"], boot_id, "a new boot id after restart");
    let (status, got) = daemon.http_get(&format!("/v1/sessions/{kept_id}")).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, kept, "same session, same rev, after SIGKILL");
    let (status, got) = daemon
        .http_get(&format!("/v1/sessions/{}", id_of(&other)))
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, other);
    let (status, got) = daemon
        .http_get(&format!("/v1/sessions/{}", id_of(&ended)))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an ended session stays gone: {got}"
    );
    let (_, list) = daemon.http_get("/v1/sessions").await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");

    // Revisions go on from where they were.
    let next = patch_session(&daemon, &kept_id, &json!({"status": "idle"})).await;
    assert_eq!(next["rev"].as_u64(), kept["rev"].as_u64().map(|r| r + 1));
}

#[tokio::test]
async fn sigterm_stops_cleanly() {
    let mut daemon = DaemonFixture::builder().start().await;
    let session = create_titled(&daemon, "before stop").await;
    let mut subscribed = daemon.ws().await;
    subscribed.subscribe("sessions").await;
    let mut idle = daemon.ws().await;
    let socket = daemon.socket_path().to_owned();
    assert!(socket.exists());

    let status = daemon.terminate().await;
    assert_eq!(
        status.code(),
        Some(0),
        "a clean stop exits 0\n{}",
        daemon.log_tail(40)
    );
    for (what, ws) in [("subscribed", &mut subscribed), ("idle", &mut idle)] {
        let close = ws
            .recv_close(PATIENCE)
            .await
            .unwrap_or_else(|| panic!("the {what} client got no close frame"));
        assert_eq!(
            close.code,
            CloseCode::Away,
            "{what} client: close 1001, got {close:?}"
        );
    }
    assert!(!socket.exists(), "the socket file is removed at stop");

    // A graceful stop keeps the data too.
    daemon.restart().await;
    let (status, got) = daemon
        .http_get(&format!("/v1/sessions/{}", id_of(&session)))
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, session);
}

#[tokio::test]
async fn sigint_stops_cleanly() {
    let mut daemon = DaemonFixture::builder().start().await;
    let mut ws = daemon.ws().await;
    ws.subscribe("sessions").await;
    let pid = daemon
        .pid()
        .and_then(|pid| Pid::from_raw(i32::try_from(pid).ok()?))
        .expect("a running daemon has a pid");
    kill_process(pid, Signal::INT).expect("send SIGINT");
    let status = daemon.wait_for_exit(TERMINATE_TIMEOUT).await;
    assert_eq!(status.code(), Some(0), "SIGINT is a clean stop too");
    let close = ws.recv_close(PATIENCE).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Away, "{close:?}");
    assert!(!daemon.socket_path().exists(), "the socket file is removed");
}

#[tokio::test]
async fn a_bad_computer_name_is_refused_with_exit_2() {
    let mut daemon = DaemonFixture::builder().computer("not a name!").spawn();
    let status = daemon.wait_for_exit(Duration::from_secs(15)).await;
    let logs = daemon.logs();
    assert_eq!(status.code(), Some(2), "bad configuration\n{logs}");
    assert!(
        logs.contains("--computer"),
        "the message names the flag:\n{logs}"
    );
}

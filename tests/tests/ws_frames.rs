//! Frames the WebSocket server can't take (PROTOCOL.md section 4): each is answered by
//! `{"type":"error","code":..,"message":..}` and the connection stays open and working.

mod common;

use common::{PATIENCE, create_titled};
use fleet_tests::{DaemonFixture, Message, Value, WsClient};

/// The next frame, asserting it is an error frame with `code`.
async fn expect_error(ws: &mut WsClient, code: &str, sent: &str) -> Value {
    let frame = ws.recv_json(PATIENCE).await;
    assert_eq!(frame["type"], "error", "answer to {sent}: {frame}");
    assert_eq!(frame["code"], code, "answer to {sent}: {frame}");
    assert!(
        frame["message"].as_str().is_some_and(|m| !m.is_empty()),
        "an error frame has a message: {frame}"
    );
    frame
}

/// Subscribing still works: a snapshot of the sessions, holding `title`.
async fn still_works(ws: &mut WsClient, title: &str) {
    let snapshot = ws.subscribe("sessions").await;
    let sessions = snapshot["data"]["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("no sessions in {snapshot}"));
    assert!(
        sessions.iter().any(|s| s["title"] == title),
        "the snapshot holds {title:?}: {snapshot}"
    );
}

#[tokio::test]
async fn bad_frames_are_answered_and_the_connection_stays_open() {
    let daemon = DaemonFixture::builder().start().await;
    create_titled(&daemon, "present").await;
    let mut ws = daemon.ws().await;

    let cases: [(Message, &str); 7] = [
        (Message::text("{not json"), "bad_json"),
        (Message::text(""), "bad_json"),
        (Message::text(r#"{"op":"dance"}"#), "unknown_op"),
        (
            Message::binary(b"{\"op\":\"subscribe\"}".to_vec()),
            "bad_frame",
        ),
        (Message::text("[1,2]"), "bad_frame"),
        (
            Message::text(r#"{"op":"subscribe","topic":"weather"}"#),
            "bad_field",
        ),
        (
            Message::text(r#"{"op":"subscribe","topic":"sessions","computers":["no spaces"]}"#),
            "bad_field",
        ),
    ];
    for (frame, code) in cases {
        let sent = format!("{frame:?}");
        ws.send_raw(frame).await;
        expect_error(&mut ws, code, &sent).await;
        still_works(&mut ws, "present").await;
    }

    // Still subscribed after all that: live events flow.
    let session = create_titled(&daemon, "later").await;
    let event = ws.next_event_named("session_started", PATIENCE).await;
    assert_eq!(event["data"], session);
}

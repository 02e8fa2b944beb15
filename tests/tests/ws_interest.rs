//! Interest (PROTOCOL.md section 4): while a local client subscribes to a topic, this
//! computer's `interest` (first entry of `GET /v1/computers`) says so; it is held as long
//! as any such client stays, and dropped at once when the last one leaves. A client that
//! leaves never disturbs the others' feed.

mod common;

use common::{
    PATIENCE, QUIET_WINDOW, create_titled, delete_session, expect_event, id_of, interested_in,
    metric, own_interest, patch_session, seq_of,
};
use fleet_tests::{DaemonFixture, assert_eventually, json};

#[tokio::test]
async fn interest_lasts_while_any_subscriber_stays() {
    let daemon = DaemonFixture::builder().start().await;
    let interest = own_interest(&daemon).await;
    assert!(
        !interested_in(&interest, "sessions"),
        "no subscriber, no interest: {interest}"
    );

    let mut leaving = daemon.ws().await;
    leaving.subscribe("sessions").await;
    let mut staying = daemon.ws().await;
    let snapshot = staying.subscribe("sessions").await;
    assert_eventually!(
        own_interest(&daemon).await,
        |i| i["sessions"] == json!(["*"]),
        timeout = PATIENCE,
    );

    leaving.close().await;
    assert_eventually!(
        metric(&daemon, "fleet_ws_clients").await,
        |v| *v == Some(1.0),
        timeout = PATIENCE,
    );
    let interest = own_interest(&daemon).await;
    assert_eq!(
        interest["sessions"],
        json!(["*"]),
        "one subscriber is left, so interest is held: {interest}"
    );

    // The remaining client still gets every event.
    let mut seq = seq_of(&snapshot);
    let session = create_titled(&daemon, "after the leave").await;
    let id = id_of(&session);
    seq += 1;
    let event = expect_event(&mut staying, "sessions", "session_started", seq).await;
    assert_eq!(event["data"], session);
    let patched = patch_session(&daemon, &id, &json!({"last_output": "ok"})).await;
    seq += 1;
    let event = expect_event(&mut staying, "sessions", "session_updated", seq).await;
    assert_eq!(event["data"], patched);
    delete_session(&daemon, &id).await;
    seq += 1;
    expect_event(&mut staying, "sessions", "session_closed", seq).await;
    staying.expect_no_message(QUIET_WINDOW).await;
    assert_eq!(own_interest(&daemon).await["sessions"], json!(["*"]));

    staying.close().await;
    assert_eventually!(
        own_interest(&daemon).await,
        |i| !interested_in(i, "sessions"),
        timeout = PATIENCE,
    );
}

#[tokio::test]
async fn unsubscribe_drops_interest_on_an_open_connection() {
    let daemon = DaemonFixture::builder().start().await;
    let mut ws = daemon.ws().await;
    ws.subscribe("sessions").await;
    assert_eventually!(
        own_interest(&daemon).await,
        |i| i["sessions"] == json!(["*"]),
        timeout = PATIENCE,
    );
    ws.send_json(&json!({"op": "unsubscribe", "topic": "sessions"}))
        .await;
    assert_eventually!(
        own_interest(&daemon).await,
        |i| !interested_in(i, "sessions"),
        timeout = PATIENCE,
    );
    // And no more session events reach it.
    let mut control = daemon.ws().await;
    control.subscribe("sessions").await;
    create_titled(&daemon, "unwatched").await;
    control.next_event_named("session_started", PATIENCE).await;
    ws.expect_no_message(QUIET_WINDOW).await;
}

#[tokio::test]
async fn a_computers_subscriber_sees_interest_change() {
    let daemon = DaemonFixture::builder().start().await;
    let mut watcher = daemon.ws().await;
    let snapshot = watcher.subscribe("computers").await;
    let computers = snapshot["data"]["computers"]
        .as_array()
        .unwrap_or_else(|| panic!("no computers in {snapshot}"));
    assert_eq!(computers.len(), 1, "{snapshot}");
    assert_eq!(computers[0]["name"], daemon.computer(), "{snapshot}");
    assert_eq!(computers[0]["self"], true, "{snapshot}");

    let mut subscriber = daemon.ws().await;
    subscriber.subscribe("sessions").await;
    let event = watcher
        .next_matching(PATIENCE, "a computer event with sessions interest", |v| {
            v["type"] == "event"
                && v["topic"] == "computers"
                && v["data"]["name"] == daemon.computer()
                && v["data"]["interest"]["sessions"] == json!(["*"])
        })
        .await;
    assert_eq!(event["event"], "computer_updated", "{event}");

    subscriber.close().await;
    watcher
        .next_matching(
            PATIENCE,
            "a computer event without sessions interest",
            |v| {
                v["type"] == "event"
                    && v["topic"] == "computers"
                    && !interested_in(&v["data"]["interest"], "sessions")
            },
        )
        .await;
}

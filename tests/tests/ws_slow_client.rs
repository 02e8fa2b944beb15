//! A WebSocket client that stops reading (PROTOCOL.md section 4): once its queue passes
//! 1 MiB it is closed with code 4008, while a client that keeps reading receives every
//! event.

mod common;

use common::{PATIENCE, create_titled, expect_event, id_of, patch_session, seq_of};
use fleet_tests::{CloseCode, DaemonFixture, Message, Value, assert_eventually, json};
use futures_util::StreamExt as _;
use tokio::time::Instant;

/// Size of each change's `last_output`: 60 KiB (under the 64 KiB field limit).
const OUTPUT_BYTES: usize = 60 * 1024;

/// Changes made while the slow client does not read: about 2.9 MB of events, well past
/// the 1 MiB queue limit plus what the socket buffers hold.
const CHANGES: usize = 48;

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_with_4008() {
    let daemon = DaemonFixture::builder().start().await;
    let id = id_of(&create_titled(&daemon, "chatty").await);

    // The slow client subscribes and then never reads until the end.
    let mut slow = daemon.ws().await;
    slow.send_json(&json!({"op": "subscribe", "topic": "sessions"}))
        .await;
    assert_eventually!(
        common::own_interest(&daemon).await,
        |i| i["sessions"] == json!(["*"]),
        timeout = PATIENCE,
    );

    let mut fast = daemon.ws().await;
    let snapshot = fast.subscribe("sessions").await;
    let mut seq = seq_of(&snapshot);
    let mut rev = snapshot["data"]["sessions"][0]["rev"]
        .as_u64()
        .unwrap_or_else(|| panic!("no session rev in {snapshot}"));

    for n in 0..CHANGES {
        let output = format!("{n:04}{}", "o".repeat(OUTPUT_BYTES - 4));
        patch_session(&daemon, &id, &json!({"last_output": output})).await;
        seq += 1;
        rev += 1;
        let event = expect_event(&mut fast, "sessions", "session_updated", seq).await;
        assert_eq!(event["data"]["rev"], rev, "change {n}");
        assert!(
            event["data"]["last_output"]
                .as_str()
                .is_some_and(|o| o.starts_with(&format!("{n:04}")) && o.len() == OUTPUT_BYTES),
            "change {n} carries its output"
        );
    }

    // Now read the slow client: what reached it, then close 4008.
    let deadline = Instant::now() + PATIENCE;
    let mut frames = Vec::new();
    let close = loop {
        let next = tokio::time::timeout_at(deadline, slow.stream_mut().next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no close frame within {PATIENCE:?} ({} data frames read)",
                    frames.len()
                )
            });
        match next {
            Some(Ok(Message::Text(text))) => frames.push(
                serde_json::from_str::<Value>(text.as_str())
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
            ),
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            Some(Ok(Message::Binary(data))) => panic!("a binary frame of {} bytes", data.len()),
            Some(Err(e)) => panic!(
                "the connection failed before a close frame ({} data frames read): {e}",
                frames.len()
            ),
            None => panic!(
                "the connection ended without a close frame ({} data frames read)",
                frames.len()
            ),
        }
    };
    let close = close.expect("the close frame has a code");
    assert_eq!(
        close.code,
        CloseCode::from(4008),
        "closed for falling behind: {close:?}"
    );

    // What it did get is the snapshot and then a gap-free prefix of the events.
    let (first, events) = frames.split_first().expect("at least the snapshot");
    assert_eq!(first["type"], "snapshot", "{first}");
    assert!(
        events.len() < CHANGES,
        "the slow client was cut off before the last change ({} events)",
        events.len()
    );
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event["type"], "event", "{event}");
        assert_eq!(
            seq_of(event),
            seq_of(first) + 1 + u64::try_from(n).expect("small"),
            "no gap before the close"
        );
    }

    // The fast client is unaffected and still live.
    let patched = patch_session(&daemon, &id, &json!({"last_output": "short"})).await;
    let event = expect_event(&mut fast, "sessions", "session_updated", seq + 1).await;
    assert_eq!(event["data"], patched);
}

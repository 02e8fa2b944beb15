//! The view's reconnection against a scripted WebSocket server on a Unix socket, to see
//! the ops it sends: the first connection subscribes without `since`; after the server
//! drops it, the view comes back on its own and resumes every topic with `since` (the
//! epoch and the last seq it got), keeping its data, so that a replay of just the missed
//! events is enough. (The real daemon's side is tested in `fleet-tests`.)

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use fleet::endpoint::Endpoint;
use fleet::watch::backoff::Backoff;
use fleet::watch::io::{WatchConfig, run};
use futures_util::{SinkExt as _, StreamExt as _, stream};
use model::SystemClock;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

fn session(id: &str, title: &str) -> Value {
    json!({
        "session_id": id, "computer": "alpha", "title": title, "project_path": null,
        "agent": "claude", "thinking_mode": null, "status": "active",
        "created_at": "2026-11-27T10:00:00.000Z", "last_activity": "2026-11-27T10:00:00.000Z",
        "last_input": null, "last_output": null, "rev": 1, "stale": false
    })
}

async fn accept(listener: &UnixListener) -> WebSocketStream<tokio::net::UnixStream> {
    let (stream, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("the view connects")
        .expect("accept");
    tokio_tungstenite::accept_async(stream)
        .await
        .expect("WebSocket handshake")
}

/// The three subscribe ops of a new connection, by topic.
async fn subscriptions(ws: &mut WebSocketStream<tokio::net::UnixStream>) -> Vec<Value> {
    let mut ops = Vec::new();
    while ops.len() < 3 {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("the view subscribes")
            .expect("a frame")
            .expect("a good frame");
        if let Message::Text(text) = msg {
            let op: Value = serde_json::from_str(text.as_str()).expect("JSON op");
            assert_eq!(op["op"], "subscribe", "{op}");
            ops.push(op);
        }
    }
    ops.sort_by_key(|op| op["topic"].as_str().unwrap_or("").to_owned());
    ops
}

async fn send(ws: &mut WebSocketStream<tokio::net::UnixStream>, frame: Value) {
    ws.send(Message::text(frame.to_string()))
        .await
        .expect("send");
}

async fn wait_for(screen: &mut watch::Receiver<String>, what: &str, pred: impl Fn(&str) -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if pred(&screen.borrow_and_update()) {
                return;
            }
            screen.changed().await.expect("the view is running");
        }
    })
    .await;
    assert!(waited.is_ok(), "{what}; last screen:\n{}", *screen.borrow());
}

#[tokio::test]
async fn a_reconnection_resumes_with_since_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("fake.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let (keys, rx) = mpsc::unbounded_channel::<io::Result<Event>>();
    let input = Box::pin(stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (e, rx))
    }));
    let (screens, mut screen) = watch::channel(String::new());
    let config = WatchConfig {
        endpoint: Endpoint::Unix(Path::new(&socket).to_owned()),
        clock: Arc::new(SystemClock),
        tick: Duration::from_secs(1),
        backoff: Backoff::new(Duration::from_millis(20), Duration::from_millis(200)),
        screens: Some(screens),
    };
    let mut terminal = Terminal::new(TestBackend::new(90, 12)).unwrap();
    let view = tokio::spawn(async move { run(&mut terminal, input, config).await });

    // First connection: plain subscriptions, answered with snapshots.
    let mut ws = accept(&listener).await;
    let ops = subscriptions(&mut ws).await;
    assert!(ops.iter().all(|op| op.get("since").is_none()), "{ops:?}");
    send(
        &mut ws,
        json!({"type": "snapshot", "topic": "computers", "epoch": "e1", "seq": 4,
        "data": {"computers": [{"name": "alpha", "online": true, "self": true, "host": "h",
        "user": "u", "version": "0.1.0", "boot_id": "e1", "started_at": "2026-11-27T10:00:00.000Z",
        "last_seen": "2026-11-27T10:00:00.000Z", "interest": {}}]}}),
    )
    .await;
    send(
        &mut ws,
        json!({"type": "snapshot", "topic": "preparation", "epoch": "e1", "seq": 4,
        "data": {"projects": [], "todos": []}}),
    )
    .await;
    send(
        &mut ws,
        json!({"type": "snapshot", "topic": "sessions", "epoch": "e1", "seq": 4,
        "data": {"sessions": [session("s1", "kept across the drop")]}}),
    )
    .await;
    send(
        &mut ws,
        json!({"type": "event", "topic": "sessions", "epoch": "e1", "seq": 6,
        "event": "session_started", "data": session("s2", "seen before the drop")}),
    )
    .await;
    wait_for(&mut screen, "the first data is shown", |s| {
        s.contains("● connected") && s.contains("seen before the drop")
    })
    .await;

    // The server drops the connection.
    drop(ws);
    wait_for(&mut screen, "the loss is shown", |s| {
        s.contains("✕ disconnected")
    })
    .await;

    // Second connection: each topic resumes where it stopped; a replay follows.
    let mut ws = accept(&listener).await;
    let ops = subscriptions(&mut ws).await;
    assert_eq!(ops[0]["topic"], "computers");
    assert_eq!(ops[0]["since"], json!({"epoch": "e1", "seq": 4}));
    assert_eq!(ops[1]["topic"], "preparation");
    assert_eq!(ops[1]["since"], json!({"epoch": "e1", "seq": 4}));
    assert_eq!(ops[2]["topic"], "sessions");
    assert_eq!(ops[2]["since"], json!({"epoch": "e1", "seq": 6}));
    send(
        &mut ws,
        json!({"type": "event", "topic": "sessions", "epoch": "e1", "seq": 9,
        "event": "session_started", "data": session("s3", "replayed after the drop")}),
    )
    .await;
    wait_for(&mut screen, "the replay is applied to the kept data", |s| {
        s.contains("● connected")
            && s.contains("kept across the drop")
            && s.contains("seen before the drop")
            && s.contains("replayed after the drop")
    })
    .await;

    keys.send(Ok(Event::Key(KeyEvent::new(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
    ))))
    .unwrap();
    // The view closes its WebSocket cleanly on the way out.
    let closing = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                break;
            }
        }
    });
    let (ended, _) = tokio::join!(view, closing);
    assert!(ended.expect("no panic").is_ok());
}

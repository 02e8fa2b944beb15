//! Limits of the WebSocket API against the real `fleetd` (PROTOCOL.md section 4 and
//! docs/protocol.md "Limits"): a snapshot of any size is delivered, and a client that
//! does not read it is still closed; pings never read do not grow without bound; a
//! subscription names at most 1,000 computers and the announced interest stays bounded;
//! error frames never echo a large input; protocol violations close with RFC 6455 codes.
//!
//! Resident-memory measurements of the same abuses are `#[ignore]`d tests at the end,
//! printing `VmRSS` before and after (never asserted):
//! `cargo test -p fleet-tests --test ws_limits -- --ignored --nocapture --test-threads 1`.

mod common;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use common::{PATIENCE, create_titled, id_of, metric, own_interest, patch_session};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use fleet::endpoint::Endpoint;
use fleet::watch::backoff::Backoff;
use fleet::watch::io::{WatchConfig, run};
use fleet_tests::raw_ws::{
    MASK, OP_CONTINUE, OP_PING, OP_TEXT, RawEnd, RawWs, frame, masked_header,
};
use fleet_tests::rss::rss_kib;
use fleet_tests::seed::seed_sessions;
use fleet_tests::{DaemonFixture, Value, WsClient, assert_eventually, json};
use futures_util::stream;
use model::SystemClock;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;
use tokio::sync::{mpsc, watch};

/// Patience for a snapshot of 100,000 sessions (about 55 MB) in a debug build.
const BIG_PATIENCE: Duration = Duration::from_secs(60);

/// Patience for the write-stall close: the daemon's 30 s, plus its 5 s writer grace,
/// plus slack for a loaded machine.
const STALL_PATIENCE: Duration = Duration::from_secs(75);

/// A standalone daemon whose store holds `count` seeded sessions, and its data dir
/// (removed when dropped, after the daemon).
async fn daemon_with_sessions(computer: &str, count: usize) -> (DaemonFixture, TempDir) {
    let data = tempfile::Builder::new()
        .prefix("fcseed")
        .tempdir_in("/tmp")
        .expect("temp dir");
    seed_sessions(data.path(), computer, count).await;
    let daemon = DaemonFixture::builder()
        .computer(computer)
        .data_dir(data.path())
        .start_timeout(BIG_PATIENCE)
        .start()
        .await;
    (daemon, data)
}

fn sessions_in(snapshot: &Value) -> usize {
    snapshot["data"]["sessions"].as_array().map_or(0, Vec::len)
}

fn seq_of(v: &Value) -> u64 {
    v["seq"].as_u64().unwrap_or_else(|| panic!("no seq in {v}"))
}

/// Subscribes to sessions and waits (bounded) for the snapshot, which may be large.
async fn subscribe_big(ws: &mut WsClient) -> Value {
    ws.send_json(&json!({"op": "subscribe", "topic": "sessions"}))
        .await;
    ws.next_matching(BIG_PATIENCE, "the sessions snapshot", |v| {
        v["type"] == "snapshot" && v["topic"] == "sessions"
    })
    .await
}

async fn ws_clients(daemon: &DaemonFixture) -> f64 {
    metric(daemon, "fleet_ws_clients").await.unwrap_or(-1.0)
}

#[tokio::test]
async fn a_snapshot_of_10_000_sessions_is_delivered_and_events_follow_it() {
    let (daemon, _data) = daemon_with_sessions("alpha", 10_000).await;
    let mut ws = daemon.ws().await;
    let snapshot = subscribe_big(&mut ws).await;
    assert_eq!(sessions_in(&snapshot), 10_000);
    let size = snapshot.to_string().len();
    assert!(size > 4_000_000, "a multi-megabyte snapshot: {size} bytes");

    // The queue limit applies behind the snapshot: live events flow.
    let created = create_titled(&daemon, "after the snapshot").await;
    let event = ws.next_event_named("session_started", PATIENCE).await;
    assert_eq!(event["data"], created);
    assert_eq!(seq_of(&event), seq_of(&snapshot) + 1);
}

#[tokio::test]
async fn a_snapshot_of_100_000_sessions_is_delivered() {
    let (daemon, _data) = daemon_with_sessions("alpha", 100_000).await;
    let mut ws = daemon.ws().await;
    let snapshot = subscribe_big(&mut ws).await;
    assert_eq!(sessions_in(&snapshot), 100_000);
    // Still a working connection afterwards.
    let computers = ws.subscribe("computers").await;
    assert_eq!(computers["data"]["computers"][0]["name"], "alpha");
}

#[tokio::test]
async fn a_client_that_never_reads_its_snapshot_is_closed() {
    let (daemon, _data) = daemon_with_sessions("alpha", 10_000).await;
    let mut idle = daemon.ws().await;
    idle.send_json(&json!({"op": "subscribe", "topic": "sessions"}))
        .await;
    assert_eventually!(ws_clients(&daemon).await == 1.0);

    // It never reads: once its socket has taken nothing for the write-stall timeout, the
    // daemon closes it, and says why.
    assert_eventually!(ws_clients(&daemon).await == 0.0, timeout = STALL_PATIENCE);
    assert!(
        daemon
            .logs()
            .contains("its socket took no byte for the write-stall timeout"),
        "{}",
        daemon.log_tail(20)
    );
    let metrics = common::metrics_text(&daemon).await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("fleet_ws_slow_closed") && l.ends_with(" 1")),
        "counted as a slow client: {metrics}"
    );

    // What it gets when it finally reads: part of the snapshot, then the end.
    idle.recv_close(PATIENCE).await;
    let mut fresh = daemon.ws().await;
    assert_eq!(sessions_in(&subscribe_big(&mut fresh).await), 10_000);
}

/// `fleet watch`'s own I/O loop on a test terminal, as in fleet_watch.rs.
struct View {
    keys: mpsc::UnboundedSender<io::Result<Event>>,
    screen: watch::Receiver<String>,
    task: tokio::task::JoinHandle<Result<(), fleet::FleetError>>,
}

impl View {
    fn start(d: &DaemonFixture) -> Self {
        let (keys, rx) = mpsc::unbounded_channel();
        let input = Box::pin(stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|event| (event, rx))
        }));
        let (screens, screen) = watch::channel(String::new());
        let config = WatchConfig {
            endpoint: Endpoint::Unix(d.socket_path().to_owned()),
            clock: Arc::new(SystemClock),
            tick: Duration::from_secs(1),
            backoff: Backoff::default(),
            screens: Some(screens),
        };
        let mut terminal = Terminal::new(TestBackend::new(120, 20)).expect("test terminal");
        let task = tokio::spawn(async move { run(&mut terminal, input, config).await });
        Self { keys, screen, task }
    }

    fn text(&self) -> String {
        self.screen.borrow().clone()
    }

    async fn quit(self) {
        self.keys
            .send(Ok(Event::Key(KeyEvent::new(
                KeyCode::Char('q'),
                KeyModifiers::NONE,
            ))))
            .expect("the view is running");
        let ended = tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the view ends on q")
            .expect("the view's task did not panic");
        assert!(ended.is_ok(), "the view failed: {ended:?}");
    }
}

#[tokio::test]
async fn fleet_watch_shows_a_10_000_session_fleet() {
    let (daemon, _data) = daemon_with_sessions("alpha", 10_000).await;
    let view = View::start(&daemon);
    let screen = assert_eventually!(
        view.text(),
        |s| s.contains("● connected to alpha") && s.contains("10000 sessions"),
        timeout = BIG_PATIENCE
    );
    assert!(screen.contains("seeded "), "rows are drawn: {screen}");
    create_titled(&daemon, "one more").await;
    assert_eventually!(
        view.text(),
        |s| s.contains("10001 sessions"),
        timeout = BIG_PATIENCE
    );
    view.quit().await;
}

#[tokio::test]
async fn pings_that_are_never_read_do_not_pile_up_and_end_in_a_close() {
    let daemon = DaemonFixture::builder().start().await;
    let mut raw = RawWs::connect(daemon.socket_path()).await;
    assert_eventually!(ws_clients(&daemon).await == 1.0);

    // 125-byte pings as fast as the daemon takes them, never reading a pong, until the
    // daemon hangs up (or a bound is reached).
    let ping = frame(true, OP_PING, &[b'p'; 125], Some(MASK));
    let batch: Vec<u8> = ping.repeat(1000);
    let pinger = tokio::spawn(async move {
        let mut sent = 0_usize;
        while sent < 2_000_000 && raw.write(&batch).await {
            sent += 1000;
        }
        (raw, sent)
    });
    assert_eventually!(ws_clients(&daemon).await == 0.0, timeout = STALL_PATIENCE);
    let (_raw, sent) = pinger.await.expect("the pinger did not panic");
    assert!(sent > 0);
    assert!(
        daemon.logs().contains("closing WebSocket client"),
        "the close is logged with its reason: {}",
        daemon.log_tail(20)
    );
    // The daemon is fine.
    let mut ws = daemon.ws().await;
    ws.subscribe("sessions").await;
}

#[tokio::test]
async fn protocol_violations_close_with_rfc_6455_codes() {
    let daemon = DaemonFixture::builder().start().await;
    let socket = daemon.socket_path();
    let limit = 1024 * 1024_u64;

    let cases: Vec<(&str, Vec<Vec<u8>>, u16)> = vec![
        (
            "invalid UTF-8 in a text frame",
            vec![frame(true, OP_TEXT, &[b'{', 0xff, 0xfe, b'}'], Some(MASK))],
            1007,
        ),
        (
            "a frame over 1 MiB",
            vec![masked_header(true, OP_TEXT, limit + 1), vec![b' '; 4096]],
            1009,
        ),
        (
            "a message over 1 MiB in fragments under it",
            vec![
                frame(false, OP_TEXT, &vec![b' '; 600 * 1024], Some(MASK)),
                frame(true, OP_CONTINUE, &vec![b' '; 600 * 1024], Some(MASK)),
            ],
            1009,
        ),
        (
            "an unmasked client frame",
            vec![frame(true, OP_TEXT, br#"{"op":"refresh"}"#, None)],
            1002,
        ),
        (
            "reserved bits set",
            vec![{
                let mut f = frame(true, OP_TEXT, b"{}", Some(MASK));
                f[0] |= 0x40;
                f
            }],
            1002,
        ),
        (
            "a continuation with no message to continue",
            vec![frame(true, OP_CONTINUE, b"{}", Some(MASK))],
            1002,
        ),
    ];
    for (what, frames, code) in cases {
        let mut raw = RawWs::connect(socket).await;
        for f in &frames {
            // The daemon may hang up before it all went out: that is the point.
            if !raw.write(f).await {
                break;
            }
        }
        match raw.recv_end(PATIENCE).await {
            RawEnd::Close(got, reason) => {
                assert_eq!(got, code, "{what}: closed with {got} {reason:?}");
                assert!(!reason.is_empty(), "{what}: the close says why");
            }
            other => panic!("{what}: expected close {code}, got {other:?}"),
        }
    }
    // Each is logged as a dropped frame with its reason, and the daemon goes on.
    assert!(
        daemon
            .logs()
            .contains("dropped a WebSocket frame that breaks the protocol"),
        "{}",
        daemon.log_tail(20)
    );
    let mut ws = daemon.ws().await;
    ws.subscribe("sessions").await;
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:05}")).collect()
}

#[tokio::test]
async fn computers_lists_are_capped_and_the_announced_interest_stays_bounded() {
    let daemon = DaemonFixture::builder().start().await;

    // 15,000 names: refused, and the connection stays open.
    let mut clients = Vec::new();
    for c in 0..2 {
        let mut ws = daemon.ws().await;
        ws.send_json(&json!({
            "op": "subscribe", "topic": "sessions", "computers": names(&format!("h{c}"), 15_000)
        }))
        .await;
        let error = ws.recv_json(PATIENCE).await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["code"], "bad_field", "{error}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("at most 1000")),
            "{error}"
        );
        clients.push(ws);
    }
    let interest = own_interest(&daemon).await;
    assert!(
        interest.get("sessions").is_none(),
        "a refused subscribe holds no interest: {interest}"
    );

    // 1,000 names is allowed (here the same list twice: 1,000 distinct names, announced
    // by name); a third client with other names makes 2,000, announced as "*".
    for ws in &mut clients {
        let list = names("k", 1000);
        ws.send_json(&json!({"op": "subscribe", "topic": "sessions", "computers": list}))
            .await;
        let snapshot = ws
            .next_matching(PATIENCE, "a snapshot", |v| v["type"] == "snapshot")
            .await;
        assert_eq!(snapshot["topic"], "sessions");
    }
    let interest = assert_eventually!(own_interest(&daemon).await, |i| i["sessions"]
        .as_array()
        .is_some_and(|a| a.len() == 1000));
    assert!(interest.to_string().len() < 100_000);
    let mut third = daemon.ws().await;
    third
        .send_json(&json!({
            "op": "subscribe", "topic": "sessions", "computers": names("k9", 1000)
        }))
        .await;
    third
        .next_matching(PATIENCE, "a snapshot", |v| v["type"] == "snapshot")
        .await;
    assert_eventually!(own_interest(&daemon).await["sessions"] == json!(["*"]));

    // When the third leaves, the names come back.
    third.close().await;
    assert_eventually!(own_interest(&daemon).await, |i| i["sessions"]
        .as_array()
        .is_some_and(|a| a.len() == 1000));
}

#[tokio::test]
async fn a_large_bad_op_gets_a_short_error_frame() {
    let daemon = DaemonFixture::builder().start().await;
    create_titled(&daemon, "present").await;
    let mut ws = daemon.ws().await;
    let long = "x".repeat(585 * 1024);
    for bad in [
        json!({"op": long}),
        json!({"op": "subscribe", "topic": long}),
        json!({"op": "subscribe", "topic": "sessions", "computers": [long]}),
        json!({"op": "refresh", "computer": format!("{long}!")}),
    ] {
        ws.send_json(&bad).await;
        let error = ws.recv_json(PATIENCE).await;
        assert_eq!(error["type"], "error", "{error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty() && message.chars().count() <= 201,
            "a short message: {} chars",
            message.chars().count()
        );
    }
    let snapshot = ws.subscribe("sessions").await;
    assert_eq!(snapshot["data"]["sessions"][0]["title"], "present");
}

// ---------------------------------------------------------------------------------------
// Resident-memory measurements (ignored: run on demand, see the module docs).

fn rss(daemon: &DaemonFixture) -> u64 {
    daemon.pid().and_then(rss_kib).unwrap_or(0)
}

/// 65,536 control characters: 384 KiB once escaped as JSON (`\u0001`).
fn escaped_field() -> String {
    "\u{1}".repeat(64 * 1024)
}

#[tokio::test]
#[ignore = "measurement: prints VmRSS"]
async fn measure_rss_200_patches_of_a_large_session() {
    let daemon = DaemonFixture::builder().start().await;
    let id = id_of(&create_titled(&daemon, "grows").await);
    for field in [
        "title",
        "last_input",
        "last_output",
        "thinking_mode",
        "agent",
    ] {
        patch_session(&daemon, &id, &json!({ field: escaped_field() })).await;
    }
    let (_, session) = daemon.http_get(&format!("/v1/sessions/{id}")).await;
    let size = session.to_string().len();
    let before = rss(&daemon);
    for n in 0..200 {
        let status = if n % 2 == 0 { "waiting" } else { "active" };
        patch_session(&daemon, &id, &json!({ "status": status })).await;
    }
    let after = rss(&daemon);
    println!(
        "RSS 200 PATCHes of a {size}-byte session: {before} KiB -> {after} KiB ({:+} KiB)",
        after as i64 - before as i64
    );
}

#[tokio::test]
#[ignore = "measurement: prints VmRSS"]
async fn measure_rss_1_000_000_pings_never_read() {
    let daemon = DaemonFixture::builder().start().await;
    let mut raw = RawWs::connect(daemon.socket_path()).await;
    let before = rss(&daemon);
    let batch = frame(true, OP_PING, &[b'p'; 125], Some(MASK)).repeat(1000);
    let mut sent = 0;
    while sent < 1_000_000 && raw.write(&batch).await {
        sent += 1000;
    }
    let after = rss(&daemon);
    println!(
        "RSS {sent} pings never read: {before} KiB -> {after} KiB ({:+} KiB)",
        after as i64 - before as i64
    );
}

#[tokio::test]
#[ignore = "measurement: prints VmRSS"]
async fn measure_rss_15_000_name_subscribes() {
    let daemon = DaemonFixture::builder().start().await;
    let before = rss(&daemon);
    let mut clients = Vec::new();
    for c in 0..2 {
        let mut ws = daemon.ws().await;
        ws.send_json(&json!({
            "op": "subscribe", "topic": "sessions", "computers": names(&format!("h{c}"), 15_000)
        }))
        .await;
        let answer = ws.recv_json(PATIENCE).await;
        assert_eq!(answer["code"], "bad_field");
        clients.push(ws);
    }
    let after = rss(&daemon);
    let interest = own_interest(&daemon).await.to_string().len();
    println!(
        "RSS two 15,000-name subscribes: {before} KiB -> {after} KiB ({:+} KiB); \
         announced interest {interest} bytes",
        after as i64 - before as i64
    );
}

//! The local API's limits on a real daemon over its Unix socket (docs/protocol.md, "Limits
//! of the local API"): a body that does not arrive is answered 408 `request_timeout` and
//! closed; a head that does not arrive is closed; the HTTP layer's own errors (400, 414,
//! 431) carry the JSON error body; a full listener answers 503 `too_many_connections` at
//! once; running out of file descriptors backs off and logs once, never a flood.

mod common;

use std::time::{Duration, Instant};

use common::PATIENCE;
use fleet_tests::limits::{
    HEAVY, RawConn, open_fds, raw_status_and_json, rss_kib, start_with_open_files,
};
use fleet_tests::{DaemonFixture, StatusCode, assert_eventually};

/// The default read timeouts are 10 s: a timed-out request is answered well within this.
const TIMEOUT_BOUND: Duration = Duration::from_secs(30);

/// Held connections in the fd tests (more than a 256 file limit allows).
const HELD: usize = 300;

/// hyper's limits, as api-rest documents them (`api_rest::MAX_URI_BYTES`, ...).
const MAX_URI_BYTES: usize = 65_534;
const MAX_HEADER_FIELDS: usize = 100;
const MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;

const UNFINISHED_BODY: &[u8] = b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";

#[track_caller]
fn assert_json_error(raw: &str, status: u16, code: &str) {
    let (got, body) = raw_status_and_json(raw);
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{raw}"
    );
    assert!(body["error"]["message"].is_string(), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{raw}"
    );
}

#[tokio::test]
async fn unfinished_bodies_get_408_and_unfinished_heads_are_closed() {
    let daemon = DaemonFixture::builder().start().await;
    let socket = daemon.socket_path();
    let mut sized = RawConn::send(socket, UNFINISHED_BODY).await.unwrap();
    let mut chunked = RawConn::send(
        socket,
        b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"title\":",
    )
    .await
    .unwrap();
    let mut head = RawConn::send(socket, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (sized, chunked, head) = tokio::join!(
        sized.read_to_close(TIMEOUT_BOUND),
        chunked.read_to_close(TIMEOUT_BOUND),
        head.read_to_close(TIMEOUT_BOUND),
    );
    for raw in [sized, chunked] {
        let raw = raw.expect("the daemon closes a connection whose body does not arrive");
        assert_json_error(&raw, 408, "request_timeout");
        assert!(
            raw.to_ascii_lowercase().contains("connection: close"),
            "{raw}"
        );
    }
    assert_eq!(
        head.expect("the daemon closes a connection whose head does not arrive"),
        "",
        "hyper closes an unfinished head without an answer"
    );
    // Nothing was created, and the daemon goes on.
    let (status, sessions) = daemon.http_get("/v1/sessions").await;
    assert_eq!((status, sessions), (StatusCode::OK, fleet_tests::json!([])));
}

#[tokio::test]
async fn http_layer_errors_have_the_json_body() {
    let daemon = DaemonFixture::builder().start().await;
    let long_target = format!(
        "GET /v1/{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(MAX_URI_BYTES + 1)
    );
    let many_fields = format!(
        "GET /v1/health HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..MAX_HEADER_FIELDS)
            .map(|i| format!("x-field-{i}: 1\r\n"))
            .collect::<String>()
    );
    let huge_head = format!(
        "GET /v1/health HTTP/1.1\r\nHost: x\r\nx-big: {}\r\n\r\n",
        "b".repeat(2 * MAX_HEAD_BYTES)
    );
    for (raw, status, code) in [
        ("NOT AN HTTP REQUEST\r\n\r\n".to_owned(), 400, "bad_request"),
        (
            "GET /v1/health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n".to_owned(),
            400,
            "bad_request",
        ),
        (long_target, 414, "uri_too_long"),
        (many_fields, 431, "headers_too_large"),
        (huge_head, 431, "headers_too_large"),
    ] {
        let mut conn = RawConn::send(daemon.socket_path(), raw.as_bytes())
            .await
            .unwrap();
        let answer = conn
            .read_to_close(PATIENCE)
            .await
            .unwrap_or_else(|| panic!("no answer to {:?}", &raw[..raw.len().min(80)]));
        assert_json_error(&answer, status, code);
    }
    daemon.health().await;
}

/// Opens `n` connections that each hold a request with an unfinished body; those the
/// daemon refuses at once are returned apart, with their answers.
async fn hold(daemon: &DaemonFixture, n: usize) -> (Vec<RawConn>, Vec<String>) {
    let mut held = Vec::new();
    for _ in 0..n {
        match RawConn::send(daemon.socket_path(), UNFINISHED_BODY).await {
            Ok(c) => held.push(c),
            Err(e) => panic!("connect {}: {e}", held.len()),
        }
    }
    // A refused connection is answered and closed at once; a held one stays silent.
    let answers = futures_util::future::join_all(
        held.iter_mut()
            .map(|c| c.read_to_close(Duration::from_millis(500))),
    )
    .await;
    let mut open = Vec::new();
    let mut refused = Vec::new();
    for (c, answer) in held.into_iter().zip(answers) {
        match answer {
            Some(answer) => refused.push(answer),
            None => open.push(c),
        }
    }
    (open, refused)
}

/// Asserts the log holds no flood of accept failures and at most a few refusal episodes.
#[track_caller]
fn assert_no_flood(logs: &str) {
    let accept_failed = logs.matches("accept failed").count();
    let refusing = logs.matches("refusing new connections").count();
    assert!(
        accept_failed <= 3,
        "{accept_failed} accept failures logged:\n{logs}"
    );
    // An episode ends whenever one connection is served again, and a full
    // listener whose held connections time out one by one while new ones
    // arrive frees and refuses by turns (27 episodes within 1 ms were seen);
    // starts are logged at most once per 10 s, so a test of ~20 s logs a
    // few. A flood is one pair of lines per connection.
    assert!(refusing <= 4, "{refusing} refusal episodes logged:\n{logs}");
}

#[tokio::test]
async fn a_full_listener_answers_503_at_a_low_open_file_limit() {
    let _heavy = HEAVY.lock().await;
    let daemon = start_with_open_files(DaemonFixture::builder(), 256).await;
    let pid = daemon.pid().expect("running");
    assert!(
        daemon.logs().contains("max_connections=128"),
        "the cap is half the open-file limit:\n{}",
        daemon.log_tail(40)
    );
    let fds_idle = open_fds(pid);
    let rss_idle = rss_kib(pid);

    let (held, refused) = hold(&daemon, HELD).await;
    assert_eq!(held.len(), 128, "the cap holds; {} refused", refused.len());
    // Every refused connection reads the whole JSON 503, however loaded the
    // machine: none is closed with its answer unwritten.
    for answer in &refused {
        assert_json_error(answer, 503, "too_many_connections");
    }
    let t = Instant::now();
    let mut probe = RawConn::send(
        daemon.socket_path(),
        b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    let answer = probe
        .read_to_close(PATIENCE)
        .await
        .expect("answered at once");
    let refusal_latency = t.elapsed();
    assert_json_error(&answer, 503, "too_many_connections");
    eprintln!(
        "figures: {HELD} held: fds {fds_idle} -> {}, rss {rss_idle} KiB -> {} KiB, 503 in {refusal_latency:?}",
        open_fds(pid),
        rss_kib(pid)
    );

    // The held requests time out (408) and the daemon serves again.
    let t = Instant::now();
    assert_eventually!(
        daemon
            .try_request("GET", "/v1/health", &[], fleet_tests::Bytes::new())
            .await
            .is_ok_and(|(s, _, _)| s == StatusCode::OK),
        timeout = TIMEOUT_BOUND
    );
    eprintln!(
        "figures: served again {:?} after the probe (slow ones timed out)",
        t.elapsed()
    );
    drop(held);

    // Held again, then released by the clients: served at once.
    let (held, _) = hold(&daemon, HELD).await;
    assert_eq!(held.len(), 128);
    drop(held);
    assert_eventually!(
        daemon
            .try_request("GET", "/v1/health", &[], fleet_tests::Bytes::new())
            .await
            .is_ok_and(|(s, _, _)| s == StatusCode::OK)
    );
    assert_eventually!(open_fds(pid) <= fds_idle + 4, timeout = PATIENCE);
    assert_no_flood(&daemon.logs());
}

#[tokio::test]
async fn running_out_of_file_descriptors_backs_off_and_logs_once() {
    let _heavy = HEAVY.lock().await;
    let daemon = DaemonFixture::builder().start().await;
    let pid = daemon.pid().expect("running");
    // Lowered under the running daemon: its cap (512) no longer protects it.
    let pid_t = rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
    rustix::process::prlimit(
        Some(pid_t),
        rustix::process::Resource::Nofile,
        rustix::process::Rlimit {
            current: Some(128),
            maximum: rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum,
        },
    )
    .expect("prlimit on the daemon");

    let (held, _) = hold(&daemon, HELD).await;
    assert_eventually!(daemon.logs().contains("accept failed"), timeout = PATIENCE);
    drop(held);
    assert_eventually!(
        daemon
            .try_request("GET", "/v1/health", &[], fleet_tests::Bytes::new())
            .await
            .is_ok_and(|(s, _, _)| s == StatusCode::OK),
        timeout = TIMEOUT_BOUND
    );
    assert_eventually!(
        daemon.logs().contains("accepting connections again"),
        timeout = PATIENCE
    );
    assert_no_flood(&daemon.logs());
}

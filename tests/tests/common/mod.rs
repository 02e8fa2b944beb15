//! Helpers shared by the fleet-level test files: session writes that assert their status,
//! the error-body check, WebSocket subscribe variants, `/metrics` parsing and small
//! encoders. Each test file uses a subset, hence the `dead_code` allowance.

#![allow(dead_code)]

use std::time::Duration;

use fleet_tests::{DaemonFixture, StatusCode, Value, WsClient, json};

/// How long a test waits for something that should happen promptly.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The window in which an absence is asserted, after a positive control showed that
/// events do flow.
pub const QUIET_WINDOW: Duration = Duration::from_millis(300);

/// `POST /v1/sessions` with `body`, asserting 201; the created session.
pub async fn create_session(daemon: &DaemonFixture, body: &Value) -> Value {
    let (status, created) = daemon.http_post_json("/v1/sessions", body).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "POST /v1/sessions {body}: {created}"
    );
    created
}

/// `POST /v1/sessions` with just a title; the created session.
pub async fn create_titled(daemon: &DaemonFixture, title: &str) -> Value {
    create_session(daemon, &json!({ "title": title })).await
}

/// `PATCH /v1/sessions/{id}` with `body`, asserting 200; the new state.
pub async fn patch_session(daemon: &DaemonFixture, id: &str, body: &Value) -> Value {
    let (status, patched) = daemon
        .http_patch_json(&format!("/v1/sessions/{id}"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "PATCH {id} {body}: {patched}");
    patched
}

/// `DELETE /v1/sessions/{id}`, asserting 204 and an empty body.
pub async fn delete_session(daemon: &DaemonFixture, id: &str) {
    let (status, body) = daemon.http_delete(&format!("/v1/sessions/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "DELETE {id}: {body}");
    assert_eq!(body, Value::Null, "a 204 has no body");
}

/// A session's id.
pub fn id_of(session: &Value) -> String {
    session["session_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no session_id in {session}"))
        .to_owned()
}

/// Asserts an error answer: `expected` status and exactly
/// `{"error":{"code":..,"message":<non-empty string>}}`, with `code` when given.
/// PROTOCOL.md names the codes `bad_json` and `bad_field`; other statuses leave the code
/// to the daemon, so callers pass `None` for them.
#[track_caller]
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: Option<&str>) {
    assert_eq!(status, expected, "body: {body}");
    let outer = body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not a JSON object: {body}"));
    assert_eq!(outer.len(), 1, "error body has only `error`: {body}");
    let inner = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("`error` is not an object: {body}"));
    assert_eq!(
        inner.len(),
        2,
        "`error` has exactly `code` and `message`: {body}"
    );
    assert!(
        body["error"]["code"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "error code is a non-empty string: {body}"
    );
    if let Some(code) = code {
        assert_eq!(body["error"]["code"], code, "error code: {body}");
    }
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.trim().is_empty()),
        "error message is a non-empty string: {body}"
    );
}

/// Asserts an RFC 3339 UTC timestamp with milliseconds: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
#[track_caller]
pub fn assert_timestamp(value: &Value, what: &str) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"));
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let ok = b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z';
    assert!(ok, "{what} is not RFC 3339 UTC with milliseconds: {text:?}");
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for query values).
pub fn percent_encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 3);
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Sends a `subscribe` op as given (e.g. with `computers` or `since`) and returns the
/// snapshot of its topic that answers it.
pub async fn subscribe_with(ws: &mut WsClient, op: &Value) -> Value {
    let topic = op["topic"].clone();
    ws.send_json(op).await;
    ws.next_matching(PATIENCE, &format!("a snapshot answering {op}"), |v| {
        v["type"] == "snapshot" && v["topic"] == topic
    })
    .await
}

/// The `seq` of a snapshot or event frame.
#[track_caller]
pub fn seq_of(frame: &Value) -> u64 {
    frame["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("no u64 `seq` in {frame}"))
}

/// The next frame, asserting it is `event` `name` of `topic` with the given `seq`.
pub async fn expect_event(ws: &mut WsClient, topic: &str, name: &str, seq: u64) -> Value {
    let frame = ws.recv_json(PATIENCE).await;
    assert_eq!(frame["type"], "event", "expected event {name}: {frame}");
    assert_eq!(frame["topic"], topic, "{frame}");
    assert_eq!(frame["event"], name, "{frame}");
    assert_eq!(seq_of(&frame), seq, "seq grows by one: {frame}");
    frame
}

/// The value of one series (`name` or `name{labels}`) in a Prometheus text body.
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            (key == series).then(|| value.parse().ok())?
        })
}

/// `GET /metrics` (asserting 200) as text.
pub async fn metrics_text(daemon: &DaemonFixture) -> String {
    let (status, headers, body) = daemon.request("GET", "/metrics", &[], "").await;
    assert_eq!(status, StatusCode::OK, "GET /metrics");
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain")),
        "/metrics is Prometheus text: {headers:?}"
    );
    String::from_utf8(body.to_vec()).expect("/metrics is UTF-8")
}

/// One series from `GET /metrics`.
pub async fn metric(daemon: &DaemonFixture, series: &str) -> Option<f64> {
    metric_value(&metrics_text(daemon).await, series)
}

/// The `interest` of this computer: the first entry of `GET /v1/computers`.
pub async fn own_interest(daemon: &DaemonFixture) -> Value {
    let (status, computers) = daemon.http_get("/v1/computers").await;
    assert_eq!(status, StatusCode::OK, "{computers}");
    assert_eq!(computers[0]["self"], true, "self first: {computers}");
    computers[0]["interest"].clone()
}

/// Whether an `interest` document names any computer for `topic`.
pub fn interested_in(interest: &Value, topic: &str) -> bool {
    interest
        .get(topic)
        .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
}

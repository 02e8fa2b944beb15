//! Every error answer of the local API (PROTOCOL.md section 3) through the Unix socket of
//! a real daemon: 400 `bad_json` and `bad_field`, 404, 405 with `Allow`, 413 past 1 MiB
//! and 415, each with the body `{"error":{"code":..,"message":..}}`. Token errors (401)
//! are in `tcp_listener.rs`.

mod common;

use std::path::Path;

use common::{PATIENCE, assert_error, create_titled, id_of};
use fleet_tests::{Bytes, DaemonFixture, HeaderMap, RawResponse, StatusCode, body_json, json};
use hyper::header::{HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::UnixStream;

const JSON: (&str, &str) = ("content-type", "application/json");

/// The contract's body limit.
const ONE_MIB: usize = 1024 * 1024;

/// Asserts status, JSON type and error body. `code` is checked when given: PROTOCOL.md
/// names `bad_json` and `bad_field`; for other statuses any non-empty code passes.
#[track_caller]
fn check(answer: &RawResponse, expected: StatusCode, code: Option<&str>) {
    let (status, headers, body) = answer;
    assert_error(*status, &body_json(body), expected, code);
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")),
        "an error body is JSON: {headers:?}"
    );
}

#[tokio::test]
async fn bad_json_is_400_bad_json() {
    let daemon = DaemonFixture::builder().start().await;
    let id = id_of(&create_titled(&daemon, "t").await);
    let session = format!("/v1/sessions/{id}");
    for (method, path, body) in [
        ("POST", "/v1/sessions", r#"{"title":"#),
        ("POST", "/v1/sessions", "not json at all"),
        ("PATCH", session.as_str(), r#"{"title":"x",}"#),
        ("POST", "/v1/refresh", "{"),
    ] {
        let answer = daemon.request(method, path, &[JSON], body).await;
        check(&answer, StatusCode::BAD_REQUEST, Some("bad_json"));
    }
    // Nothing was written by the refused requests.
    let (_, got) = daemon.http_get(&session).await;
    assert_eq!(got["title"], "t", "{got}");
}

#[tokio::test]
async fn unknown_or_mistyped_fields_are_400_bad_field() {
    let daemon = DaemonFixture::builder().start().await;
    let id = id_of(&create_titled(&daemon, "t").await);
    let session = format!("/v1/sessions/{id}");
    let cases = [
        // Unknown fields.
        (
            "POST",
            "/v1/sessions",
            json!({"title": "t", "colour": "red"}),
        ),
        ("PATCH", session.as_str(), json!({"rev": 7})),
        ("PATCH", session.as_str(), json!({"computer": "elsewhere"})),
        ("POST", "/v1/refresh", json!({"everything": true})),
        // Wrong types or values.
        ("POST", "/v1/sessions", json!({"title": 5})),
        ("POST", "/v1/sessions", json!({})),
        (
            "POST",
            "/v1/sessions",
            json!({"title": "t", "status": "asleep"}),
        ),
        (
            "POST",
            "/v1/sessions",
            json!({"title": "t", "agent": ["a"]}),
        ),
        ("PATCH", session.as_str(), json!({"status": "sleeping"})),
        ("PATCH", session.as_str(), json!({"last_input": 3})),
        ("POST", "/v1/refresh", json!({"topics": "sessions"})),
    ];
    for (method, path, body) in cases {
        let answer = daemon
            .request(method, path, &[JSON], body.to_string())
            .await;
        let (status, _, raw) = &answer;
        assert_eq!(
            *status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {}",
            body_json(raw)
        );
        check(&answer, StatusCode::BAD_REQUEST, Some("bad_field"));
    }
    let (_, got) = daemon.http_get(&session).await;
    assert_eq!(got["rev"], 1, "refused patches wrote nothing: {got}");
}

/// Found by schemathesis (tests/tests/openapi.rs): serde builds a struct from a JSON
/// array of its fields in order, so `[null,null]` was a valid refresh body and `["t"]`
/// created a session titled `t`. Every body of the API is a JSON object.
#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_400_bad_field() {
    let daemon = DaemonFixture::builder().start().await;
    let id = id_of(&create_titled(&daemon, "t").await);
    let session = format!("/v1/sessions/{id}");
    for (method, path, body) in [
        ("POST", "/v1/sessions", r#"["array title"]"#),
        ("POST", "/v1/sessions", r#""just a string""#),
        ("POST", "/v1/sessions", "null"),
        ("PATCH", session.as_str(), r#"["renamed"]"#),
        ("PATCH", session.as_str(), "[]"),
        ("POST", "/v1/refresh", "[null, null]"),
        ("POST", "/v1/refresh", "7"),
    ] {
        let answer = daemon.request(method, path, &[JSON], body).await;
        check(&answer, StatusCode::BAD_REQUEST, Some("bad_field"));
    }
    let (_, list) = daemon.http_get("/v1/sessions").await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "nothing created: {list}"
    );
    assert_eq!(list[0]["title"], "t", "nothing renamed: {list}");
    assert_eq!(list[0]["rev"], 1, "nothing written: {list}");
}

/// `title`, `status` and `agent` are not nullable: a `null` is a bad field, not "absent".
#[tokio::test]
async fn null_for_a_non_nullable_field_is_400_bad_field() {
    let daemon = DaemonFixture::builder().start().await;
    let id = id_of(&create_titled(&daemon, "t").await);
    let session = format!("/v1/sessions/{id}");
    for field in ["title", "status", "agent"] {
        let body = json!({ field: null }).to_string();
        let answer = daemon.request("PATCH", &session, &[JSON], body).await;
        let (status, _, raw) = &answer;
        assert_eq!(
            *status,
            StatusCode::BAD_REQUEST,
            "PATCH {{\"{field}\":null}}: {}",
            body_json(raw)
        );
        check(&answer, StatusCode::BAD_REQUEST, Some("bad_field"));
    }
}

#[tokio::test]
async fn unknown_ids_and_paths_are_404() {
    let daemon = DaemonFixture::builder().start().await;
    let missing = "/v1/sessions/00000000-0000-4000-8000-000000000000";
    check(
        &daemon.request("GET", missing, &[], "").await,
        StatusCode::NOT_FOUND,
        None,
    );
    check(
        &daemon
            .request("PATCH", missing, &[JSON], r#"{"title":"x"}"#)
            .await,
        StatusCode::NOT_FOUND,
        None,
    );
    check(
        &daemon.request("DELETE", missing, &[], "").await,
        StatusCode::NOT_FOUND,
        None,
    );
    check(
        &daemon.request("GET", "/v1/nothing-here", &[], "").await,
        StatusCode::NOT_FOUND,
        None,
    );
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let daemon = DaemonFixture::builder().start().await;
    let id = id_of(&create_titled(&daemon, "t").await);
    let session = format!("/v1/sessions/{id}");
    let cases: [(&str, &str, &[&str]); 7] = [
        ("PUT", "/v1/sessions", &["GET", "POST"]),
        ("DELETE", "/v1/sessions", &["GET", "POST"]),
        ("POST", session.as_str(), &["GET", "PATCH", "DELETE"]),
        ("DELETE", "/v1/health", &["GET"]),
        ("POST", "/v1/computers", &["GET"]),
        ("GET", "/v1/refresh", &["POST"]),
        ("PATCH", "/metrics", &["GET"]),
    ];
    for (method, path, allowed) in cases {
        let answer = daemon.request(method, path, &[], "").await;
        let (status, headers, body) = &answer;
        assert_eq!(
            *status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            body_json(body)
        );
        check(&answer, StatusCode::METHOD_NOT_ALLOWED, None);
        let allow = headers
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{method} {path}: 405 without Allow: {headers:?}"));
        let listed: Vec<&str> = allow.split(',').map(str::trim).collect();
        for m in allowed {
            assert!(
                listed.contains(m),
                "{method} {path}: Allow {allow:?} lacks {m}"
            );
        }
        assert!(
            !listed.contains(&method),
            "{method} {path}: Allow {allow:?} lists the refused method"
        );
    }
}

/// A JSON object `{"title":"xxx…"}` of exactly `len` bytes.
fn body_of_len(len: usize) -> String {
    let overhead = r#"{"title":""}"#.len();
    format!(r#"{{"title":"{}"}}"#, "x".repeat(len - overhead))
}

/// Sends one request with `Connection: close` over a fresh connection and reads the
/// whole answer, even when the server answers before reading the body and closes (as it
/// may for a 413): hyper's client would report the failed body write instead.
async fn early_answer(socket: &Path, method: &str, path: &str, body: String) -> RawResponse {
    let stream = UnixStream::connect(socket).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let sending = tokio::spawn(async move {
        // The server may stop reading once it has answered: a failed write is fine.
        if writer.write_all(head.as_bytes()).await.is_ok() {
            let _ = writer.write_all(body.as_bytes()).await;
        }
        writer
    });
    let mut raw = Vec::new();
    let read = tokio::time::timeout(PATIENCE, reader.read_to_end(&mut raw))
        .await
        .expect("the server answers and closes");
    match read {
        Ok(_) => {}
        // A Unix socket closed with unread data resets its peer after the data it sent;
        // `parse_response` checks that the whole answer came before the reset.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !raw.is_empty() => {}
        Err(e) => panic!("reading the answer to {method} {path} failed: {e}"),
    }
    sending.abort();
    parse_response(&raw)
}

/// Status, headers and body of a raw HTTP/1.1 answer with a `Content-Length` body.
fn parse_response(raw: &[u8]) -> RawResponse {
    let shown = || String::from_utf8_lossy(raw).into_owned();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {:?}", shown()));
    let head = std::str::from_utf8(&raw[..split]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or_else(|| panic!("no status line in {:?}", shown()));
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("a header line");
        headers.append(
            HeaderName::try_from(name.trim()).expect("a header name"),
            HeaderValue::try_from(value.trim()).expect("a header value"),
        );
    }
    let body = Bytes::copy_from_slice(&raw[split + 4..]);
    if let Some(len) = headers.get("content-length") {
        let len: usize = len
            .to_str()
            .ok()
            .and_then(|l| l.parse().ok())
            .expect("a length");
        assert_eq!(body.len(), len, "the whole body arrived: {:?}", shown());
    }
    (status, headers, body)
}

#[tokio::test]
async fn a_body_over_one_mib_is_413() {
    let daemon = DaemonFixture::builder().start().await;
    let id = id_of(&create_titled(&daemon, "t").await);
    let over = body_of_len(ONE_MIB + 1);
    assert_eq!(over.len(), ONE_MIB + 1);
    for (method, path) in [
        ("POST", "/v1/sessions".to_owned()),
        ("PATCH", format!("/v1/sessions/{id}")),
        ("POST", "/v1/refresh".to_owned()),
    ] {
        let answer = early_answer(daemon.socket_path(), method, &path, over.clone()).await;
        check(&answer, StatusCode::PAYLOAD_TOO_LARGE, None);
    }
    // Exactly 1 MiB is read: refused for its field (title too long), not its size.
    let at_limit = body_of_len(ONE_MIB);
    let (status, _, body) =
        early_answer(daemon.socket_path(), "POST", "/v1/sessions", at_limit).await;
    assert_ne!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a body of exactly 1 MiB is within the limit: {}",
        body_json(&body)
    );
    assert_error(
        status,
        &body_json(&body),
        StatusCode::BAD_REQUEST,
        Some("bad_field"),
    );
    let (_, list) = daemon.http_get("/v1/sessions").await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "nothing was created: {list}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_typed_is_415() {
    let daemon = DaemonFixture::builder().start().await;
    let id = id_of(&create_titled(&daemon, "t").await);
    let session = format!("/v1/sessions/{id}");
    let body = r#"{"title":"typed wrong"}"#;
    for headers in [
        &[("content-type", "text/plain")][..],
        &[("content-type", "application/x-www-form-urlencoded")][..],
        &[][..],
    ] {
        for (method, path) in [("POST", "/v1/sessions"), ("PATCH", session.as_str())] {
            let answer = daemon.request(method, path, headers, body).await;
            let (status, _, raw) = &answer;
            assert_eq!(
                *status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{method} {path} with {headers:?}: {}",
                body_json(raw)
            );
            check(&answer, StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
        }
    }
    let (status, list) = daemon.http_get("/v1/sessions").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "refused requests created nothing: {list}"
    );
}

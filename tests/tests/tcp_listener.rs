//! The optional TCP listener (PROTOCOL.md sections 1, 3 and 4): with `--token-file` every
//! request and WebSocket upgrade needs `Authorization: Bearer <token>` (401 otherwise); a
//! loopback listener may run without a token; a non-loopback one without a token is
//! refused at start with exit code 2 and a message naming `--http`.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::assert_error;
use fleet_tests::{
    DaemonFixture, StatusCode, WsClient, body_json, free_addr, free_port, http_request_tcp,
};
use tokio_tungstenite::tungstenite;

const TOKEN: &str = "s3cret-Token_42";

/// A token file (with a trailing newline, as editors write it) in its own temp dir.
fn token_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("fct")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let path = dir.path().join("token");
    std::fs::write(&path, format!("{TOKEN}\n")).expect("write token");
    (dir, path)
}

#[tokio::test]
async fn a_token_protects_the_tcp_listener() {
    let (_dir, token) = token_file();
    let addr = free_addr();
    let daemon = DaemonFixture::builder()
        .http(addr)
        .token_file(&token)
        .start()
        .await;
    let bearer = format!("Bearer {TOKEN}");
    let wrong = format!("Bearer {TOKEN}x");

    for headers in [
        &[][..],
        &[("authorization", wrong.as_str())][..],
        &[("authorization", "Basic czNjcmV0")][..],
    ] {
        for path in ["/v1/health", "/v1/sessions", "/metrics"] {
            let (status, _, body) = http_request_tcp(addr, "GET", path, headers, "").await;
            assert_error(status, &body_json(&body), StatusCode::UNAUTHORIZED, None);
        }
    }

    let (status, _, body) =
        http_request_tcp(addr, "GET", "/v1/health", &[("authorization", &bearer)], "").await;
    assert_eq!(status, StatusCode::OK, "{}", body_json(&body));
    let health = body_json(&body);
    assert_eq!(health["computer"], daemon.computer(), "{health}");
    assert_eq!(
        health,
        daemon.health().await,
        "same daemon on both listeners"
    );

    // Writes work over TCP too, and are seen on the Unix socket.
    let (status, _, body) = http_request_tcp(
        addr,
        "POST",
        "/v1/sessions",
        &[
            ("authorization", &bearer),
            ("content-type", "application/json"),
        ],
        r#"{"title":"over tcp"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{}", body_json(&body));
    let (_, list) = daemon.http_get("/v1/sessions").await;
    assert_eq!(list[0]["title"], "over tcp", "{list}");

    // The WebSocket endpoint has the same auth.
    match WsClient::try_connect_tcp(addr, None).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 401, "{response:?}");
        }
        Err(other) => panic!("expected a 401 refusal of the upgrade, got {other}"),
        Ok(_) => panic!("a WebSocket without a token was accepted"),
    }
    let mut ws = WsClient::connect_tcp(addr, Some(TOKEN)).await;
    let snapshot = ws.subscribe("sessions").await;
    assert_eq!(
        snapshot["data"]["sessions"][0]["title"], "over tcp",
        "{snapshot}"
    );
}

#[tokio::test]
async fn a_loopback_listener_needs_no_token() {
    let addr = free_addr();
    let daemon = DaemonFixture::builder().http(addr).start().await;
    let (status, _, body) = http_request_tcp(addr, "GET", "/v1/health", &[], "").await;
    assert_eq!(status, StatusCode::OK, "{}", body_json(&body));
    assert_eq!(body_json(&body)["computer"], daemon.computer());
}

#[tokio::test]
async fn a_non_loopback_listener_without_token_is_refused_at_start() {
    let mut daemon = DaemonFixture::builder()
        .http(format!("0.0.0.0:{}", free_port()))
        .spawn();
    let status = daemon.wait_for_exit(Duration::from_secs(15)).await;
    let logs = daemon.logs();
    assert_eq!(
        status.code(),
        Some(2),
        "exit code 2 (bad configuration)\n{logs}"
    );
    assert!(logs.contains("--http"), "the message names --http:\n{logs}");
    assert!(
        !daemon.socket_path().exists(),
        "a refused start opens no socket"
    );
}

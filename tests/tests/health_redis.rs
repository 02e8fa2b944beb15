//! `GET /v1/health` says why the fleet link is down, against real
//! processes: a killed and restarted `redis-server`, a `rediss://` URL
//! pointing at a plain server, a TLS server whose CA the daemon does not
//! trust, and a wrong password. The daemon logs each cause once, not once
//! per retry, and keeps serving locally meanwhile.

use fleet_tests::{
    DaemonFixture, RedisFixture, TlsFiles, Value, assert_eventually, free_port, json,
};
use std::time::Duration;

/// A failing TLS handshake to a plain server only ends at fred's connect
/// timeout (10 s), so the patience is longer than the default.
const WAIT: Duration = Duration::from_secs(40);

/// The transport's warning, logged once per distinct cause in an outage.
const FAILING: &str = "redis link failing";

/// The transport's debug line for a retry that failed for a known cause.
const RETRY: &str = "redis still unreachable";

/// A daemon on `url` whose log also shows the transport's retries.
async fn daemon(url: String) -> DaemonFixture {
    DaemonFixture::builder()
        .redis(url)
        .heartbeat_ms(200)
        .env("RUST_LOG", "info,peer_transport_redis=debug")
        .start()
        .await
}

/// `(redis, redis_error)` from `/v1/health`.
async fn link(d: &DaemonFixture) -> (String, Option<String>) {
    let h = d.health().await;
    let state = h["redis"].as_str().unwrap_or_default().to_owned();
    (
        state,
        h.get("redis_error")
            .and_then(Value::as_str)
            .map(str::to_owned),
    )
}

fn count(logs: &str, needle: &str) -> usize {
    logs.lines().filter(|l| l.contains(needle)).count()
}

/// Waits until `d` reports `state` with an error containing `words`
/// (case-insensitive), and returns the error.
async fn wait_for_error(d: &DaemonFixture, state: &str, words: &str) -> String {
    let (_, error) = assert_eventually!(
        link(d).await,
        |l| l.0 == state
            && l.1
                .as_deref()
                .is_some_and(|e| e.to_lowercase().contains(words)),
        timeout = WAIT
    );
    error.unwrap_or_default()
}

/// Waits until the log shows several failed retries, then checks the
/// warning was written once.
async fn warned_once_over_retries(d: &DaemonFixture) {
    assert_eventually!(count(&d.logs(), RETRY) >= 3, timeout = WAIT);
    let logs = d.logs();
    assert_eq!(
        count(&logs, FAILING),
        1,
        "one warning, not one per retry:\n{logs}"
    );
}

#[tokio::test]
async fn a_killed_redis_shows_refused_then_connected_again() {
    let mut redis = RedisFixture::start().await;
    let d = daemon(redis.url()).await;
    assert_eventually!(link(&d).await, |l| l.0 == "connected", timeout = WAIT);
    assert_eq!(link(&d).await.1, None, "no redis_error while connected");

    redis.kill();
    let error = wait_for_error(&d, "reconnecting", "refused").await;
    assert!(error.starts_with("connection refused"), "{error}");

    redis.restart_same_port().await;
    assert_eventually!(link(&d).await, |l| l.0 == "connected", timeout = WAIT);
    let h = d.health().await;
    assert!(h.get("redis_error").is_none(), "{h}");
    assert_eventually!(count(&d.logs(), "redis link restored") == 1, timeout = WAIT);
}

#[tokio::test]
async fn a_tls_url_on_a_plain_server_is_an_error_naming_tls() {
    let redis = RedisFixture::start().await;
    let url = format!("rediss://127.0.0.1:{}", redis.port());
    let d = daemon(url).await;
    let error = wait_for_error(&d, "error", "not a tls server").await;
    assert!(error.contains(&redis.port().to_string()), "{error}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_an_error_and_the_daemon_serves_locally() {
    let tls = TlsFiles::generate();
    let tls_port = free_port();
    let mut builder = RedisFixture::builder();
    for arg in tls.redis_args(tls_port) {
        builder = builder.arg(arg);
    }
    let _redis = builder.start().await;
    let d = daemon(format!("rediss://127.0.0.1:{tls_port}")).await;

    let error = wait_for_error(&d, "error", "certificate").await;
    assert!(error.starts_with("TLS certificate not trusted"), "{error}");

    let (status, created) = d
        .http_post_json("/v1/sessions", &json!({ "title": "offline work" }))
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, list) = d.http_get("/v1/sessions").await;
    assert_eq!(status, 200);
    assert!(
        list.as_array()
            .is_some_and(|a| a.iter().any(|s| s["session_id"] == created["session_id"])),
        "{list}"
    );
    warned_once_over_retries(&d).await;
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error() {
    let redis = RedisFixture::start().await;
    // Set after the start: the fixture's readiness check is an unauthenticated PING.
    redis
        .command(&["CONFIG", "SET", "requirepass", "right-one"])
        .await;
    let url = format!("redis://:wrong-one@127.0.0.1:{}", redis.port());
    let d = daemon(url).await;
    let error = wait_for_error(&d, "error", "authentication").await;
    assert!(
        !error.contains("wrong-one"),
        "no password in health: {error}"
    );
    warned_once_over_retries(&d).await;
    assert!(!d.logs().contains("wrong-one"), "no password in the log");
}

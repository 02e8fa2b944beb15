//! The REST endpoints of PROTOCOL.md section 3, through the Unix socket of a real
//! standalone daemon: health, computers, sessions (list, filter, get, create, patch,
//! delete), refresh and metrics. Projects and todos are in `rest_projects.rs`, error
//! answers in `rest_errors.rs`.

mod common;

use common::{
    PATIENCE, assert_error, assert_timestamp, create_session, create_titled, delete_session, id_of,
    metric, metrics_text, patch_session,
};
use fleet_tests::{DaemonFixture, StatusCode, Value, assert_eventually, json};

#[tokio::test]
async fn health_reports_this_daemon() {
    let daemon = DaemonFixture::builder().start().await;
    let health = daemon.health().await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["computer"], daemon.computer(), "{health}");
    assert!(
        health["version"].as_str().is_some_and(|v| !v.is_empty()),
        "{health}"
    );
    assert!(
        health["boot_id"].as_str().is_some_and(|v| !v.is_empty()),
        "{health}"
    );
    assert_eq!(health["redis"], "disabled", "standalone: {health}");
    assert_eq!(health["peers"], 0, "standalone: {health}");
}

#[tokio::test]
async fn computers_lists_this_computer_first() {
    let daemon = DaemonFixture::builder().start().await;
    let health = daemon.health().await;
    let (status, computers) = daemon.http_get("/v1/computers").await;
    assert_eq!(status, StatusCode::OK, "{computers}");
    let list = computers.as_array().expect("an array");
    assert_eq!(list.len(), 1, "standalone: only this computer: {computers}");
    let me = &list[0];
    assert_eq!(me["name"], daemon.computer(), "{me}");
    assert_eq!(me["self"], true, "{me}");
    assert_eq!(me["online"], true, "{me}");
    assert_eq!(me["version"], health["version"], "{me}");
    assert_eq!(me["boot_id"], health["boot_id"], "{me}");
    for field in ["host", "user"] {
        assert!(me[field].is_string(), "{field}: {me}");
    }
    assert_timestamp(&me["started_at"], "started_at");
    assert_timestamp(&me["last_seen"], "last_seen");
    assert!(me["interest"].is_object(), "interest is an object: {me}");
}

#[tokio::test]
async fn post_creates_a_session_with_defaults() {
    let daemon = DaemonFixture::builder().start().await;
    let (status, headers, body) = daemon
        .request(
            "POST",
            "/v1/sessions",
            &[("content-type", "application/json")],
            r#"{"title":"only a title"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body:?}");
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")),
        "{headers:?}"
    );
    let session = fleet_tests::body_json(&body);
    let id = id_of(&session);
    assert!(is_uuid(&id), "session_id is a UUID: {id}");
    assert_eq!(session["computer"], daemon.computer(), "{session}");
    assert_eq!(session["title"], "only a title", "{session}");
    assert_eq!(session["project_path"], Value::Null, "{session}");
    // Not in the contract; the model's documented default for an absent agent.
    assert_eq!(session["agent"], "unknown", "{session}");
    assert_eq!(session["thinking_mode"], Value::Null, "{session}");
    assert_eq!(session["status"], "active", "{session}");
    assert_eq!(session["last_input"], Value::Null, "{session}");
    assert_eq!(session["last_output"], Value::Null, "{session}");
    assert!(session["rev"].is_u64(), "{session}");
    assert_eq!(session["stale"], false, "{session}");
    assert_timestamp(&session["created_at"], "created_at");
    assert_timestamp(&session["last_activity"], "last_activity");
    assert_eq!(
        session.as_object().map(serde_json::Map::len),
        Some(13),
        "exactly the fields of a Session: {session}"
    );

    let (status, got) = daemon.http_get(&format!("/v1/sessions/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, session, "GET answers what POST created");
}

#[tokio::test]
async fn post_takes_every_optional_field() {
    let daemon = DaemonFixture::builder().start().await;
    let session = create_session(
        &daemon,
        &json!({
            "title": "full",
            "project_path": "/src/fleet",
            "agent": "claude",
            "thinking_mode": "deep",
            "status": "waiting",
        }),
    )
    .await;
    assert_eq!(session["title"], "full", "{session}");
    assert_eq!(session["project_path"], "/src/fleet", "{session}");
    assert_eq!(session["agent"], "claude", "{session}");
    assert_eq!(session["thinking_mode"], "deep", "{session}");
    assert_eq!(session["status"], "waiting", "{session}");
    assert_eq!(session["computer"], daemon.computer(), "{session}");
}

#[tokio::test]
async fn sessions_list_filter_and_order() {
    let daemon = DaemonFixture::builder().start().await;
    let (status, empty) = daemon.http_get("/v1/sessions").await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty, json!([]), "a new daemon has no sessions");

    let first = create_titled(&daemon, "first").await;
    let second = create_titled(&daemon, "second").await;
    // Touch the first one so it is the most recently active.
    let first = patch_session(&daemon, &id_of(&first), &json!({"status": "idle"})).await;

    let (status, list) = daemon.http_get("/v1/sessions").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().expect("an array").clone();
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list.contains(&first), "{list:?}");
    assert!(list.contains(&second), "{list:?}");
    assert_newest_first(&list);

    let own = format!("/v1/sessions?computer={}", daemon.computer());
    let (status, filtered) = daemon.http_get(&own).await;
    assert_eq!(status, StatusCode::OK, "{filtered}");
    assert_eq!(filtered.as_array(), Some(&list), "filter on this computer");

    let (status, other) = daemon.http_get("/v1/sessions?computer=elsewhere").await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_eq!(other, json!([]), "no session of another computer");
}

#[tokio::test]
async fn patch_changes_fields_and_bumps_rev() {
    let daemon = DaemonFixture::builder().start().await;
    let created = create_session(
        &daemon,
        &json!({"title": "before", "thinking_mode": "quick"}),
    )
    .await;
    let id = id_of(&created);
    let rev = created["rev"].as_u64().expect("rev");

    let patched = patch_session(
        &daemon,
        &id,
        &json!({
            "title": "after",
            "status": "waiting",
            "last_input": "ls -la",
            "last_output": "total 0",
            "agent": "codex",
        }),
    )
    .await;
    assert_eq!(patched["rev"], rev + 1, "rev + 1: {patched}");
    assert_eq!(patched["title"], "after", "{patched}");
    assert_eq!(patched["status"], "waiting", "{patched}");
    assert_eq!(patched["last_input"], "ls -la", "{patched}");
    assert_eq!(patched["last_output"], "total 0", "{patched}");
    assert_eq!(patched["agent"], "codex", "{patched}");
    assert_eq!(patched["thinking_mode"], "quick", "untouched: {patched}");
    assert_eq!(patched["session_id"], created["session_id"]);
    assert_eq!(patched["created_at"], created["created_at"]);
    assert!(
        patched["last_activity"].as_str() >= created["last_activity"].as_str(),
        "last_activity moves forward: {created} -> {patched}"
    );

    // `null` clears a nullable field; absent fields stay.
    let cleared = patch_session(
        &daemon,
        &id,
        &json!({"last_input": null, "thinking_mode": null}),
    )
    .await;
    assert_eq!(cleared["rev"], rev + 2, "{cleared}");
    assert_eq!(cleared["last_input"], Value::Null, "{cleared}");
    assert_eq!(cleared["thinking_mode"], Value::Null, "{cleared}");
    assert_eq!(cleared["last_output"], "total 0", "kept: {cleared}");
    assert_eq!(cleared["title"], "after", "kept: {cleared}");

    let (status, got) = daemon.http_get(&format!("/v1/sessions/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, cleared, "GET answers the patched state");
}

#[tokio::test]
async fn delete_ends_a_session() {
    let daemon = DaemonFixture::builder().start().await;
    let kept = create_titled(&daemon, "kept").await;
    let ended = create_titled(&daemon, "ended").await;
    let id = id_of(&ended);

    delete_session(&daemon, &id).await;

    let (status, body) = daemon.http_get(&format!("/v1/sessions/{id}")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, None);
    let (status, list) = daemon.http_get("/v1/sessions").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list, json!([kept]), "only the kept session is listed");
    let (status, body) = daemon.http_delete(&format!("/v1/sessions/{id}")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, None);
}

/// An agent session that ended can come back under its id (Claude Code resumes a
/// session after `SessionEnd`). Found by schemathesis (tests/tests/openapi.rs): the
/// create answered 201 at `rev` 1 while the end's tombstone hid it (GET 404, not listed).
/// It comes back at once, above the end's `rev`, and so again after a restart of fleetd
/// (the store remembers the end, the cache's tombstone is gone).
#[tokio::test]
async fn an_ended_session_id_comes_back_above_its_end() {
    let mut daemon = DaemonFixture::builder().start().await;
    create_session(&daemon, &json!({"title": "first", "session_id": "agent-7"})).await;
    patch_session(&daemon, "agent-7", &json!({"status": "idle"})).await;
    delete_session(&daemon, "agent-7").await; // ends at rev 3

    let again = create_session(&daemon, &json!({"title": "again", "session_id": "agent-7"})).await;
    assert_eq!(again["rev"], 4, "one above the end's rev: {again}");
    assert_eq!(again["title"], "again", "{again}");
    assert_eq!(again["status"], "active", "{again}");
    let (status, got) = daemon.http_get("/v1/sessions/agent-7").await;
    assert_eq!(status, StatusCode::OK, "visible at once: {got}");
    assert_eq!(got, again);
    let (_, list) = daemon.http_get("/v1/sessions").await;
    assert_eq!(list, json!([again]), "listed");
    let patched = patch_session(&daemon, "agent-7", &json!({"status": "waiting"})).await;
    assert_eq!(patched["rev"], 5, "{patched}");

    delete_session(&daemon, "agent-7").await; // ends at rev 6
    daemon.restart().await;
    let back = create_session(
        &daemon,
        &json!({"title": "resumed", "session_id": "agent-7"}),
    )
    .await;
    assert_eq!(
        back["rev"], 7,
        "the end is remembered across a restart: {back}"
    );
    let (status, got) = daemon.http_get("/v1/sessions/agent-7").await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got, back);
    // Ids of sessions that never ended here start at rev 1.
    let other = create_session(&daemon, &json!({"title": "other", "session_id": "agent-8"})).await;
    assert_eq!(other["rev"], 1, "{other}");
}

#[tokio::test]
async fn refresh_is_accepted() {
    let dir = tempfile::Builder::new()
        .prefix("fcr")
        .tempdir_in("/tmp")
        .expect("temp dir");
    std::fs::write(dir.path().join("README.md"), "# A project\n").expect("write");
    let daemon = DaemonFixture::builder().project(dir.path()).start().await;
    let session = create_titled(&daemon, "survives refresh").await;
    let me = daemon.computer().to_owned();
    for body in [
        None,
        Some(json!({})),
        Some(json!({"computer": me})),
        Some(json!({"topics": ["sessions", "preparation", "computers"]})),
        Some(json!({"computer": me, "topics": ["preparation"]})),
    ] {
        let (status, answer) = match &body {
            Some(body) => daemon.http_post_json("/v1/refresh", body).await,
            None => post_empty(&daemon, "/v1/refresh").await,
        };
        assert_eq!(status, StatusCode::ACCEPTED, "POST {body:?}: {answer}");
    }
    // Local data is pulled again: it is still (or again) served.
    assert_eventually!(
        daemon.http_get("/v1/projects").await.1,
        |v| v.as_array().is_some_and(|a| a.len() == 1),
        timeout = PATIENCE,
    );
    assert_eventually!(
        daemon.http_get("/v1/sessions").await.1,
        |v| *v == json!([session]),
        timeout = PATIENCE,
    );
}

#[tokio::test]
async fn metrics_count_requests_and_ws_clients() {
    let daemon = DaemonFixture::builder().start().await;
    daemon.health().await;
    let text = metrics_text(&daemon).await;
    assert!(text.contains("fleet_http_requests"), "{text}");
    assert!(text.contains("fleet_ws_clients"), "{text}");
    assert_eq!(common::metric_value(&text, "fleet_ws_clients"), Some(0.0));

    let ws = daemon.ws().await;
    assert_eventually!(
        metric(&daemon, "fleet_ws_clients").await,
        |v| *v == Some(1.0),
        timeout = PATIENCE,
    );
    drop(ws);
    assert_eventually!(
        metric(&daemon, "fleet_ws_clients").await,
        |v| *v == Some(0.0),
        timeout = PATIENCE,
    );
}

/// `POST path` without a body, for routes whose body is optional.
async fn post_empty(daemon: &DaemonFixture, path: &str) -> (StatusCode, Value) {
    let (status, _, body) = daemon.request("POST", path, &[], "").await;
    (status, fleet_tests::body_json(&body))
}

fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[track_caller]
fn assert_newest_first(list: &[Value]) {
    let times: Vec<&str> = list
        .iter()
        .map(|s| s["last_activity"].as_str().expect("last_activity"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest last_activity first: {times:?}"
    );
}

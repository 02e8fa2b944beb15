//! An agent session resumed under its id after it ended (Claude Code's `SessionStart`
//! with `source: "resume"` after `SessionEnd`) is shown at once on a watching peer:
//! through the real `fleet hook claude` binary, two real `fleetd` processes and a real
//! `redis-server`. Every cache keeps an ended session's end for the stale retention
//! (10 minutes) and refuses the id at a `rev` not above it; the owner creates the
//! resumed session above the end's `rev`, also after its own restart (the store
//! remembers the end, while the peer still remembers it too).

mod hooks_support;

use fleet_tests::{DaemonFixture, RedisFixture, Value, WsClient, assert_eventually, json};
use hooks_support::{CLAUDE_ID, HookEnv, payload, session};
use std::time::Duration;

/// Far below the stale retention (10 minutes): a resumed session that waited for it
/// would fail here.
const WAIT: Duration = Duration::from_secs(15);

async fn daemon(redis: &RedisFixture, name: &str) -> DaemonFixture {
    DaemonFixture::builder()
        .computer(name)
        .redis(redis.url())
        .heartbeat_ms(500)
        .start()
        .await
}

/// Waits until each daemon sees the other online.
async fn see_each_other(a: &DaemonFixture, b: &DaemonFixture) {
    for d in [a, b] {
        assert_eventually!(d.health().await["peers"] == json!(1), timeout = WAIT);
    }
}

/// Runs the Claude Code `SessionStart` hook with `source` (`startup` or `resume`).
fn session_start(env: &HookEnv, source: &str) {
    let input = payload("claude", "SessionStart.json").replace(
        "\"source\":\"startup\"",
        &format!("\"source\":\"{source}\""),
    );
    assert!(input.contains(source), "fixture changed: {input}");
    let run = env.hook(&["claude"], &input);
    assert_eq!(
        run.code,
        Some(0),
        "fleet hook claude SessionStart: {run:#?}"
    );
}

/// The next `event` about the fixture's session on `ws`.
async fn next_event(ws: &mut WsClient, event: &str) -> Value {
    ws.next_matching(WAIT, &format!("{event} of the agent session"), |v| {
        v["type"] == "event" && v["event"] == event && v["data"]["session_id"] == CLAUDE_ID
    })
    .await
}

#[tokio::test]
async fn a_resumed_session_reaches_a_watching_peer_at_once() {
    let redis = RedisFixture::start().await;
    let mut alpha = daemon(&redis, "alpha").await;
    let beta = daemon(&redis, "beta").await;
    see_each_other(&alpha, &beta).await;
    let mut ws = beta.ws().await;
    ws.subscribe("sessions").await;
    let hooks = HookEnv::for_daemon(&alpha);

    session_start(&hooks, "startup");
    let started = next_event(&mut ws, "session_started").await;
    assert_eq!(started["data"]["rev"], 1, "{started}");
    hooks.claude("SessionEnd.json");
    next_event(&mut ws, "session_closed").await;
    assert!(session(&beta, CLAUDE_ID).await.is_none(), "ended on beta");

    // Resumed: beta's client sees it come back, above the end's rev 2.
    session_start(&hooks, "resume");
    let resumed = next_event(&mut ws, "session_started").await;
    assert_eq!(resumed["data"]["rev"], 3, "{resumed}");
    assert_eq!(resumed["data"]["computer"], "alpha", "{resumed}");
    assert_eq!(resumed["data"]["status"], "active", "{resumed}");
    let on_beta = session(&beta, CLAUDE_ID).await;
    assert_eq!(on_beta.as_ref(), Some(&resumed["data"]), "GET on beta");
    let on_alpha = session(&alpha, CLAUDE_ID).await;
    assert_eq!(on_alpha.as_ref(), Some(&resumed["data"]), "GET on alpha");
    assert_eq!(hooks.spooled(), 0, "every hook event was delivered");

    // Ended again, then alpha restarts: its cache forgot the end, beta's still holds
    // it at rev 4. The resume after the restart continues above it.
    hooks.claude("SessionEnd.json");
    next_event(&mut ws, "session_closed").await;
    alpha.restart().await;
    see_each_other(&alpha, &beta).await;
    session_start(&hooks, "resume");
    let resumed = next_event(&mut ws, "session_started").await;
    assert_eq!(resumed["data"]["rev"], 5, "{resumed}");
    assert_eventually!(
        session(&beta, CLAUDE_ID).await.map(|s| s["rev"].clone()) == Some(json!(5)),
        timeout = WAIT
    );
    assert_eq!(hooks.spooled(), 0, "every hook event was delivered");
}

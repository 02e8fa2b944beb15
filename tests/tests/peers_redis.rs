//! The peer network through real `fleetd` processes and a real
//! `redis-server` (started by each test on a free port): propagation,
//! interest-gated pushes counted with `INFO commandstats`, bad entries
//! injected by a plain Redis client, Redis killed and restarted mid-stream,
//! Redis replaced by an empty one, and three daemons end to end.

use fleet_tests::{DaemonFixture, RedisFixture, Value, assert_eventually, json};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

async fn daemon(redis: &RedisFixture, name: &str, heartbeat_ms: u64) -> DaemonFixture {
    DaemonFixture::builder()
        .computer(name)
        .redis(redis.url())
        .heartbeat_ms(heartbeat_ms)
        .start()
        .await
}

/// Starts one daemon per name and waits until each sees all the others.
async fn fleet(redis: &RedisFixture, names: &[&str], heartbeat_ms: u64) -> Vec<DaemonFixture> {
    let mut daemons = Vec::new();
    for n in names {
        daemons.push(daemon(redis, n, heartbeat_ms).await);
    }
    let peers = names.len() as u64 - 1;
    for d in &daemons {
        assert_eventually!(d.health().await["peers"] == json!(peers), timeout = WAIT);
        assert_eq!(d.health().await["redis"], "connected");
    }
    daemons
}

async fn create(d: &DaemonFixture, title: &str) -> Value {
    let (status, body) = d
        .http_post_json("/v1/sessions", &json!({ "title": title }))
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn patch(d: &DaemonFixture, id: &str, body: Value) -> Value {
    let (status, v) = d
        .http_patch_json(&format!("/v1/sessions/{id}"), &body)
        .await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn sessions_of(d: &DaemonFixture, computer: &str) -> Value {
    d.http_get(&format!("/v1/sessions?computer={computer}"))
        .await
        .1
}

/// Creates a session on `owner` (alpha), subscribes a WebSocket client of
/// `watcher` to sessions, and waits until the watcher's cache holds it.
async fn watched_session(
    owner: &DaemonFixture,
    watcher: &DaemonFixture,
    title: &str,
) -> (String, fleet_tests::WsClient) {
    let s = create(owner, title).await;
    let id = s["session_id"].as_str().unwrap().to_owned();
    let mut ws = watcher.ws().await;
    ws.subscribe("sessions").await;
    assert_eventually!(
        sessions_of(watcher, owner.computer())
            .await
            .as_array()
            .map(Vec::len)
            == Some(1),
        timeout = WAIT
    );
    (id, ws)
}

async fn int(redis: &RedisFixture, args: &[&str]) -> i64 {
    redis.command(args).await.as_int().unwrap_or(0)
}

/// `calls` of one command in `INFO commandstats`.
async fn calls(redis: &RedisFixture, command: &str) -> u64 {
    let info = redis.command(&["INFO", "commandstats"]).await;
    let text = info.as_str().unwrap_or_default().to_owned();
    let prefix = format!("cmdstat_{command}:calls=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn metric(d: &DaemonFixture, line_prefix: &str) -> u64 {
    let (_, _, body) = d.request("GET", "/metrics", &[], Vec::new()).await;
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix(line_prefix))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test]
async fn a_session_created_on_a_reaches_a_ws_client_on_b() {
    let redis = RedisFixture::start().await;
    let fleet = fleet(&redis, &["alpha", "beta"], 500).await;
    let (a, b) = (&fleet[0], &fleet[1]);
    let before = create(a, "made before").await;
    let own = create(b, "beta's own").await;
    let mut ws = b.ws().await;
    ws.subscribe("sessions").await;
    // The first snapshot may predate the pull from alpha; what counts is
    // that both computers' sessions end up in beta's view.
    assert_eventually!(
        sessions_of(b, "alpha").await == json!([before.clone()]),
        timeout = WAIT
    );
    let (_, all) = b.http_get("/v1/sessions").await;
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["session_id"].as_str())
        .collect();
    assert!(ids.contains(&own["session_id"].as_str().unwrap()));

    let created = create(a, "made after").await;
    let ev = ws
        .next_matching(WAIT, "session_started of the new session", |v| {
            v["event"] == "session_started" && v["data"]["session_id"] == created["session_id"]
        })
        .await;
    assert_eq!(ev["data"]["computer"], "alpha");
    assert_eq!(ev["data"], created);
}

#[tokio::test]
async fn nobody_watching_means_nothing_but_presence_reaches_redis() {
    let redis = RedisFixture::start().await;
    let fleet = fleet(&redis, &["alpha", "beta"], 500).await;
    let (a, b) = (&fleet[0], &fleet[1]);
    let s = create(a, "busy").await;
    let id = s["session_id"].as_str().unwrap().to_owned();
    let xadds = calls(&redis, "xadd").await;
    let beats = calls(&redis, "eval").await;
    let presence = int(&redis, &["XLEN", "fleet:presence"]).await;
    for i in 0..200 {
        patch(a, &id, json!({ "last_output": format!("line {i}") })).await;
    }
    // Long enough for any push to have happened, and for heartbeats to run.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let xadd_delta = calls(&redis, "xadd").await - xadds;
    let presence_delta = (int(&redis, &["XLEN", "fleet:presence"]).await - presence) as u64;
    assert_eq!(int(&redis, &["EXISTS", "fleet:events:{alpha}"]).await, 0);
    assert!(
        calls(&redis, "eval").await > beats,
        "liveness beats (full heartbeats only when something changes)"
    );
    assert_eq!(xadd_delta, presence_delta, "every XADD was a heartbeat");

    // Positive control: with a watcher on beta, alpha pushes.
    let mut ws = b.ws().await;
    ws.subscribe("sessions").await;
    assert_eventually!(
        sessions_of(b, "alpha").await[0]["rev"] == json!(201),
        timeout = WAIT
    );
    patch(a, &id, json!({ "title": "watched" })).await;
    assert_eventually!(
        int(&redis, &["XLEN", "fleet:events:{alpha}"]).await >= 1,
        timeout = WAIT
    );
}

async fn xadd(redis: &RedisFixture, stream: &str, fields: &[(&str, &str)]) {
    let mut args = vec!["XADD", stream, "*"];
    for (k, v) in fields {
        args.push(k);
        args.push(v);
    }
    let reply = redis.command(&args).await;
    assert!(!reply.is_error(), "XADD failed: {reply:?}");
}

#[tokio::test]
async fn bad_entries_from_a_plain_client_are_dropped_and_counted() {
    let redis = RedisFixture::start().await;
    let fleet = fleet(&redis, &["alpha", "beta"], 500).await;
    let (a, b) = (&fleet[0], &fleet[1]);
    let (id, mut ws) = watched_session(a, b, "target").await;
    let boot = a.health().await["boot_id"].as_str().unwrap().to_owned();

    let heartbeat = |body: &'static str| {
        vec![
            ("v", "1"),
            ("kind", "heartbeat"),
            ("from", "mallory"),
            ("boot", "x"),
            ("body", body),
        ]
    };
    xadd(&redis, "fleet:presence", &heartbeat("{\"name\":5}")).await;
    xadd(
        &redis,
        "fleet:presence",
        &[
            ("v", "1"),
            ("kind", "gossip"),
            ("from", "x"),
            ("boot", "x"),
            ("body", "{}"),
        ],
    )
    .await;
    xadd(
        &redis,
        "fleet:events:{alpha}",
        &[
            ("v", "1"),
            ("kind", "event"),
            ("from", "alpha"),
            ("boot", &boot),
            ("body", "{not json"),
        ],
    )
    .await;
    let forged =
        json!({"event":"session_closed","data":{"session_id": id, "computer":"alpha"},"rev":999})
            .to_string();
    xadd(
        &redis,
        "fleet:events:{alpha}",
        &[
            ("v", "1"),
            ("kind", "event"),
            ("from", "mallory"),
            ("boot", "x"),
            ("body", &forged),
        ],
    )
    .await;

    let m = |reason: &str| {
        format!("fleet_dropped_inputs_total{{source=\"redis\",reason=\"{reason}\"}}")
    };
    assert_eventually!(metric(b, &m("bad_body")).await >= 2, timeout = WAIT);
    assert_eventually!(metric(b, &m("unknown_kind")).await == 1, timeout = WAIT);
    assert_eventually!(metric(b, &m("forged_from")).await == 1, timeout = WAIT);
    assert_eq!(
        sessions_of(b, "alpha").await.as_array().map(Vec::len),
        Some(1),
        "forged close ignored"
    );

    patch(a, &id, json!({ "title": "still flowing" })).await;
    ws.next_matching(WAIT, "the next real update", |v| {
        v["event"] == "session_updated" && v["data"]["title"] == "still flowing"
    })
    .await;
}

#[tokio::test]
async fn redis_killed_and_restarted_mid_stream_loses_and_repeats_nothing() {
    let mut redis = RedisFixture::builder().persistent(true).start().await;
    let fleet = fleet(&redis, &["alpha", "beta"], 2000).await;
    let (a, b) = (&fleet[0], &fleet[1]);
    let (id, mut ws) = watched_session(a, b, "stream").await;

    for i in 0..1000 {
        if i == 300 {
            redis.kill();
        }
        if i == 400 {
            redis.restart_same_port().await;
        }
        patch(a, &id, json!({ "last_output": format!("{i}") })).await;
    }
    let mut revs = Vec::new();
    while revs.last() != Some(&1001) {
        let ev = ws
            .next_matching(WAIT, "an update of the streamed session", |v| {
                v["event"] == "session_updated" && v["data"]["session_id"] == id.as_str()
            })
            .await;
        revs.push(ev["data"]["rev"].as_u64().unwrap());
    }
    assert_eq!(
        revs,
        (2..=1001).collect::<Vec<u64>>(),
        "all 1000, in order, none twice"
    );
    assert_eq!(sessions_of(b, "alpha").await, sessions_of(a, "alpha").await);
}

#[tokio::test]
async fn redis_replaced_by_an_empty_one_re_announces_and_converges() {
    let mut redis = RedisFixture::start().await;
    let fleet = fleet(&redis, &["alpha", "beta"], 500).await;
    let (a, b) = (&fleet[0], &fleet[1]);
    let (id, _ws) = watched_session(a, b, "before").await;

    redis.kill();
    redis.restart_same_port().await; // not persistent: empty
    assert_eventually!(
        int(&redis, &["XLEN", "fleet:presence"]).await >= 2,
        timeout = WAIT
    );
    patch(a, &id, json!({ "title": "after" })).await;
    create(a, "new after").await;
    assert_eventually!(
        sessions_of(b, "alpha").await == sessions_of(a, "alpha").await,
        timeout = WAIT
    );
    assert_eq!(b.health().await["peers"], 1);
}

#[tokio::test]
async fn three_daemons_a_patch_on_a_is_seen_by_a_ws_client_on_c() {
    let redis = RedisFixture::start().await;
    let fleet = fleet(&redis, &["alpha", "beta", "gamma"], 500).await;
    let (a, c) = (&fleet[0], &fleet[2]);
    let (id, mut ws) = watched_session(a, c, "e2e").await;

    let mut took = Vec::new();
    for i in 0..20 {
        let start = Instant::now();
        patch(a, &id, json!({ "last_input": format!("q{i}") })).await;
        let ev = ws
            .next_matching(WAIT, "the update on gamma", |v| {
                v["event"] == "session_updated"
                    && v["data"]["last_input"] == format!("q{i}").as_str()
            })
            .await;
        took.push(start.elapsed());
        assert_eq!(ev["data"]["computer"], "alpha");
    }
    took.sort();
    println!(
        "propagation A REST -> C WS over 20 changes: p50 {:?}, max {:?}",
        took[took.len() / 2],
        took[took.len() - 1]
    );
}

//! A `fleetd` restarted under the same name and data dir, over a real
//! `redis-server`: a WebSocket watcher on it has every peer's sessions
//! within the wait, as on a daemon that was already running (10 daemons of
//! 100 sessions, as the `naive-net` bench; its cold `fleet watch` was slow
//! in the client, not here: see `bins/fleet/src/watch/io.rs`).

use fleet_tests::{DaemonFixture, RedisFixture, assert_eventually, json};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(40);
const N: usize = 10;
const S: usize = 100;

async fn daemon(redis: &RedisFixture, name: &str) -> DaemonFixture {
    DaemonFixture::builder()
        .computer(name)
        .redis(redis.url())
        .start()
        .await
}

async fn count(d: &DaemonFixture, computer: &str) -> usize {
    d.http_get(&format!("/v1/sessions?computer={computer}"))
        .await
        .1
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn a_restarted_daemon_gets_its_peers_sessions_at_once() {
    let redis = RedisFixture::start().await;
    let mut nodes = Vec::new();
    for i in 0..N {
        nodes.push(daemon(&redis, &format!("c{i}")).await);
    }
    for d in &nodes {
        assert_eventually!(d.health().await["peers"] == json!(N - 1), timeout = WAIT);
    }
    for d in &nodes[1..] {
        for i in 0..S {
            let (status, body) = d
                .http_post_json("/v1/sessions", &json!({ "title": format!("s{i}") }))
                .await;
            assert_eq!(status, 201, "{body}");
        }
    }
    nodes[0].restart().await;
    let restarted = Instant::now();
    assert_eventually!(
        nodes[0].health().await["peers"] == json!(N - 1),
        timeout = WAIT
    );
    eprintln!("peers online {:?} after the restart", restarted.elapsed());
    for i in 0..S {
        let (status, body) = nodes[0]
            .http_post_json("/v1/sessions", &json!({ "title": format!("own{i}") }))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let mut ws = nodes[0].ws().await;
    ws.subscribe("sessions").await;
    let watched = Instant::now();
    loop {
        let mut all = true;
        for i in 1..N {
            all &= count(&nodes[0], &format!("c{i}")).await == S;
        }
        if all {
            break;
        }
        assert!(
            watched.elapsed() < WAIT,
            "no sessions after {WAIT:?}:\n{}",
            nodes[0].log_tail(80)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "every peer's sessions {:?} after subscribing",
        watched.elapsed()
    );
}

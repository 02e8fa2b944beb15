//! Two real `fleetd` over a real Redis Cluster of 3 masters and 3 replicas
//! (`ClusterFixture`), with only one node in the URL, as a user gives it:
//! propagation, and the SIGKILL of a master (the one holding the writer's
//! events stream, and the seed node of the URL itself) while changes are
//! being written. After the cluster's own failover the fleet must be whole
//! again within 10 s (the one timed assertion, from issue 9) with nothing
//! lost; the measured figures are printed.

use std::time::{Duration, Instant};

use fleet_tests::{ClusterFixture, DaemonFixture, Value, WsClient, assert_eventually, json};

const WAIT: Duration = Duration::from_secs(20);

/// The bound: whole again within this long after the failover.
const RECOVERY_BOUND: Duration = Duration::from_secs(10);

const HEARTBEAT_MS: u64 = 1000;

/// One cluster test at a time: six Redis nodes and two daemons each, on a
/// small machine, and the failover times are measured.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn daemon(url: &str, name: &str) -> DaemonFixture {
    DaemonFixture::builder()
        .computer(name)
        .redis(url)
        .heartbeat_ms(HEARTBEAT_MS)
        .start()
        .await
}

/// Starts `writer` and `watcher` on the cluster and waits until each sees
/// the other.
async fn pair(cluster: &ClusterFixture, writer: &str) -> (DaemonFixture, DaemonFixture) {
    let url = cluster.seed_url();
    let a = daemon(&url, writer).await;
    let b = daemon(&url, "watcher").await;
    for d in [&a, &b] {
        assert_eventually!(d.health().await["peers"] == json!(1), timeout = WAIT);
        assert_eq!(d.health().await["redis"], "connected");
    }
    (a, b)
}

async fn sessions_of(d: &DaemonFixture, computer: &str) -> Value {
    d.http_get(&format!("/v1/sessions?computer={computer}"))
        .await
        .1
}

/// Creates a session on `owner`, subscribes a WebSocket client of
/// `watcher`, and waits until the watcher's cache holds the session.
async fn watched_session(owner: &DaemonFixture, watcher: &DaemonFixture) -> (String, WsClient) {
    let (status, s) = owner
        .http_post_json("/v1/sessions", &json!({ "title": "watched" }))
        .await;
    assert_eq!(status, 201, "{s}");
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

async fn patch(d: &DaemonFixture, id: &str, body: Value) -> Value {
    let (status, v) = d
        .http_patch_json(&format!("/v1/sessions/{id}"), &body)
        .await;
    assert_eq!(status, 200, "{v}");
    v
}

/// A computer name whose events stream lives on node `node` (a master),
/// or on any master but `node` when `on` is false.
async fn name_with_events_on(cluster: &mut ClusterFixture, node: usize, on: bool) -> String {
    for i in 0..1000 {
        let name = format!("writer{i}");
        let owner = cluster.master_of(&format!("fleet:events:{{{name}}}")).await;
        if owner.is_some_and(|o| (o == node) == on) {
            return name;
        }
    }
    panic!("no writer name with its events on node {node} ({on})");
}

#[tokio::test]
async fn a_patch_on_a_reaches_a_ws_client_on_b_over_the_cluster() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let cluster = ClusterFixture::start().await;
    let (a, b) = pair(&cluster, "alpha").await;
    let (id, mut ws) = watched_session(&a, &b).await;

    let mut took = Vec::new();
    for i in 0..20 {
        let start = Instant::now();
        patch(&a, &id, json!({ "last_input": format!("q{i}") })).await;
        let ev = ws
            .next_matching(WAIT, "the update on the watcher", |v| {
                v["event"] == "session_updated"
                    && v["data"]["last_input"] == format!("q{i}").as_str()
            })
            .await;
        took.push(start.elapsed());
        assert_eq!(ev["data"]["computer"], "alpha");
    }
    took.sort();
    println!(
        "cluster propagation A REST -> B WS over 20 changes: p50 {:?}, max {:?}",
        took[took.len() / 2],
        took[took.len() - 1]
    );
    // Both directions: the watcher's own session reaches the writer.
    let (status, own) = b
        .http_post_json("/v1/sessions", &json!({ "title": "the other way" }))
        .await;
    assert_eq!(status, 201, "{own}");
    let mut ws_a = a.ws().await;
    ws_a.subscribe("sessions").await;
    assert_eventually!(
        sessions_of(&a, "watcher").await == sessions_of(&b, "watcher").await,
        timeout = WAIT
    );
}

/// Writes to the writer's session while `node` is SIGKILLed, waits for the
/// cluster's failover, and checks that the watcher converges (every change
/// arrived or was healed) within [`RECOVERY_BOUND`] of it. Returns the
/// writer, the watcher and the watcher's WebSocket client.
async fn survive_the_loss_of(
    cluster: &mut ClusterFixture,
    node: usize,
    writer: &str,
    what: &str,
) -> (DaemonFixture, DaemonFixture, WsClient) {
    let (a, b) = pair(cluster, writer).await;
    let (id, ws) = watched_session(&a, &b).await;
    let events = format!("fleet:events:{{{writer}}}");

    for i in 0..20 {
        patch(&a, &id, json!({ "last_output": format!("before {i}") })).await;
    }
    cluster.kill(node);
    let killed = Instant::now();
    // Changes keep coming while the cluster fails over: the writer's own
    // store takes them at once, Redis gets them when it can.
    let mut i = 0;
    let failover = loop {
        patch(&a, &id, json!({ "last_output": format!("during {i}") })).await;
        i += 1;
        if cluster
            .master_of(&events)
            .await
            .is_some_and(|owner| owner != node)
        {
            break cluster.wait_failover(&events, node).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for j in 0..20 {
        patch(&a, &id, json!({ "last_output": format!("after {j}") })).await;
    }
    let want = sessions_of(&a, writer).await;
    assert_eventually!(
        sessions_of(&b, writer).await,
        |v| *v == want,
        timeout = Duration::from_secs(60)
    );
    for d in [&a, &b] {
        assert_eventually!(
            d.health().await,
            |h| h["peers"] == json!(1) && h["redis"] == "connected",
            timeout = Duration::from_secs(60)
        );
    }
    let whole = Instant::now();
    let recovery = whole.saturating_duration_since(failover.into_std());
    println!(
        "{what}: cluster failover took {:?} after the kill; the fleet was whole {:?} after it ({i} changes during the failover; watcher re-snapshots: {})",
        failover.into_std().saturating_duration_since(killed),
        recovery,
        b.logs().matches("re-snapshotting").count()
    );
    assert!(
        recovery <= RECOVERY_BOUND,
        "{what}: the fleet was whole only {recovery:?} after the cluster's failover (bound {RECOVERY_BOUND:?})"
    );
    // And it keeps flowing.
    patch(&a, &id, json!({ "title": "after the failover" })).await;
    let want = sessions_of(&a, writer).await;
    assert_eventually!(
        sessions_of(&b, writer).await,
        |v| *v == want,
        timeout = WAIT
    );
    for d in [&a, &b] {
        assert_eventually!(
            d.health().await,
            |h| h["peers"] == json!(1) && h["redis"] == "connected",
            timeout = WAIT
        );
    }
    (a, b, ws)
}

#[tokio::test]
async fn the_failover_of_the_writers_events_master_is_survived_with_one_url_node() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut cluster = ClusterFixture::start().await;
    // Node 0 is the seed: here the events live on another master.
    let writer = name_with_events_on(&mut cluster, 0, false).await;
    let node = cluster
        .master_of(&format!("fleet:events:{{{writer}}}"))
        .await
        .expect("a master owns the writer's events");
    let _fleet = survive_the_loss_of(&mut cluster, node, &writer, "events master killed").await;
}

#[tokio::test]
async fn the_failover_of_the_seed_node_is_survived_with_one_url_node() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut cluster = ClusterFixture::start().await;
    // The seed also holds the writer's events: the worst case of the issue.
    let writer = name_with_events_on(&mut cluster, 0, true).await;
    let (a, b, _ws) =
        survive_the_loss_of(&mut cluster, 0, &writer, "seed (and events master) killed").await;

    // A computer that joins after the seed died (given a live node): both
    // daemons, whose URL names only the dead seed, read its streams with
    // new clients, which find the cluster through the nodes learned before.
    let joined = Instant::now();
    let late = daemon(
        &format!("redis-cluster://127.0.0.1:{}", cluster.port(1)),
        "late",
    )
    .await;
    let (status, s) = late
        .http_post_json("/v1/sessions", &json!({ "title": "late" }))
        .await;
    assert_eq!(status, 201, "{s}");
    let mut ws_a = a.ws().await;
    ws_a.subscribe("sessions").await;
    for d in [&a, &b] {
        assert_eventually!(
            sessions_of(d, "late").await == json!([s.clone()]),
            timeout = WAIT
        );
        assert_eventually!(d.health().await["peers"] == json!(2), timeout = WAIT);
    }
    // Its changes stream in (a snapshot alone does not prove the reads).
    let id = s["session_id"].as_str().unwrap().to_owned();
    let changed = patch(&late, &id, json!({ "title": "late, changed" })).await;
    for d in [&a, &b] {
        assert_eventually!(
            sessions_of(d, "late").await == json!([changed.clone()]),
            timeout = WAIT
        );
    }
    println!(
        "a computer joining after the seed died: seen and streaming {:?} after its start",
        joined.elapsed()
    );
}

/// Asynchronous replication losing a tail: the replica of the writer's
/// events master is frozen and cut off while changes to session X are
/// acknowledged by the master (and read by the watcher), then the master
/// dies and that replica, which never got them, takes over. The watcher's
/// position is now beyond the new master's last entry; afterwards only
/// session Y changes, and the watcher must end equal to the writer (its
/// later changes are read, or a snapshot heals it).
#[tokio::test]
async fn changes_the_dead_master_never_replicated_are_healed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut cluster = ClusterFixture::start().await;
    let writer = name_with_events_on(&mut cluster, 0, false).await;
    let events = format!("fleet:events:{{{writer}}}");
    let node = cluster
        .master_of(&events)
        .await
        .expect("a master owns the writer's events");
    let replica = cluster
        .replica_of(node)
        .await
        .expect("the master has a replica");
    let (a, b) = pair(&cluster, &writer).await;
    let (x, _ws) = watched_session(&a, &b).await;
    let (status, y) = a
        .http_post_json("/v1/sessions", &json!({ "title": "y" }))
        .await;
    assert_eq!(status, 201, "{y}");
    let y = y["session_id"].as_str().unwrap().to_owned();
    assert_eventually!(
        sessions_of(&b, &writer).await == sessions_of(&a, &writer).await,
        timeout = WAIT
    );

    cluster.pause(replica);
    // Cut the replication link while the replica is frozen: what the
    // master acknowledges from now on reaches no replica.
    let killed_links = cluster
        .try_command(node, &["CLIENT", "KILL", "TYPE", "replica"])
        .await
        .expect("CLIENT KILL on the master");
    assert_eq!(killed_links.as_int(), Some(1), "{killed_links:?}");
    for i in 0..20 {
        patch(
            &a,
            &x,
            json!({ "last_output": format!("never replicated {i}") }),
        )
        .await;
    }
    let want = sessions_of(&a, &writer).await;
    assert_eventually!(sessions_of(&b, &writer).await == want, timeout = WAIT);
    cluster.kill(node);
    cluster.resume(replica);
    let killed = Instant::now();
    let failover = cluster.wait_failover(&events, node).await;
    for j in 0..5 {
        patch(&a, &y, json!({ "last_output": format!("after {j}") })).await;
    }
    let want = sessions_of(&a, &writer).await;
    assert_eventually!(
        sessions_of(&b, &writer).await,
        |v| *v == want,
        timeout = Duration::from_secs(60)
    );
    let recovery = Instant::now().saturating_duration_since(failover.into_std());
    let stream_len = cluster
        .command_for_key(&events, &["XLEN", events.as_str()])
        .await;
    println!(
        "unreplicated changes: failover {:?} after the kill, whole {recovery:?} after it; \
         events stream now holds {stream_len:?} entries; watcher re-snapshots:\n{}",
        failover.into_std().saturating_duration_since(killed),
        b.logs()
            .lines()
            .filter(|l| l.contains("re-snapshotting"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        recovery <= RECOVERY_BOUND,
        "whole only {recovery:?} after the failover (bound {RECOVERY_BOUND:?})"
    );
}

/// Whether the replica of `master` has acknowledged everything it was sent
/// (`INFO replication` on the master: its offset equals the master's).
async fn replica_caught_up(cluster: &ClusterFixture, master: usize) -> bool {
    let Ok(info) = cluster.try_command(master, &["INFO", "replication"]).await else {
        return false;
    };
    let text = info.as_str().unwrap_or_default();
    let field = |line: &str, key: &str| {
        line.split([',', ':'])
            .find_map(|kv| kv.strip_prefix(key))
            .map(str::to_owned)
    };
    let master_offset = text
        .lines()
        .find_map(|l| l.strip_prefix("master_repl_offset:"))
        .map(|v| v.trim().to_owned());
    let replica_offset = text
        .lines()
        .find(|l| l.starts_with("slave0:"))
        .and_then(|l| field(l, "offset="));
    master_offset.is_some() && master_offset == replica_offset
}

/// As above, but the watcher is frozen (SIGSTOP) while the master
/// acknowledges the changes that never reach the replica, and only the
/// first 5 changes of X were replicated: the stream survives the failover
/// with its tail cut. The watcher, resumed, either finds its position
/// beyond the new master's last entry and re-snapshots, or finds the lost changes in
/// the reply to its pending read, which the dead master had already written
/// to its socket (which one depends on timing; the test prints the
/// watcher's re-snapshots).
#[tokio::test]
async fn a_tail_lost_by_the_failover_while_the_watcher_was_frozen_is_healed() {
    use rustix::process::{Pid, Signal, kill_process};
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut cluster = ClusterFixture::start().await;
    let writer = name_with_events_on(&mut cluster, 0, false).await;
    let events = format!("fleet:events:{{{writer}}}");
    let node = cluster.master_of(&events).await.expect("an owner");
    let replica = cluster.replica_of(node).await.expect("a replica");
    let (a, b) = pair(&cluster, &writer).await;
    let (x, _ws) = watched_session(&a, &b).await;
    let watcher = Pid::from_raw(i32::try_from(b.pid().expect("running")).unwrap()).unwrap();
    // Some changes that do reach the replica and the watcher: the stream
    // survives the failover, only its tail is lost.
    for i in 0..5 {
        patch(&a, &x, json!({ "last_output": format!("replicated {i}") })).await;
    }
    let want = sessions_of(&a, &writer).await;
    assert_eventually!(sessions_of(&b, &writer).await == want, timeout = WAIT);
    assert_eventually!(replica_caught_up(&cluster, node).await, timeout = WAIT);

    cluster.pause(replica);
    let cut = cluster
        .try_command(node, &["CLIENT", "KILL", "TYPE", "replica"])
        .await
        .expect("CLIENT KILL");
    assert_eq!(cut.as_int(), Some(1), "{cut:?}");
    kill_process(watcher, Signal::STOP).expect("SIGSTOP the watcher");
    let before = cluster
        .command_for_key(&events, &["XLEN", events.as_str()])
        .await;
    for i in 0..20 {
        patch(&a, &x, json!({ "last_output": format!("nobody read {i}") })).await;
    }
    assert_eventually!(
        cluster
            .command_for_key(&events, &["XLEN", events.as_str()])
            .await
            .as_int()
            >= before.as_int().map(|n| n + 20),
        timeout = WAIT
    );
    cluster.kill(node);
    cluster.resume(replica);
    kill_process(watcher, Signal::CONT).expect("SIGCONT the watcher");
    let failover = cluster.wait_failover(&events, node).await;
    let want = sessions_of(&a, &writer).await;
    assert_eventually!(
        sessions_of(&b, &writer).await,
        |v| *v == want,
        timeout = Duration::from_secs(30)
    );
    let recovery = Instant::now().saturating_duration_since(failover.into_std());
    assert!(
        recovery <= RECOVERY_BOUND,
        "whole only {recovery:?} after the failover (bound {RECOVERY_BOUND:?})"
    );
    let after = cluster
        .command_for_key(&events, &["XLEN", events.as_str()])
        .await;
    println!(
        "watcher frozen, tail unreplicated: whole {recovery:?} after the failover; events stream held {before:?} entries before the lost ones, {after:?} after the failover; watcher:\n{}",
        b.logs()
            .lines()
            .filter(|l| l.contains("snapshot") || l.contains("offline") || l.contains("gap"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

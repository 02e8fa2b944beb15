//! Liveness by beats on the liveness set, over the in-memory transport with
//! paused time: a join is seen within one period, a silent peer is offline
//! within 3 periods of its last beat, an idle fleet of 100 makes a bounded
//! number of transport calls per daemon per period whatever its size, and a
//! previous-version daemon (full heartbeats every period, no beats) still
//! sees and is seen.

mod common;

use common::*;

fn legacy_config() -> PeerSyncConfig {
    PeerSyncConfig {
        liveness: false,
        ..config(None)
    }
}

async fn fleet(hub: &MemoryHub, n: usize) -> Vec<Node> {
    let nodes: Vec<Node> = (0..n).map(|i| Node::start(hub, &format!("n{i}"))).collect();
    until(PERIOD * 3, "every node sees every other", || {
        nodes.iter().all(|x| x.cache.online_peers() == n - 1)
    })
    .await;
    nodes
}

#[tokio::test(start_paused = true)]
async fn a_join_is_seen_within_one_period() {
    let hub = MemoryHub::new();
    let nodes = fleet(&hub, 5).await;
    run_for(PERIOD * 7 + PERIOD / 3).await;
    let presence = hub.appends("fleet:presence");
    let joiner = Node::start(&hub, "late");
    let took = until(PERIOD, "every node sees the joiner", || {
        nodes.iter().all(|x| x.cache.online_peers() == 5)
    })
    .await;
    assert!(took < PERIOD, "{took:?}");
    until(PERIOD, "the joiner sees the fleet", || {
        joiner.cache.online_peers() == 5
    })
    .await;
    assert_eq!(
        hub.appends("fleet:presence") - presence,
        1,
        "only the joiner's heartbeat"
    );
    let seen = joiner
        .cache
        .computers()
        .into_iter()
        .find(|c| c.name == "n3")
        .expect("the joiner knows n3 from the roster");
    assert_eq!(seen.host, "n3");
}

#[tokio::test(start_paused = true)]
async fn a_silent_peer_is_offline_within_three_periods_of_its_last_beat() {
    let hub = MemoryHub::new();
    let nodes = fleet(&hub, 3).await;
    run_for(PERIOD * 4).await;
    let last_beat = hub
        .alive("fleet:alive")
        .into_iter()
        .find(|(m, _)| m == "n0")
        .map(|(_, d)| d)
        .unwrap();
    nodes[0].transport.cut();
    let cut_at = hub.now_ms();
    let took = until(PERIOD * 4, "n0 offline everywhere", || {
        nodes[1..].iter().all(|x| x.cache.online_peers() == 1)
    })
    .await;
    // The deadline is the last beat plus 3 periods minus half a period.
    let beat_at = last_beat - (PERIOD * 5 / 2).as_millis() as u64;
    let offline_at = cut_at + took.as_millis() as u64;
    let silent = Duration::from_millis(offline_at - beat_at);
    assert!(
        silent >= PERIOD * 2,
        "not before 2 missed periods ({silent:?})"
    );
    assert!(silent <= PERIOD * 3, "within 3 periods ({silent:?})");
    assert_eq!(nodes[1].cache.online_peers(), 1, "n2 stays online");
    // Back: its next beat finds it expired and it announces itself.
    nodes[0].transport.reconnect();
    until(PERIOD, "n0 back everywhere", || {
        nodes[1..].iter().all(|x| x.cache.online_peers() == 2)
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_idle_fleet_of_100_makes_a_bounded_number_of_calls_per_daemon() {
    let hub = MemoryHub::new();
    let nodes = fleet(&hub, 100).await;
    run_for(PERIOD * 2).await;
    let before: Vec<u64> = nodes.iter().map(|n| hub.calls(&n.name)).collect();
    let presence = hub.appends("fleet:presence");
    let periods = 20u32;
    run_for(PERIOD * periods).await;
    let per_period: Vec<f64> = nodes
        .iter()
        .zip(&before)
        .map(|(n, b)| (hub.calls(&n.name) - b) as f64 / f64::from(periods))
        .collect();
    let max = per_period.iter().copied().fold(0.0, f64::max);
    eprintln!("transport calls per daemon per period: at most {max}");
    // Two beats, a blocking read renewed every 5 s (0.4), a whole-set read
    // every 10 periods (0.1).
    assert!(
        max <= 3.0,
        "at most 3 calls per daemon per period, whatever the fleet: {max}"
    );
    assert_eq!(
        hub.appends("fleet:presence"),
        presence,
        "no full heartbeat while nothing changes"
    );
    assert!(nodes.iter().all(|n| n.cache.online_peers() == 99));
}

#[tokio::test(start_paused = true)]
async fn a_previous_version_daemon_sees_and_is_seen() {
    let hub = MemoryHub::new();
    let nodes = fleet(&hub, 3).await;
    let mut old = Node::start_with(&hub, "old", legacy_config());
    until(PERIOD, "old seen by the fleet", || {
        nodes.iter().all(|x| x.cache.online_peers() == 3)
    })
    .await;
    until(PERIOD * 2, "old sees the fleet", || {
        old.cache.online_peers() == 3
    })
    .await;
    // The old daemon judges by full heartbeats every period: the new ones
    // send them while it is online, so it never sees them go offline.
    let sweeping = tokio_util::sync::CancellationToken::new();
    tokio::spawn(
        old.cache
            .clone()
            .run_sweeper(Duration::from_millis(100), sweeping.clone()),
    );
    for _ in 0..40 {
        run_for(PERIOD / 4).await;
        assert_eq!(old.cache.online_peers(), 3, "no flapping");
    }
    // Its interest reaches the new ones like any other.
    let (_g, _rx) = old.watch(Topic::Sessions);
    let mut n0 = nodes.into_iter().next().unwrap();
    n0.touch("s");
    until(PERIOD, "old gets n0's session", || {
        old.sessions_of("n0").len() == 1
    })
    .await;
    old.stop().await;
    run_for(PERIOD * 2).await;
    let presence = hub.appends("fleet:presence");
    run_for(PERIOD * 5).await;
    assert_eq!(
        hub.appends("fleet:presence"),
        presence,
        "once it left, full heartbeats stop"
    );
    sweeping.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_crashed_previous_version_daemon_goes_offline_by_its_heartbeats() {
    let hub = MemoryHub::new();
    let nodes = fleet(&hub, 2).await;
    let old = Node::start_with(&hub, "old", legacy_config());
    until(PERIOD, "old seen", || {
        nodes.iter().all(|x| x.cache.online_peers() == 2)
    })
    .await;
    let sweeping = tokio_util::sync::CancellationToken::new();
    for n in &nodes {
        tokio::spawn(
            n.cache
                .clone()
                .run_sweeper(Duration::from_millis(100), sweeping.clone()),
        );
    }
    old.transport.cut();
    let took = until(PERIOD * 4, "old offline", || {
        nodes.iter().all(|x| x.cache.online_peers() == 1)
    })
    .await;
    // 3 periods after its last heartbeat, judged by the sweeper's 100 ms ticks.
    assert!(
        took >= PERIOD * 2 && took <= PERIOD * 3 + Duration::from_millis(200),
        "{took:?}"
    );
    sweeping.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_log_restarted_empty_as_a_peer_died_still_shows_it_offline() {
    let hub = MemoryHub::new();
    let mut nodes = fleet(&hub, 3).await;
    // n2 dies at the moment the log loses everything: no expiry is ever
    // reported for it; the whole-set check finds it missing.
    let dead = nodes.pop().unwrap();
    dead.transport.cut();
    hub.restart();
    until(PERIOD * 12, "n2 offline on the others", || {
        nodes.iter().all(|x| x.cache.online_peers() == 1)
    })
    .await;
    run_for(PERIOD * 12).await;
    assert!(
        nodes.iter().all(|x| x.cache.online_peers() == 1),
        "the living stay online"
    );
}

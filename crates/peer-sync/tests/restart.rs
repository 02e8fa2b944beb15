//! A daemon restarted under the same name (new boot, same fleet) over the
//! in-memory transport with paused time: a local watcher registered at
//! once, or once the restarted daemon shows its peers online, has every
//! peer's sessions within about one heartbeat period, as on a daemon that
//! was already running.

mod common;

use common::*;

/// `n` nodes, each owning `sessions` sessions, once each sees the others.
async fn fleet(hub: &MemoryHub, n: usize, sessions: usize) -> Vec<Node> {
    let mut nodes: Vec<Node> = (0..n).map(|i| Node::start(hub, &format!("n{i}"))).collect();
    for node in &mut nodes {
        // Session ids are unique fleet-wide.
        let name = node.name.clone();
        for s in 0..sessions {
            node.touch(&format!("{name}-s{s}"));
        }
    }
    until(PERIOD * 3, "every node sees every other", || {
        nodes.iter().all(|x| x.cache.online_peers() == n - 1)
    })
    .await;
    nodes
}

/// Stops `nodes[0]` (saying `leave`) and starts it again under its name.
async fn restart_first(hub: &MemoryHub, nodes: &mut [Node]) {
    nodes[0].stop().await;
    nodes[0] = Node::start(hub, "n0");
}

fn has_everything(node: &Node, peers: usize, sessions: usize) -> bool {
    (1..=peers).all(|i| node.sessions_of(&format!("n{i}")).len() == sessions)
}

/// Sessions each node owns: a snapshot of ~0.4 MB per peer.
const SESSIONS: usize = 1_000;

/// Restarts `n0` of a 3-node fleet and registers a watcher on it, at once
/// or once it shows its peers online; returns how long until it has every
/// peer's sessions.
async fn restart_then_watch(once_online: bool) -> Duration {
    let hub = MemoryHub::new();
    let mut nodes = fleet(&hub, 3, SESSIONS).await;
    run_for(PERIOD * 5).await;
    restart_first(&hub, &mut nodes).await;
    if once_online {
        until(PERIOD * 3, "the restarted node sees its peers", || {
            nodes[0].cache.online_peers() == 2
        })
        .await;
    }
    let (_guard, _rx) = nodes[0].watch(Topic::Sessions);
    until(
        PERIOD * 20,
        "the restarted node has every peer's sessions",
        || has_everything(&nodes[0], 2, SESSIONS),
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn a_watcher_registered_at_restart_has_every_peer_within_a_period() {
    let took = restart_then_watch(false).await;
    eprintln!("watcher at restart: every session after {took:?}");
    assert!(took <= PERIOD + PERIOD / 2, "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn a_watcher_registered_once_peers_show_online_has_every_peer_within_a_period() {
    let took = restart_then_watch(true).await;
    eprintln!("watcher once peers online: every session after {took:?}");
    assert!(took <= PERIOD + PERIOD / 2, "{took:?}");
}

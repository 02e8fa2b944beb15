//! Over a slow link (every transport call takes a 20 ms round trip, in
//! paused time over the in-memory transport), a daemon restarted among 9
//! peers asks them all for their snapshots at once: a watcher has every
//! peer's sessions a few round trips after it registers, not one round trip
//! per peer after the other. Each node owns 1,000 sessions (10,000 in the
//! fleet; each snapshot ~0.4 MB), so the answers are of a real fleet's size.

mod common;

use common::*;
use model::StreamId;

const RTT: Duration = Duration::from_millis(20);
const PEERS: usize = 9;
const SESSIONS: usize = 1_000;

#[tokio::test(start_paused = true)]
async fn a_restarted_daemon_asks_every_peer_at_once_over_a_slow_link() {
    logs();
    let hub = MemoryHub::new();
    let mut nodes: Vec<Node> = (0..=PEERS)
        .map(|i| Node::start(&hub, &format!("n{i}")))
        .collect();
    for node in &mut nodes {
        node.transport.set_round_trip(RTT);
        let name = node.name.clone();
        for s in 0..SESSIONS {
            node.touch(&format!("{name}-s{s}"));
        }
    }
    until(PERIOD * 5, "every node sees every other", || {
        nodes.iter().all(|x| x.cache.online_peers() == PEERS)
    })
    .await;
    run_for(PERIOD * 3).await;

    let keys = Keys::new("fleet");
    let inbox = |i: usize| keys.inbox(&format!("n{i}"));
    let before: Vec<Option<StreamId>> = (1..=PEERS)
        .map(|i| hub.entries(&inbox(i)).last().map(|e| e.id))
        .collect();
    nodes[0].stop().await;
    nodes[0] = Node::start(&hub, "n0");
    nodes[0].transport.set_round_trip(RTT);
    until(PERIOD * 5, "the restarted node sees its peers", || {
        nodes[0].cache.online_peers() == PEERS
    })
    .await;

    let (_guard, _rx) = nodes[0].watch(Topic::Sessions);
    let took = until(
        PERIOD * 5,
        "the restarted node has every peer's sessions",
        || (1..=PEERS).all(|i| nodes[0].sessions_of(&format!("n{i}")).len() == SESSIONS),
    )
    .await;
    eprintln!("{PEERS} peers over a {RTT:?} link: every session {took:?} after the watch");
    // Asked one after another, the requests alone took one round trip per
    // peer (9 here; 360 ms in all when this was so); at once, every answer
    // is in after fewer round trips than there are peers (140 ms).
    assert!(took < RTT * PEERS as u32, "{took:?}");

    // Interest is synced from two tasks (the receive loop and the
    // heartbeat); a peer is still asked once by the new boot, not twice.
    run_for(PERIOD * 3).await;
    for i in 1..=PEERS {
        let asked = requests_from_n0(&hub, &inbox(i), before[i - 1]);
        assert_eq!(asked, 1, "n{i} was asked {asked} times by the restarted n0");
    }
}

/// How many requests from `n0` reached `inbox` after entry `since`.
fn requests_from_n0(hub: &MemoryHub, inbox: &str, since: Option<StreamId>) -> usize {
    hub.entries(inbox)
        .iter()
        .filter(|e| since.is_none_or(|s| e.id > s))
        .filter_map(|e| Envelope::from_fields(&e.fields, None).ok())
        .filter(|env| env.kind == Kind::Request && env.from == "n0")
        .count()
}

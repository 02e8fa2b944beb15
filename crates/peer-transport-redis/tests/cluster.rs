//! The Redis transport against a real Redis Cluster of 3 masters and 3
//! replicas (`fleet_tests::ClusterFixture`), given one node in the URL:
//! reads over streams of several hash slots block (no polling: counted with
//! `INFO commandstats`), wake on an append to any of them, and follow the
//! caller's positions forwards and backwards while a read is pending.

use std::time::{Duration, Instant};

use fleet_tests::{ClusterFixture, assert_eventually};
use model::{PeerTransport, StreamId};
use peer_transport_redis::{RedisConfig, connect};

const PRESENCE: &str = "t:presence";
const EVENTS_A: &str = "t:events:{alpha}";
const EVENTS_B: &str = "t:events:{beta}";

/// `calls` of `command` in `INFO commandstats`, summed over every node.
async fn calls(cluster: &ClusterFixture, command: &str) -> u64 {
    let prefix = format!("cmdstat_{command}:calls=");
    let mut total = 0;
    for i in 0..cluster.len() {
        let Ok(info) = cluster.try_command(i, &["INFO", "commandstats"]).await else {
            continue;
        };
        total += info
            .as_str()
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

/// `blocked_clients` of `INFO clients`, summed over every node.
async fn blocked(cluster: &ClusterFixture) -> u64 {
    let mut total = 0;
    for i in 0..cluster.len() {
        let Ok(info) = cluster.try_command(i, &["INFO", "clients"]).await else {
            continue;
        };
        total += info
            .as_str()
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

fn from(ids: [StreamId; 3]) -> Vec<(String, StreamId)> {
    [PRESENCE, EVENTS_A, EVENTS_B]
        .into_iter()
        .zip(ids)
        .map(|(k, id)| (k.to_owned(), id))
        .collect()
}

#[tokio::test]
async fn reads_over_several_slots_block_and_follow_positions() {
    let cluster = ClusterFixture::start().await;
    let transport = connect(RedisConfig::new(cluster.seed_url()))
        .await
        .expect("connects with one URL node");
    let mut reader = transport.reader().await.expect("a reader");
    let field = |v: &'static str| vec![("v", bytes::Bytes::from_static(v.as_bytes()))];

    // Idle: one blocking XREAD per slot, not a poll every few ms.
    let xreads = calls(&cluster, "xread").await;
    let got = reader
        .read(&from([StreamId::ZERO; 3]), 10, Duration::from_secs(1))
        .await
        .expect("an idle read");
    assert!(got.is_empty(), "{got:?}");
    let idle = calls(&cluster, "xread").await - xreads;
    println!("XREADs for one idle 1 s read over 3 slots: {idle}");
    assert!(idle <= 6, "{idle} XREADs: the reader polls");

    // An append to any slot wakes the read.
    let started = Instant::now();
    let zero = from([StreamId::ZERO; 3]);
    let (read, appended) = tokio::join!(reader.read(&zero, 10, Duration::from_secs(5)), async {
        // Once the three slots' reads are blocked on the servers.
        assert_eventually!(blocked(&cluster).await >= 3);
        transport.append(EVENTS_B, &field("b1"), 100).await
    });
    let b1 = appended.expect("XADD");
    let read = read.expect("a read");
    println!(
        "woken after {:?} (the append came once the reads were blocked)",
        started.elapsed()
    );
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0].0, EVENTS_B);
    assert_eq!(read[0].1[0].id, b1);

    // Positions forwards while the other slots' reads are pending: only
    // entries after the new positions come back.
    let a1 = transport.append(EVENTS_A, &field("a1"), 100).await.unwrap();
    let a2 = transport.append(EVENTS_A, &field("a2"), 100).await.unwrap();
    let read = reader
        .read(&from([StreamId::ZERO, a1, b1]), 10, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0].0, EVENTS_A);
    let ids: Vec<StreamId> = read[0].1.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![a2]);

    // A read abandoned by its caller stays pending; moving a position back
    // abandons it and reads again from there (interrupting the blocked one).
    let abandoned = tokio::time::timeout(
        Duration::from_millis(200),
        reader.read(&from([StreamId::ZERO, a2, b1]), 10, Duration::from_secs(5)),
    )
    .await;
    assert!(abandoned.is_err(), "nothing new: still pending");
    let unblocks = calls(&cluster, "client|unblock").await;
    let started = Instant::now();
    let read = reader
        .read(
            &from([StreamId::ZERO, StreamId::ZERO, b1]),
            10,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    println!("moved back: answered after {:?}", started.elapsed());
    assert_eq!(read.len(), 1, "{read:?}");
    let ids: Vec<StreamId> = read[0].1.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![a1, a2]);
    assert!(
        calls(&cluster, "client|unblock").await > unblocks,
        "the abandoned blocked read was interrupted"
    );
    transport.shutdown().await;
}

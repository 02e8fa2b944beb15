//! The liveness set and the record hash on a real `redis-server` (started
//! per test on a free port, killed on drop): beats on the server's clock,
//! expiries reported once to each beater, the whole set, removal, and
//! records kept byte for byte. Waits are bounded polls, never fixed sleeps.

use std::time::{Duration, Instant};

use model::PeerTransport;

mod common;

use common::{PATIENCE, RedisServer, transport};

const SET: &str = "t:alive";

#[tokio::test]
async fn beats_report_each_expiry_once_on_the_server_clock() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    assert!(t.has_liveness());
    let first = t
        .alive_beat(SET, "a", Duration::from_secs(30), 0)
        .await
        .unwrap();
    assert!(!first.was_alive, "a first beat finds no deadline");
    assert!(first.expired.is_empty());
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        first.now_ms.abs_diff(wall) < 5_000,
        "the server's TIME in ms"
    );
    let again = t
        .alive_beat(SET, "a", Duration::from_secs(30), first.now_ms)
        .await
        .unwrap();
    assert!(again.was_alive);
    assert!(again.now_ms >= first.now_ms);

    // b's deadline passes: a's next beats report it, once.
    let b = t
        .alive_beat(SET, "b", Duration::from_millis(50), 0)
        .await
        .unwrap();
    let mut since = again.now_ms;
    let deadline = Instant::now() + PATIENCE;
    let expired = loop {
        let beat = t
            .alive_beat(SET, "a", Duration::from_secs(30), since)
            .await
            .unwrap();
        since = beat.now_ms;
        if !beat.expired.is_empty() {
            break beat.expired;
        }
        assert!(Instant::now() < deadline, "b never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].0, "b");
    assert_eq!(
        expired[0].1,
        b.now_ms + 50,
        "its deadline, on the server clock"
    );
    let next = t
        .alive_beat(SET, "a", Duration::from_secs(30), since)
        .await
        .unwrap();
    assert!(next.expired.is_empty(), "reported once");

    let set = t.alive_members(SET).await.unwrap();
    assert_eq!(set.members.len(), 2);
    let a = set.members.iter().find(|(m, _)| m == "a").unwrap();
    assert!(a.1 > set.now_ms, "a is alive");
    let late = t
        .alive_beat(SET, "b", Duration::from_secs(30), 0)
        .await
        .unwrap();
    assert!(!late.was_alive, "b finds it expired");

    t.alive_remove(SET, "a").await.unwrap();
    let set = t.alive_members(SET).await.unwrap();
    assert!(set.members.iter().all(|(m, _)| m != "a"));
    assert_eq!(server.command(&["TYPE", SET]).as_deref(), Some("+zset"));
    t.shutdown().await;
}

#[tokio::test]
async fn records_are_kept_byte_for_byte() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    assert!(t.records("t:computers").await.unwrap().is_empty());
    let value: &[u8] = b"{\"body\":\"\xff\x00 \\u00e9\"}";
    t.put_record("t:computers", "alpha", value).await.unwrap();
    t.put_record("t:computers", "beta", b"b").await.unwrap();
    let mut got = t.records("t:computers").await.unwrap();
    got.sort();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, "alpha");
    assert_eq!(&got[0].1[..], value);
    t.remove_record("t:computers", "alpha").await.unwrap();
    let got = t.records("t:computers").await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "beta");
    t.shutdown().await;
}

//! The memory transport through the `PeerTransport` trait, as peer-sync uses
//! it: ids, blocking reads, trimming, clearing, and injected faults. Time is
//! paused wherever something waits, so nothing sleeps for real.

use bytes::Bytes;
use model::{PeerTransport, StreamBatch, StreamId, StreamReader, TransportError};
use peer_transport_memory::{ID_BASE_MS, MemoryHub, MemoryTransport};
use std::time::Duration;
use tokio::time::Instant;

const PRESENCE: &str = "fleet:presence";
const EVENTS: &str = "fleet:events:{alpha}";
const BLOCK: Duration = Duration::from_secs(5);

/// Appends one entry whose `body` is `body`, with a large MAXLEN.
async fn put(t: &MemoryTransport, stream: &str, body: &str) -> StreamId {
    t.append(
        stream,
        &[
            ("kind", Bytes::from_static(b"event")),
            ("body", Bytes::copy_from_slice(body.as_bytes())),
        ],
        10_000,
    )
    .await
    .unwrap()
}

/// Reads `stream` after `after` and returns the bodies and ids found.
async fn check(
    r: &mut Box<dyn StreamReader>,
    stream: &str,
    after: StreamId,
    count: usize,
) -> Vec<(StreamId, String)> {
    let batches = r
        .read(&[(stream.to_owned(), after)], count, Duration::ZERO)
        .await
        .unwrap();
    bodies(&batches)
}

fn bodies(batches: &[StreamBatch]) -> Vec<(StreamId, String)> {
    batches
        .iter()
        .flat_map(|(_, entries)| entries)
        .map(|e| {
            let body = e
                .fields
                .iter()
                .find(|(k, _)| k == "body")
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default();
            (e.id, body)
        })
        .collect()
}

fn is_disconnected<T: std::fmt::Debug>(r: Result<T, TransportError>) -> bool {
    matches!(r, Err(TransportError::Disconnected { .. }))
}

#[tokio::test(start_paused = true)]
async fn ids_strictly_increase_and_follow_tokio_time() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let a = put(&t, EVENTS, "a").await;
    let b = put(&t, EVENTS, "b").await;
    tokio::time::advance(Duration::from_millis(7)).await;
    let c = put(&t, EVENTS, "c").await;
    assert_eq!(a, StreamId::new(ID_BASE_MS, 0));
    assert_eq!(b, StreamId::new(ID_BASE_MS, 1));
    assert_eq!(c, StreamId::new(ID_BASE_MS + 7, 0));
    // Each stream has its own sequence.
    assert_eq!(
        put(&t, PRESENCE, "p").await,
        StreamId::new(ID_BASE_MS + 7, 0)
    );
    let batch = vec![
        vec![("body", Bytes::from_static(b"d"))],
        vec![("body", Bytes::from_static(b"e"))],
    ];
    let ids = t.append_batch(EVENTS, &batch, 10_000).await.unwrap();
    assert_eq!(
        ids,
        [
            StreamId::new(ID_BASE_MS + 7, 1),
            StreamId::new(ID_BASE_MS + 7, 2)
        ]
    );
    assert_eq!(t.bounds(EVENTS).await.unwrap(), Some((a, ids[1])));
    assert_eq!(t.bounds("fleet:missing").await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn maxlen_trims_to_exactly_max_len() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = t
            .append(PRESENCE, &[("body", Bytes::from(format!("{i}")))], 3)
            .await
            .unwrap();
        ids.push(id);
    }
    assert_eq!(hub.len(PRESENCE), 3);
    assert_eq!(t.bounds(PRESENCE).await.unwrap(), Some((ids[2], ids[4])));
    let held: Vec<_> = hub.entries(PRESENCE).iter().map(|e| e.id).collect();
    assert_eq!(held, ids[2..]);
}

#[tokio::test(start_paused = true)]
async fn blocking_read_wakes_on_append() {
    let hub = MemoryHub::new();
    let writer = hub.connect("alpha");
    let mut reader = hub.connect("beta").reader().await.unwrap();
    let start = Instant::now();
    let blocked = tokio::spawn(async move {
        let got = reader
            .read(&[(EVENTS.to_owned(), StreamId::ZERO)], 10, BLOCK)
            .await
            .unwrap();
        (bodies(&got), Instant::now())
    });
    // Let the reader block, then append well before its deadline.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!blocked.is_finished());
    let id = put(&writer, EVENTS, "hello").await;
    let (got, woke_at) = blocked.await.unwrap();
    assert_eq!(got, [(id, "hello".to_owned())]);
    assert_eq!(woke_at - start, Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn blocking_read_ignores_other_streams_until_timeout() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let last = put(&t, EVENTS, "old").await;
    let mut reader = t.reader().await.unwrap();
    let start = Instant::now();
    let writer = t.clone();
    let from = [(EVENTS.to_owned(), last)];
    let (got, ()) = tokio::join!(reader.read(&from, 10, BLOCK), async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        put(&writer, PRESENCE, "elsewhere").await;
    });
    assert!(got.unwrap().is_empty());
    assert_eq!(Instant::now() - start, BLOCK);
}

#[tokio::test(start_paused = true)]
async fn read_respects_count_and_order_of_streams() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let e: Vec<_> = put_all(&t, EVENTS, &["e0", "e1", "e2"]).await;
    let p: Vec<_> = put_all(&t, PRESENCE, &["p0"]).await;
    let mut r = t.reader().await.unwrap();
    assert_eq!(check(&mut r, EVENTS, StreamId::ZERO, 2).await.len(), 2);
    assert_eq!(
        check(&mut r, EVENTS, e[0], 0).await.len(),
        2,
        "count 0 is no limit"
    );
    let from = [
        (PRESENCE.to_owned(), StreamId::ZERO),
        ("fleet:empty".to_owned(), StreamId::ZERO),
        (EVENTS.to_owned(), e[1]),
    ];
    let got = r.read(&from, 1, BLOCK).await.unwrap();
    let names: Vec<_> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [PRESENCE, EVENTS]);
    assert_eq!(got[0].1[0].id, p[0]);
    assert_eq!(got[1].1[0].id, e[2]);
    let no_streams = r.read(&[], 1, BLOCK).await;
    assert!(matches!(no_streams, Err(TransportError::Command { .. })));
}

async fn put_all(t: &MemoryTransport, stream: &str, bodies: &[&str]) -> Vec<StreamId> {
    let mut ids = Vec::new();
    for b in bodies {
        ids.push(put(t, stream, b).await);
    }
    ids
}

#[tokio::test(start_paused = true)]
async fn reading_after_a_trimmed_id_returns_what_remains() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let ids = put_all(&t, EVENTS, &["0", "1", "2", "3"]).await;
    assert_eq!(hub.trim(EVENTS, 2), 2);
    assert_eq!(hub.trim("fleet:missing", 2), 0);
    let mut r = t.reader().await.unwrap();
    let got = check(&mut r, EVENTS, ids[0], 10).await;
    assert_eq!(got, [(ids[2], "2".to_owned()), (ids[3], "3".to_owned())]);
    // The gap is visible through bounds: the first held id is past ids[1].
    assert_eq!(t.bounds(EVENTS).await.unwrap(), Some((ids[2], ids[3])));
    // Trimming everything keeps the last id: new ids still grow.
    hub.trim(EVENTS, 0);
    assert_eq!(t.bounds(EVENTS).await.unwrap(), None);
    assert!(put(&t, EVENTS, "4").await > ids[3]);
}

#[tokio::test(start_paused = true)]
async fn clear_drops_streams_and_ids_restart() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let old = put_all(&t, EVENTS, &["0", "1", "2"]).await;
    hub.clear();
    assert!(hub.streams().is_empty());
    assert_eq!(t.bounds(EVENTS).await.unwrap(), None);
    assert!(t.is_connected());
    // Same tokio millisecond: the new id is lower than one a reader holds.
    let new = put(&t, EVENTS, "fresh").await;
    assert!(new > StreamId::ZERO);
    assert!(new < old[2]);
    let mut r = t.reader().await.unwrap();
    assert!(check(&mut r, EVENTS, old[2], 10).await.is_empty());
    assert_eq!(t.bounds(EVENTS).await.unwrap(), Some((new, new)));
}

#[tokio::test(start_paused = true)]
async fn cut_fails_calls_and_wakes_a_blocked_reader() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let other = hub.connect("beta");
    let mut reader = t.reader().await.unwrap();
    let start = Instant::now();
    let blocked = tokio::spawn(async move {
        let r = reader
            .read(&[(EVENTS.to_owned(), StreamId::ZERO)], 10, BLOCK)
            .await;
        (r, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(t.cut());
    let (r, woke_at) = blocked.await.unwrap();
    assert!(is_disconnected(r));
    assert_eq!(woke_at - start, Duration::from_millis(50));

    assert!(!t.link().borrow().connected);
    assert!(is_disconnected(
        t.append(EVENTS, &[("body", Bytes::from_static(b"x"))], 10)
            .await
    ));
    assert!(is_disconnected(t.append_batch(EVENTS, &[vec![]], 10).await));
    assert!(is_disconnected(t.bounds(EVENTS).await));
    assert!(is_disconnected(t.reader().await.map(|_| ())));
    assert_eq!(hub.appends(""), 0);
    // Other clients are unaffected.
    put(&other, EVENTS, "still here").await;
    assert!(!t.cut(), "already cut");
}

#[tokio::test(start_paused = true)]
async fn cut_by_name_reaches_existing_readers() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let mut r = t.reader().await.unwrap();
    assert_eq!(hub.cut("alpha"), 1);
    assert_eq!(hub.cut("nobody"), 0);
    let read = r
        .read(&[(EVENTS.to_owned(), StreamId::ZERO)], 1, BLOCK)
        .await;
    assert!(is_disconnected(read));
    assert_eq!(hub.reconnect("alpha"), 1);
    assert!(
        r.read(&[(EVENTS.to_owned(), StreamId::ZERO)], 1, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn reconnect_bumps_reconnects_and_restores_calls() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let mut link = t.link();
    assert_eq!(
        *link.borrow_and_update(),
        model::Link {
            connected: true,
            reconnects: 0
        }
    );
    t.cut();
    assert!(link.has_changed().unwrap());
    assert!(!link.borrow_and_update().connected);
    t.reconnect();
    assert_eq!(
        *link.borrow_and_update(),
        model::Link {
            connected: true,
            reconnects: 1
        }
    );
    assert_eq!(t.link().borrow().reconnects, 1);
    put(&t, EVENTS, "back").await;
    // A blip on a connected client counts too.
    t.reconnect();
    assert_eq!(t.link().borrow().reconnects, 2);
}

#[tokio::test(start_paused = true)]
async fn restart_clears_and_counts_a_reconnect_without_failing_reads() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let cut = hub.connect("gamma");
    cut.cut();
    let old = put(&t, EVENTS, "old").await;
    let mut reader = t.reader().await.unwrap();
    let blocked =
        tokio::spawn(async move { reader.read(&[(EVENTS.to_owned(), old)], 10, BLOCK).await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    hub.restart();
    assert_eq!(t.link().borrow().reconnects, 1);
    assert_eq!(cut.link().borrow().reconnects, 0);
    assert!(!cut.is_connected());
    assert_eq!(t.bounds(EVENTS).await.unwrap(), None);
    // The blocked read rides through and gets the new server's data.
    let new = put(&t, EVENTS, "new").await;
    let got = blocked.await.unwrap().unwrap();
    assert_eq!(bodies(&got), [(new, "new".to_owned())]);
}

#[tokio::test(start_paused = true)]
async fn appends_counter_and_raw_entries() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    for _ in 0..3 {
        t.append(PRESENCE, &[("kind", Bytes::from_static(b"heartbeat"))], 1)
            .await
            .unwrap();
    }
    assert_eq!(
        hub.appends("fleet:events:"),
        0,
        "nothing written to events streams"
    );
    assert_eq!(
        hub.appends("fleet:presence"),
        3,
        "trimmed entries still count"
    );
    let raw = hub.xadd_raw(
        EVENTS,
        vec![("garbage".to_owned(), Bytes::from_static(b"\xff"))],
    );
    put(&t, "fleet:events:{beta}", "x").await;
    assert_eq!(hub.appends("fleet:events:"), 2);
    hub.clear();
    assert_eq!(hub.appends("fleet:"), 5, "clear keeps the counters");
    assert_eq!(hub.len(EVENTS), 0);
    assert!(raw > StreamId::ZERO);
}

#[tokio::test(start_paused = true)]
async fn raw_entries_are_read_like_any_other() {
    let hub = MemoryHub::new();
    let t = hub.connect("alpha");
    let mut r = t.reader().await.unwrap();
    let id = hub.xadd_raw(EVENTS, vec![("v".to_owned(), Bytes::from_static(b"999"))]);
    let got = r
        .read(&[(EVENTS.to_owned(), StreamId::ZERO)], 10, BLOCK)
        .await
        .unwrap();
    assert_eq!(got[0].1, hub.entries(EVENTS));
    assert_eq!(got[0].1[0].id, id);
    assert_eq!(
        got[0].1[0].fields,
        [("v".to_owned(), Bytes::from_static(b"999"))]
    );
}

/// Ping-pong between two threads, real time: each append lands just as the
/// other side is about to wait. If a wake-up were lost between a reader's
/// look and its wait, that reader would sit out its whole block (longer than
/// the test's patience) and the outer timeout would fire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wake_up_is_lost_across_threads() {
    const ROUNDS: usize = 2_000;
    const PATIENCE: Duration = Duration::from_secs(20);
    let hub = MemoryHub::new();
    let mut players = tokio::task::JoinSet::new();
    for (name, mine, theirs, serves) in [("a", "ping", "pong", true), ("b", "pong", "ping", false)]
    {
        let t = hub.connect(name);
        players.spawn(async move {
            let mut r = t.reader().await.unwrap();
            let mut last = StreamId::ZERO;
            for _ in 0..ROUNDS {
                if serves {
                    put(&t, mine, "ball").await;
                }
                let from = [(theirs.to_owned(), last)];
                let got = r.read(&from, 1, PATIENCE * 2).await.unwrap();
                assert_eq!(got.len(), 1, "{name} timed out waiting for {theirs}");
                last = got[0].1[0].id;
                if !serves {
                    put(&t, mine, "ball").await;
                }
            }
        });
    }
    tokio::time::timeout(PATIENCE, players.join_all())
        .await
        .expect("a reader missed a wake-up");
    assert_eq!(hub.appends("ping"), ROUNDS as u64);
    assert_eq!(hub.appends("pong"), ROUNDS as u64);
}

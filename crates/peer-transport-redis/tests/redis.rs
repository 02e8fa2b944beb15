//! The Redis transport against a real `redis-server`, started per test on a
//! free port and killed on drop. Waits are bounded polls or `watch` waits
//! with a deadline, never fixed sleeps.

use std::time::{Duration, Instant};

use bytes::Bytes;
use model::{Field, Link, PeerTransport, StreamCounts, StreamId, TransportError};
use peer_transport_redis::{Error, RedisConfig, connect, connect_lazy};
use tokio::sync::watch;

mod common;

use common::{PATIENCE, RedisServer, free_port, transport};

/// Waits until the link satisfies `f`, with bounded patience.
async fn link_until(
    rx: &mut watch::Receiver<Link>,
    what: &str,
    f: impl FnMut(&Link) -> bool,
) -> Link {
    let waited = tokio::time::timeout(PATIENCE, rx.wait_for(f))
        .await
        .map(|r| r.map(|l| *l));
    match waited {
        Ok(Ok(l)) => l,
        Ok(Err(_)) => panic!("link channel closed while waiting for {what}"),
        Err(_) => panic!("link never showed {what}; last {:?}", *rx.borrow()),
    }
}

/// Polls `f` until it is true, with bounded patience.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !f() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn fields(kind: &str, body: &[u8]) -> Vec<Field<'static>> {
    vec![
        ("kind", Bytes::copy_from_slice(kind.as_bytes())),
        ("body", Bytes::copy_from_slice(body)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_and_bounds() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    assert_eq!(t.bounds("fleet:events:{a}").await.expect("bounds"), None);
    let a = t
        .append("fleet:events:{a}", &fields("event", b"1"), 100)
        .await
        .expect("append");
    let b = t
        .append("fleet:events:{a}", &fields("event", b"2"), 100)
        .await
        .expect("append");
    let c = t
        .append("fleet:events:{a}", &fields("event", b"3"), 100)
        .await
        .expect("append");
    assert!(a < b && b < c);
    assert_eq!(
        t.bounds("fleet:events:{a}").await.expect("bounds"),
        Some((a, c))
    );
    assert!(t.link().borrow().connected);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_batch_is_ordered() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    let bodies: Vec<Vec<u8>> = (0..50).map(|i| format!("{i}").into_bytes()).collect();
    let entries: Vec<Vec<Field<'_>>> = bodies.iter().map(|b| fields("event", b)).collect();
    let ids = t.append_batch("s", &entries, 1000).await.expect("batch");
    assert_eq!(ids.len(), 50);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        t.append_batch("s", &[], 1000).await.expect("empty batch"),
        vec![]
    );
    let mut r = t.reader().await.expect("reader");
    let got = r
        .read(&[("s".into(), StreamId::ZERO)], 1000, Duration::ZERO)
        .await
        .expect("read");
    let list = &got[0].1;
    assert_eq!(list.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    assert_eq!(list[49].fields[1].1.as_ref(), b"49");
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_read_wakes_on_append_from_another_client() {
    let server = RedisServer::start();
    let writer = transport(&server).await;
    let reading = transport(&server).await;
    let start = writer
        .append("s", &fields("event", b"old"), 100)
        .await
        .expect("append");
    let mut r = reading.reader().await.expect("reader");
    let read = tokio::spawn(async move {
        let began = Instant::now();
        let got = r
            .read(&[("s".into(), start)], 10, Duration::from_secs(5))
            .await;
        (got, began.elapsed())
    });
    eventually("the XREAD is blocked on the server", || {
        server.info_field("clients", "blocked_clients") == Some(1)
    })
    .await;
    let id = writer
        .append("s", &fields("event", b"new"), 100)
        .await
        .expect("append");
    let (got, took) = tokio::time::timeout(PATIENCE, read)
        .await
        .expect("read ends")
        .expect("task");
    let got = got.expect("read");
    assert!(
        took < Duration::from_secs(4),
        "woke by the append, not the timeout: {took:?}"
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "s");
    assert_eq!(got[0].1.len(), 1);
    assert_eq!(got[0].1[0].id, id);
    assert_eq!(got[0].1[0].fields[1].1.as_ref(), b"new");
    writer.shutdown().await;
    reading.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_timeout_returns_nothing() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    let last = t
        .append("s", &fields("event", b"x"), 100)
        .await
        .expect("append");
    let mut r = t.reader().await.expect("reader");
    let began = Instant::now();
    let got = r
        .read(
            &[("s".into(), last), ("missing".into(), StreamId::ZERO)],
            10,
            Duration::from_millis(300),
        )
        .await
        .expect("read");
    assert_eq!(got, vec![]);
    assert!(
        began.elapsed() >= Duration::from_millis(250),
        "{:?}",
        began.elapsed()
    );
    // A requested BLOCK above the configured ceiling is shortened to it.
    let mut c = server.config();
    c.block = Duration::from_millis(200);
    c.command_timeout = Duration::from_secs(2);
    let short = connect(c).await.expect("connect");
    let mut r = short.reader().await.expect("reader");
    let began = Instant::now();
    let got = r
        .read(&[("s".into(), last)], 10, Duration::from_secs(60))
        .await
        .expect("read");
    assert_eq!(got, vec![]);
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    t.shutdown().await;
    short.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxlen_trims_approximately_and_reads_resume_after_a_trimmed_id() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    let body = [7u8; 16];
    let chunk: Vec<Vec<Field<'_>>> = (0..500).map(|_| fields("event", &body)).collect();
    let mut first = None;
    for _ in 0..50 {
        let ids = t.append_batch("big", &chunk, 10_000).await.expect("batch");
        first.get_or_insert(ids[0]);
    }
    let first = first.expect("appended");
    let len: u64 = server
        .command(&["XLEN", "big"])
        .and_then(|l| l.trim_start_matches(':').parse().ok())
        .expect("XLEN");
    assert!(
        (9_000..=11_000).contains(&len),
        "length after trimming: {len}"
    );
    let (oldest, newest) = t.bounds("big").await.expect("bounds").expect("not empty");
    assert!(oldest > first, "the first entry was trimmed away");
    // Reading from the trimmed id returns what is left, from the oldest.
    let mut r = t.reader().await.expect("reader");
    let got = r
        .read(&[("big".into(), first)], 20_000, Duration::ZERO)
        .await
        .expect("read");
    let list = &got[0].1;
    assert_eq!(list.len() as u64, len);
    assert_eq!(list[0].id, oldest);
    assert_eq!(list[list.len() - 1].id, newest);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_values_are_binary_safe() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    let all: Vec<u8> = (0..=255).collect();
    let values: [&[u8]; 5] = [
        &all,
        b"",
        &[0xff, 0xfe, 0x00],
        b"line\r\nbreak $3\r\n",
        "é✓".as_bytes(),
    ];
    let mut r = t.reader().await.expect("reader");
    for v in values {
        let id = t
            .append(
                "bin",
                &[
                    ("v", Bytes::copy_from_slice(v)),
                    ("w", Bytes::copy_from_slice(v)),
                ],
                100,
            )
            .await
            .expect("append");
        let got = r
            .read(&[("bin".into(), id.predecessor())], 1, Duration::ZERO)
            .await
            .expect("read");
        assert_eq!(got[0].1[0].id, id);
        assert_eq!(got[0].1[0].fields[0].0, "v");
        assert_eq!(got[0].1[0].fields[0].1.as_ref(), v);
        assert_eq!(got[0].1[0].fields[1].1.as_ref(), v);
    }
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_follows_a_redis_restart_and_reads_work_again() {
    let mut server = RedisServer::start();
    let t = transport(&server).await;
    let mut link = t.link();
    let mut r = t.reader().await.expect("reader");
    let before = link_until(&mut link, "connected", |l| l.connected).await;
    assert_eq!(before.reconnects, 0);
    let id = t
        .append("s", &fields("event", b"before"), 100)
        .await
        .expect("append");

    // A read blocked while the server dies ends in bounded time, whatever it
    // returns, and the link shows the loss.
    let blocked = tokio::spawn(async move {
        let got = r
            .read(&[("s".into(), id)], 10, Duration::from_secs(5))
            .await;
        (r, got)
    });
    eventually("the XREAD is blocked", || {
        server.info_field("clients", "blocked_clients") == Some(1)
    })
    .await;
    server.kill();
    link_until(&mut link, "the loss", |l| !l.connected).await;
    server.restart();
    let after = link_until(&mut link, "a reconnect", |l| {
        l.connected && l.reconnects > before.reconnects
    })
    .await;
    assert!(after.reconnects >= 1);
    let (mut r, _) = tokio::time::timeout(PATIENCE, blocked)
        .await
        .expect("the blocked read ends")
        .expect("task");

    // The new server is empty; writes and reads work again.
    assert_eq!(
        t.bounds("s").await.expect("bounds"),
        None,
        "the restarted server is empty"
    );
    let new = t
        .append("s", &fields("event", b"after"), 100)
        .await
        .expect("append after restart");
    let got = r
        .read(&[("s".into(), StreamId::ZERO)], 10, Duration::from_secs(1))
        .await
        .expect("read after restart");
    assert_eq!(got[0].1.len(), 1);
    assert_eq!(got[0].1[0].id, new);
    assert!(link.borrow().connected);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_start_while_redis_is_down() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let mut c = RedisConfig::new(url.clone());
    c.reconnect_max_delay = Duration::from_millis(200);
    c.connect_timeout = Duration::from_secs(2);

    // The eager constructor reports that Redis is down, quickly.
    let began = Instant::now();
    match connect(c.clone()).await {
        Err(Error::Connect { url: u, .. }) => assert_eq!(u, url),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("connected to nothing"),
    }
    assert!(began.elapsed() < Duration::from_secs(3));

    // The lazy one starts anyway and connects when Redis comes up.
    let t = connect_lazy(c).expect("lazy start");
    let mut link = t.link();
    assert!(!link.borrow().connected);
    let _server = RedisServer::start_on(port);
    let l = link_until(&mut link, "the first connection", |l| l.connected).await;
    assert_eq!(l.reconnects, 0, "a first connection is not a reconnect");
    t.append("s", &fields("event", b"x"), 10)
        .await
        .expect("append");
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_and_settings_are_refused_clearly() {
    for url in [
        "http://127.0.0.1:6379",
        "127.0.0.1:6379",
        "redis://",
        "redis-sentinel://h:26379",
    ] {
        match connect(RedisConfig::new(url)).await {
            Err(e @ Error::BadUrl { .. }) => {
                assert!(e.to_string().contains("bad Redis URL"), "{e}");
            }
            Err(other) => panic!("{url}: unexpected error {other}"),
            Ok(_) => panic!("{url}: accepted"),
        }
    }
    let err = connect_lazy(RedisConfig::new("http://user:hunter2@h:1"))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("scheme"), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let mut c = RedisConfig::new("redis://127.0.0.1:1");
    c.command_timeout = c.block;
    assert!(matches!(
        connect_lazy(c),
        Err(Error::BadConfig {
            field: "command_timeout",
            ..
        })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_close_on_drop_and_everything_on_shutdown() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    let baseline = server
        .info_field("clients", "connected_clients")
        .expect("info");
    let r1 = t.reader().await.expect("reader");
    let r2 = t.reader().await.expect("reader");
    eventually("two more connections", || {
        server.info_field("clients", "connected_clients") == Some(baseline + 2)
    })
    .await;
    drop(r1);
    eventually("the dropped reader's connection closes", || {
        server.info_field("clients", "connected_clients") == Some(baseline + 1)
    })
    .await;
    assert!(
        t.link().borrow().connected,
        "a dropped reader does not make the link down"
    );

    tokio::time::timeout(Duration::from_secs(10), t.shutdown())
        .await
        .expect("shutdown is bounded");
    eventually("every connection of the transport closes", || {
        server.info_field("clients", "connected_clients") == Some(baseline - 1)
    })
    .await;
    assert!(!t.link().borrow().connected);
    assert!(matches!(
        t.append("s", &fields("event", b"x"), 10).await,
        Err(TransportError::Disconnected { .. })
    ));
    assert!(t.reader().await.is_err());
    let mut r2 = r2;
    assert!(
        r2.read(&[("s".into(), StreamId::ZERO)], 1, Duration::ZERO)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn counts_tell_what_trimming_removed() {
    let server = RedisServer::start();
    let transport = transport(&server).await;
    assert_eq!(transport.counts("s").await.unwrap(), None, "no stream");
    for i in 0..10u8 {
        transport
            .append("s", &[("k", Bytes::copy_from_slice(&[i]))], 100)
            .await
            .unwrap();
    }
    let full = StreamCounts {
        length: 10,
        entries_added: 10,
    };
    assert_eq!(transport.counts("s").await.unwrap(), Some(full));
    let trimmed = server.command(&["XTRIM", "s", "MAXLEN", "4"]);
    assert_eq!(trimmed.as_deref(), Some(":6"));
    let after = StreamCounts {
        length: 4,
        entries_added: 10,
    };
    assert_eq!(transport.counts("s").await.unwrap(), Some(after));
}

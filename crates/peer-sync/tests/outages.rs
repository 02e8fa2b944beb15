//! Outages longer than three heartbeat periods, over the in-memory
//! transport with paused time: a stall of the whole log, one watcher cut
//! off, a pusher whose feed lags, and a pusher that forgot its watcher. In
//! every case the watcher ends equal with the owner on every topic, having
//! received every session change in `rev` order, with nothing stale.

mod common;

use common::*;

/// Both nodes watch each other's sessions and preparation; `a` holds one
/// session `b` has seen.
async fn watched_pair(hub: &MemoryHub) -> (Node, Node, Vec<InterestGuard>) {
    let (mut a, b) = two_online(hub).await;
    let guards = vec![
        b.cache.watch(Topic::Sessions, &ComputerFilter::All),
        b.cache.watch(Topic::Preparation, &ComputerFilter::All),
    ];
    a.touch("s");
    a.touch("doomed");
    until(Duration::from_secs(5), "initial state on b", || {
        b.sessions_of("a").len() == 2
    })
    .await;
    // Followed through the stream from here on (not only by snapshot).
    a.touch("doomed");
    until(Duration::from_secs(5), "a pushed change on b", || {
        b.sessions_of("a") == a.sessions_of("a")
    })
    .await;
    (a, b, guards)
}

/// Every new session revision `rx` saw for `id`, in order (past `after`:
/// the held revision is published again, stale then fresh, as its owner
/// goes offline and comes back).
fn revs_of(rx: &mut broadcast::Receiver<Arc<FeedEvent>>, id: &str, after: u64) -> Vec<u64> {
    events_of(rx, Topic::Sessions)
        .iter()
        .filter(|e| e.event != EventName::SessionClosed)
        .filter_map(|e| {
            let s: Session = serde_json::from_slice(&e.data).ok()?;
            (s.session_id == id && s.rev > after).then_some(s.rev)
        })
        .collect()
}

async fn equal_on_every_topic(a: &Node, b: &Node, limit: Duration) -> Duration {
    until(limit, "b equal with a on every topic", || {
        b.sessions_of("a") == a.sessions_of("a") && b.preparation_of("a") == a.preparation_of("a")
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_stall_of_the_whole_log_loses_no_change() {
    let hub = MemoryHub::new();
    let (mut a, mut b, _guards) = watched_pair(&hub).await;
    let mut rx = b.cache.subscribe();
    let sweeping = tokio_util::sync::CancellationToken::new();
    for n in [&a, &b] {
        tokio::spawn(
            n.cache
                .clone()
                .run_sweeper(Duration::from_millis(100), sweeping.clone()),
        );
    }

    // Nothing reaches the log for five periods: each marks the other offline.
    hub.cut("a");
    hub.cut("b");
    for _ in 0..40 {
        a.touch("s");
        run_for(PERIOD / 8).await;
    }
    a.end("doomed");
    a.set_preparation(&["p1", "p2"], 3);
    until(PERIOD * 2, "b sees a offline", || {
        b.cache.online_peers() == 0
    })
    .await;
    assert!(b.sessions_of("a").iter().all(|s| s.stale));
    hub.reconnect("a");
    hub.reconnect("b");

    let took = equal_on_every_topic(&a, &b, Duration::from_secs(5)).await;
    assert!(
        b.sessions_of("a").iter().all(|s| !s.stale),
        "a is back: nothing stale"
    );
    assert_eq!(
        b.sessions_of("a").len(),
        1,
        "the close made in the stall arrived"
    );
    assert_eq!(
        revs_of(&mut rx, "s", 1),
        (2..=41).collect::<Vec<u64>>(),
        "every change, in order"
    );
    b.stop().await;
    a.stop().await;
    sweeping.cancel();
    eprintln!("converged {took:?} after the stall ended");
}

#[tokio::test(start_paused = true)]
async fn one_watcher_cut_off_while_the_rest_is_fine_loses_nothing() {
    let hub = MemoryHub::new();
    let (mut a, b, _guards) = watched_pair(&hub).await;
    let mut rx = b.cache.subscribe();
    let before = hub.appends("fleet:events:{a}");
    hub.cut("b");
    for _ in 0..30 {
        a.touch("s");
        run_for(PERIOD / 4).await;
    }
    a.end("doomed");
    a.set_preparation(&["p"], 2);
    run_for(Duration::from_millis(100)).await;
    let pushed = hub.appends("fleet:events:{a}") - before;
    assert!(
        pushed >= 32,
        "a kept pushing for the silent watcher ({pushed})"
    );
    hub.reconnect("b");
    equal_on_every_topic(&a, &b, Duration::from_secs(5)).await;
    assert_eq!(revs_of(&mut rx, "s", 1), (2..=31).collect::<Vec<u64>>());
}

#[tokio::test(start_paused = true)]
async fn a_push_feed_lag_ends_equal_on_sessions_closes_projects_and_todos() {
    let hub = MemoryHub::new();
    let small_feed = CacheConfig {
        channel_capacity: 8,
        ..CacheConfig::default()
    };
    let (mut a, b) = pair_with(&hub, small_feed).await;
    let _g1 = b.cache.watch(Topic::Sessions, &ComputerFilter::All);
    let _g2 = b.cache.watch(Topic::Preparation, &ComputerFilter::All);
    for i in 0..5 {
        a.touch(&format!("s{i}"));
    }
    a.set_preparation(&["old"], 2);
    equal_on_every_topic(&a, &b, Duration::from_secs(5)).await;

    // The push task sits in its retry backoff while far more changes than
    // the feed holds are published.
    hub.cut("a");
    a.touch("s0");
    run_for(Duration::from_millis(10)).await;
    for round in 0..20 {
        for i in 0..5 {
            a.touch(&format!("s{i}"));
        }
        a.set_preparation(&["old", &format!("p{round}")], round % 4);
    }
    a.end("s3");
    a.end("s4");
    a.set_preparation(&["new"], 1);
    hub.reconnect("a");

    equal_on_every_topic(&a, &b, Duration::from_secs(5)).await;
    assert_eq!(b.sessions_of("a").len(), 3, "both closes arrived");
    assert!(
        a.metrics
            .dropped_inputs
            .get_or_create(&model::metrics::DropLabels {
                source: "push",
                reason: "lagged",
            })
            .get()
            > 0,
        "the feed really lagged"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pusher_that_forgot_its_watcher_makes_it_re_snapshot() {
    let hub = MemoryHub::new();
    // `a` forgets a silent peer after 3 periods and 1 s; `b` remembers `a`
    // for the default 10 minutes and keeps following its stream.
    let short = CacheConfig {
        stale_retention: Duration::from_secs(1),
        ..CacheConfig::default()
    };
    let (mut a, b) = pair_with(&hub, short).await;
    let _g = b.cache.watch(Topic::Sessions, &ComputerFilter::All);
    a.touch("s");
    until(Duration::from_secs(5), "initial", || {
        b.sessions_of("a").len() == 1
    })
    .await;

    hub.cut("b");
    run_for(PERIOD * 3 + Duration::from_secs(2)).await;
    let before = hub.appends("fleet:events:{a}");
    for _ in 0..10 {
        a.touch("s");
    }
    a.touch("new");
    run_for(PERIOD).await;
    assert_eq!(
        hub.appends("fleet:events:{a}"),
        before,
        "a forgot b: nothing pushed, the changes are only counted as skipped"
    );
    hub.reconnect("b");
    until(
        Duration::from_secs(10),
        "b re-snapshots and converges",
        || b.sessions_of("a") == a.sessions_of("a"),
    )
    .await;
}

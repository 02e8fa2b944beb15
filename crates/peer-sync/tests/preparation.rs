//! Watched remote projects and todos never get older than the cache's TTL:
//! past it, the watcher pulls them again from their owner (unwatched ones
//! are dropped instead). In-memory transport, paused tokio time.

mod common;

use common::*;
use tokio_util::sync::CancellationToken;

const TTL: Duration = Duration::from_secs(30);

#[tokio::test(start_paused = true)]
async fn a_watched_remote_project_list_is_pulled_again_after_its_ttl() {
    let hub = MemoryHub::new();
    let a = Node::start(&hub, "a");
    let b = Node::start_full(
        &hub,
        "b",
        config(None),
        CacheConfig {
            preparation_ttl: TTL,
            ..CacheConfig::default()
        },
    );
    until(Duration::from_secs(5), "peers see each other", || {
        a.cache.online_peers() == 1 && b.cache.online_peers() == 1
    })
    .await;
    a.set_preparation(&["p1", "p2"], 2);
    let (_guard, _rx) = b.watch(Topic::Preparation);
    until(Duration::from_secs(5), "b holds a's projects", || {
        b.preparation_of("a") == a.preparation_of("a")
    })
    .await;
    let sweeping = CancellationToken::new();
    tokio::spawn(
        b.cache
            .clone()
            .run_sweeper(Duration::from_millis(100), sweeping.clone()),
    );

    // b's copy goes wrong without a change on a (as if a change had been
    // lost on its way): only a pull from a can mend it.
    b.cache.set_projects("a", Vec::new());
    let wrong = b.preparation_of("a");
    let asked = hub.appends("fleet:inbox:{a}");

    run_for(TTL - Duration::from_secs(1)).await;
    assert_eq!(b.preparation_of("a"), wrong, "not pulled before the TTL");
    assert_eq!(hub.appends("fleet:inbox:{a}"), asked, "no request yet");

    until(Duration::from_secs(2), "b pulls a's projects again", || {
        b.preparation_of("a") == a.preparation_of("a")
    })
    .await;
    assert_eq!(
        hub.appends("fleet:inbox:{a}"),
        asked + 1,
        "one snapshot request"
    );

    // Fresh again: the next pull is a whole TTL away, not one per sweep.
    run_for(TTL / 2).await;
    assert_eq!(
        hub.appends("fleet:inbox:{a}"),
        asked + 1,
        "no more requests"
    );
    sweeping.cancel();
}

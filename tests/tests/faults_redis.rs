//! Faults longer than three heartbeat periods, through real `fleetd`
//! processes and a real `redis-server`: Redis frozen (SIGSTOP) for 10 s and
//! for 60 s, Redis unreachable behind a blackholing proxy, one watcher's
//! link cut while the rest of the fleet is fine, and Redis restarted empty
//! during an outage. After each, every change made during the fault reaches
//! the watcher in `rev` order (or, where Redis lost it, a snapshot heals
//! it), closes included, and the caches end equal with nothing stale.

use fleet_tests::{
    DaemonFixture, RedisFixture, TcpProxy, Value, WsClient, assert_eventually, json,
};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);
/// Heartbeat period of every daemon here: a 10 s fault is 20 periods.
const HEARTBEAT_MS: u64 = 500;
/// How long the caches may take to be equal once a fault ends (the
/// contract asks for 5 s; the slack is for a loaded CI machine).
const CONVERGE: Duration = Duration::from_secs(10);

async fn daemon(url: &str, name: &str) -> DaemonFixture {
    DaemonFixture::builder()
        .computer(name)
        .redis(url)
        .heartbeat_ms(HEARTBEAT_MS)
        .start()
        .await
}

async fn sees_peer(d: &DaemonFixture) {
    assert_eventually!(d.health().await["peers"] == json!(1), timeout = WAIT);
}

async fn create(d: &DaemonFixture, title: &str) -> String {
    let (status, body) = d
        .http_post_json("/v1/sessions", &json!({ "title": title }))
        .await;
    assert_eq!(status, 201, "{body}");
    body["session_id"].as_str().unwrap_or_default().to_owned()
}

async fn patch(d: &DaemonFixture, id: &str, title: String) -> u64 {
    let (status, v) = d
        .http_patch_json(&format!("/v1/sessions/{id}"), &json!({ "title": title }))
        .await;
    assert_eq!(status, 200, "{v}");
    v["rev"].as_u64().unwrap_or_default()
}

async fn sessions_of(d: &DaemonFixture, computer: &str) -> Value {
    d.http_get(&format!("/v1/sessions?computer={computer}"))
        .await
        .1
}

/// The owner and the watcher, a WebSocket client of the watcher following
/// one session of the owner through its stream (not only its snapshot), and
/// a second session of the owner that the fault will see ended.
struct Scene {
    owner: DaemonFixture,
    watcher: DaemonFixture,
    ws: WsClient,
    id: String,
    doomed: String,
    rev: u64,
    seen: Vec<u64>,
}

impl Scene {
    async fn start(owner_url: &str, watcher_url: &str) -> Self {
        let owner = daemon(owner_url, "alpha").await;
        let watcher = daemon(watcher_url, "beta").await;
        sees_peer(&owner).await;
        sees_peer(&watcher).await;
        let mut ws = watcher.ws().await;
        ws.subscribe("sessions").await;
        let id = create(&owner, "followed").await;
        let doomed = create(&owner, "ended during the fault").await;
        assert_eventually!(
            sessions_of(&watcher, "alpha")
                .await
                .as_array()
                .map(Vec::len)
                == Some(2),
            timeout = WAIT
        );
        let rev = patch(&owner, &id, "through the stream".into()).await;
        let mut scene = Self {
            owner,
            watcher,
            ws,
            id,
            doomed,
            rev,
            seen: Vec::new(),
        };
        scene.revs_between(0, rev).await;
        scene
    }

    /// Changes made while the fault lasts: `n` patches, and the end of the
    /// doomed session.
    async fn change_during_fault(&mut self, n: usize) {
        for i in 0..n {
            self.rev = patch(&self.owner, &self.id, format!("change {i}")).await;
        }
        let (status, body) = self
            .owner
            .http_delete(&format!("/v1/sessions/{}", self.doomed))
            .await;
        assert_eq!(status, 204, "{body}");
    }

    /// Reads the watcher's frames until `deadline`, noting every revision
    /// of the followed session: a client that reads, as `fleet watch`
    /// does, so that it answers pings and keeps its interest through a
    /// long fault.
    async fn read_until(&mut self, deadline: tokio::time::Instant) {
        while let Some(v) = self.ws.recv_json_before(deadline).await {
            if v["event"] == "session_updated" && v["data"]["session_id"] == self.id.as_str() {
                self.seen
                    .push(v["data"]["rev"].as_u64().unwrap_or_default());
            }
        }
    }

    /// The new revisions of the followed session the WebSocket client
    /// received after `after`, up to `last` (waiting for them).
    async fn revs_between(&mut self, after: u64, last: u64) -> Vec<u64> {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !self.seen.contains(&last) && tokio::time::Instant::now() < deadline {
            let step = (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline);
            self.read_until(step).await;
        }
        let mut revs: Vec<u64> = Vec::new();
        for rev in self.seen.iter().copied() {
            // The held revision comes again, stale then fresh, as the
            // owner goes offline and comes back: not a change.
            if rev > revs.last().copied().unwrap_or(after) {
                revs.push(rev);
            }
        }
        revs
    }

    /// Lets the fault last `d`, reading the watcher's frames meanwhile.
    async fn fault_lasts(&mut self, d: Duration) {
        self.read_until(tokio::time::Instant::now() + d).await;
    }

    /// After a fault that lost nothing Redis held: the caches are equal and
    /// the watcher received every change made since `before`, in order,
    /// once.
    async fn recovers_every_change(&mut self, before: u64, fault: &str) {
        let took = self.converged().await;
        let last = self.rev;
        assert_eq!(
            self.revs_between(before, last).await,
            (before + 1..=last).collect::<Vec<u64>>(),
            "every change made during the fault, in order, once"
        );
        eprintln!("{fault}: caches equal {took:?} after it ended");
    }

    /// Waits until the watcher's cache equals the owner's, nothing stale,
    /// and returns how long that took.
    async fn converged(&self) -> Duration {
        let start = Instant::now();
        assert_eventually!(
            {
                let (mine, theirs) = (
                    sessions_of(&self.owner, "alpha").await,
                    sessions_of(&self.watcher, "alpha").await,
                );
                mine == theirs
            },
            timeout = CONVERGE
        );
        start.elapsed()
    }
}

async fn stall(seconds: u64) {
    let mut redis = RedisFixture::start().await;
    let url = redis.url();
    let mut scene = Scene::start(&url, &url).await;
    let before = scene.rev;

    redis.pause();
    scene.change_during_fault(40).await;
    // The fault's length is the point here, not a wait for a condition.
    scene.fault_lasts(Duration::from_secs(seconds)).await;
    assert_eventually!(
        scene.watcher.health().await["peers"] == json!(0),
        timeout = WAIT
    );
    redis.resume();

    scene
        .recovers_every_change(before, &format!("redis frozen {seconds} s"))
        .await;
    assert_eq!(
        sessions_of(&scene.watcher, "alpha")
            .await
            .as_array()
            .map(Vec::len),
        Some(1),
        "the session ended in the stall is gone"
    );
    let _ = redis.is_running();
}

#[tokio::test]
async fn a_redis_frozen_for_10_s_loses_no_change() {
    stall(10).await;
}

#[tokio::test]
async fn a_redis_frozen_for_60_s_loses_no_change() {
    stall(60).await;
}

#[tokio::test]
async fn a_blackholed_redis_for_10_s_loses_no_change() {
    let redis = RedisFixture::start().await;
    let (to_owner, to_watcher) = (
        TcpProxy::start(redis.addr()).await,
        TcpProxy::start(redis.addr()).await,
    );
    let mut scene = Scene::start(&to_owner.redis_url(), &to_watcher.redis_url()).await;
    let before = scene.rev;

    to_owner.cut();
    to_watcher.cut();
    scene.change_during_fault(40).await;
    scene.fault_lasts(Duration::from_secs(10)).await;
    to_owner.restore();
    to_watcher.restore();

    scene
        .recovers_every_change(before, "redis blackholed 10 s")
        .await;
}

#[tokio::test]
async fn one_watcher_cut_off_for_10_s_loses_no_change() {
    let redis = RedisFixture::start().await;
    let to_watcher = TcpProxy::start(redis.addr()).await;
    let mut scene = Scene::start(&redis.url(), &to_watcher.redis_url()).await;
    let before = scene.rev;

    to_watcher.cut();
    scene.change_during_fault(40).await;
    assert_eventually!(
        scene.owner.health().await["peers"] == json!(0),
        timeout = WAIT
    );
    scene.fault_lasts(Duration::from_secs(10)).await;
    to_watcher.restore();

    scene
        .recovers_every_change(before, "watcher cut off 10 s")
        .await;
}

#[tokio::test]
async fn redis_restarted_empty_during_an_outage_heals_every_change() {
    let mut redis = RedisFixture::start().await;
    let url = redis.url();
    let mut scene = Scene::start(&url, &url).await;
    let before = scene.rev;

    redis.kill();
    scene.change_during_fault(40).await;
    redis.restart_same_port().await; // not persistent: empty

    let took = scene.converged().await;
    let last = scene.rev;
    let revs = scene.revs_between(before, last).await;
    assert_eq!(revs.last(), Some(&last), "the last state arrived");
    assert!(
        revs.windows(2).all(|w| w[0] < w[1]),
        "in rev order: {revs:?}"
    );
    assert_eq!(
        sessions_of(&scene.watcher, "alpha")
            .await
            .as_array()
            .map(Vec::len),
        Some(1),
        "the session ended in the outage is gone"
    );
    eprintln!("redis restarted empty: caches equal {took:?} after it came back");
}

//! `redis-sentinel://` end to end: two daemons on a master with two
//! replicas watched by three sentinels (`redis-server --sentinel`, quorum
//! 2, 1 s `down-after-milliseconds`). A session on daemon A is changed
//! every 25 ms while a WebSocket client of daemon B watches it; the master
//! is SIGKILLed mid-stream. The sentinels promote a replica, both daemons
//! follow it, and B converges: every change A acknowledged is visible on B
//! at its rev or a newer one, and B's client never sees a rev go back.
//!
//! Prints how long the sentinels took to promote a replica and how long
//! the fleet took to carry a change written after the kill.

use std::time::Duration;

use fleet_tests::{DaemonFixture, SentinelFixture, Value, WsClient, assert_eventually, json};
use tokio::time::Instant;

/// Patience for the set-up and the final convergence.
const WAIT: Duration = Duration::from_secs(30);

/// How long the whole failover (detection, election, promotion, the
/// daemons reconnecting and healing) may take before the test fails.
const RECOVERY_LIMIT: Duration = Duration::from_secs(45);

/// Pace of the writer on A.
const WRITE_EVERY: Duration = Duration::from_millis(25);

/// Changes written before the kill, and after the fleet has recovered.
const BEFORE_KILL: u64 = 40;
const AFTER_RECOVERY: u64 = 40;

async fn daemon(url: &str, name: &str) -> DaemonFixture {
    DaemonFixture::builder()
        .computer(name)
        .redis(url)
        .heartbeat_ms(250)
        .start()
        .await
}

async fn paired(a: &DaemonFixture, b: &DaemonFixture) {
    for d in [a, b] {
        assert_eventually!(
            d.health().await,
            |h| h["redis"] == "connected" && h["peers"] == json!(1),
            timeout = WAIT
        );
    }
}

/// The session's rev and `last_output` as `d` sees it.
async fn seen(d: &DaemonFixture, id: &str) -> Option<(u64, String)> {
    let (status, s) = d.http_get(&format!("/v1/sessions/{id}")).await;
    if status != 200 {
        return None;
    }
    Some((
        s["rev"].as_u64()?,
        s["last_output"].as_str().unwrap_or_default().to_owned(),
    ))
}

/// The revs of session `id` in every frame `ws` received until one shows
/// `rev`: events for it and its entry in snapshots.
async fn revs_until(ws: &mut WsClient, id: &str, rev: u64) -> Vec<u64> {
    let mut revs = Vec::new();
    let rev_in = |v: &Value| -> Option<u64> {
        if v["type"] == "event" && v["data"]["session_id"] == id {
            return v["data"]["rev"].as_u64();
        }
        if v["type"] == "snapshot" {
            return v["data"]["sessions"]
                .as_array()?
                .iter()
                .find(|s| s["session_id"] == id)?["rev"]
                .as_u64();
        }
        None
    };
    ws.next_matching(
        WAIT,
        &format!("session {id} at rev {rev}"),
        |v| match rev_in(v) {
            Some(r) => {
                revs.push(r);
                r >= rev
            }
            None => false,
        },
    )
    .await;
    revs
}

#[tokio::test]
async fn a_killed_master_is_replaced_and_the_fleet_follows_without_losing_changes() {
    let mut set = SentinelFixture::start("fleetmain", 2).await;
    let url = set.url();
    let a = daemon(&url, "alpha").await;
    let b = daemon(&url, "beta").await;
    paired(&a, &b).await;

    let (status, s) = a
        .http_post_json("/v1/sessions", &json!({ "title": "through a failover" }))
        .await;
    assert_eq!(status, 201, "{s}");
    let id = s["session_id"].as_str().unwrap_or_default().to_owned();
    let mut ws = b.ws().await;
    ws.subscribe("sessions").await;
    assert_eventually!(seen(&b, &id).await.is_some(), timeout = WAIT);

    let old_master = set
        .master_port()
        .await
        .expect("the sentinels name a master");
    let mut ticker = tokio::time::interval(WRITE_EVERY);
    let mut last: (u64, String) = (0, String::new());
    let mut killed: Option<(Instant, u64)> = None;
    let mut promoted: Option<(Instant, u16)> = None;
    let mut recovered: Option<(Instant, u64)> = None;
    for i in 1.. {
        ticker.tick().await;
        let line = format!("line {i}");
        let (status, v) = a
            .http_patch_json(
                &format!("/v1/sessions/{id}"),
                &json!({ "last_output": line }),
            )
            .await;
        // A's own writes never wait for Redis: every one is acknowledged.
        assert_eq!(status, 200, "PATCH {i}: {v}");
        let rev = v["rev"].as_u64().expect("a rev");
        assert!(
            rev > last.0,
            "revs grow on the owner: {rev} after {}",
            last.0
        );
        last = (rev, line);

        if i == BEFORE_KILL {
            set.kill_server(old_master);
            killed = Some((Instant::now(), rev));
            continue;
        }
        let Some((killed_at, rev_at_kill)) = killed else {
            continue;
        };
        if promoted.is_none()
            && let Some(port) = set.master_port().await
            && port != old_master
        {
            promoted = Some((Instant::now(), port));
        }
        if recovered.is_none()
            && let Some((rev_on_b, _)) = seen(&b, &id).await
            && rev_on_b > rev_at_kill
        {
            recovered = Some((Instant::now(), i));
        }
        if let Some((_, at)) = recovered
            && promoted.is_some()
            && i >= at + AFTER_RECOVERY
        {
            break;
        }
        if killed_at.elapsed() > RECOVERY_LIMIT {
            panic!(
                "no recovery within {RECOVERY_LIMIT:?} of the kill: promoted {promoted:?}, \
                 B sees {:?}, A wrote rev {}\n--- alpha\n{}\n--- beta\n{}\n{}",
                seen(&b, &id).await,
                last.0,
                a.log_tail(40),
                b.log_tail(40),
                set.sentinel_logs()
            );
        }
    }
    let (Some((killed_at, _)), Some((promoted_at, new_master)), Some((recovered_at, _))) =
        (killed, promoted, recovered)
    else {
        unreachable!("the loop ends only with all three set");
    };

    // Every acknowledged change: the last one covers them all (revs grow).
    let (final_rev, final_line) = last;
    assert_eventually!(
        seen(&b, &id).await,
        |s| s.as_ref() == Some(&(final_rev, final_line.clone())),
        timeout = WAIT
    );
    let revs = revs_until(&mut ws, &id, final_rev).await;
    assert!(
        revs.windows(2).all(|w| w[0] <= w[1]),
        "B's client saw a rev go back: {revs:?}"
    );
    for d in [&a, &b] {
        assert_eventually!(
            d.health().await,
            |h| h["redis"] == "connected" && h["peers"] == json!(1),
            timeout = WAIT
        );
    }
    // With a 1 s down-after on a loaded machine, a sentinel can judge the
    // freshly promoted replica down too and fail over once more (seen in a
    // whole-suite run): the sentinels must agree on one surviving master,
    // and the fleet must follow whichever it is.
    let agreed = assert_eventually!(
        agreed_master(&set, old_master).await,
        |m| m.is_some(),
        timeout = WAIT
    );
    if agreed != Some(new_master) {
        let (status, v) = a
            .http_patch_json(
                &format!("/v1/sessions/{id}"),
                &json!({ "last_output": "after the second failover" }),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        let rev = v["rev"].as_u64().expect("a rev");
        assert_eventually!(
            seen(&b, &id).await,
            |s| s.as_ref().is_some_and(|(r, _)| *r >= rev),
            timeout = WAIT
        );
        eprintln!("sentinel failover: a second failover moved the master to {agreed:?}");
    }

    let promotion = promoted_at - killed_at;
    let fleet = recovered_at - killed_at;
    eprintln!(
        "sentinel failover: master :{old_master} killed; replica :{new_master} promoted after \
         {promotion:?}; B showed a change written after the kill {fleet:?} after the kill \
         ({:?} after the promotion was visible); {} changes, final rev {final_rev}, \
         {} frames about the session on B's WebSocket",
        fleet.saturating_sub(promotion),
        final_rev,
        revs.len()
    );
}

/// The master every sentinel names, if they all name the same one and it is
/// not `killed`.
async fn agreed_master(set: &SentinelFixture, killed: u16) -> Option<u16> {
    let port = set.master_port().await.filter(|p| *p != killed)?;
    set.all_agree_on(port).await.then_some(port)
}

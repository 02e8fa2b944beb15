//! Scenario 4, `idle`: a fleet of 10 daemons for a window (60 s; 5 s with
//! `--quick`) while daemon `n0` makes 1,000 changes, first with no
//! subscriber anywhere, then with one WebSocket subscriber on `n1`. Redis
//! counts the commands by type (`INFO commandstats`, reset before each
//! window) and `XINFO STREAM`'s `entries-added` tells appends to events
//! streams from heartbeats. The baseline is the same window with one
//! subscriber: what watching costs.

use super::Ctx;
use crate::client::{self, Conn};
use crate::fleet::{Fleet, wait_count};
use crate::redis_client::Redis;
use crate::redis_stats::{self, CommandCalls};
use crate::report::{Outcome, ScenarioReport, Table, Verdict};
use crate::workload::{create_sessions, patch_body};
use crate::ws::{Ws, session_event};
use anyhow::Context as _;
use hyper::{Method, StatusCode};
use model::wire::Keys;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Daemons in the fleet.
const DAEMONS: usize = 10;

/// Commands the bench itself sends to read the counters.
fn is_bench_command(name: &str) -> bool {
    name.starts_with("info") || name.starts_with("config") || name.starts_with("xinfo")
}

/// Commands the daemons' liveness scripts run inside one `EVAL` (the beat:
/// `TIME`, `ZSCORE`, `ZADD`, `ZRANGEBYSCORE`, `ZREMRANGEBYSCORE`; the
/// roster read: `TIME`, `ZRANGE`). `INFO commandstats` counts them beside
/// the `EVAL` itself, but they cost no round trip of their own.
const INSIDE_LIVENESS_SCRIPTS: &[&str] = &[
    "time",
    "zscore",
    "zadd",
    "zrangebyscore",
    "zremrangebyscore",
    "zrange",
];

/// What one window showed.
struct Window {
    calls: CommandCalls,
    event_appends: u64,
    heartbeats: u64,
    length: Duration,
}

impl Window {
    /// Calls of `command` per minute per daemon.
    fn per_minute(&self, calls: u64) -> f64 {
        calls as f64 / DAEMONS as f64 / (self.length.as_secs_f64() / 60.0)
    }

    fn daemon_calls(&self) -> impl Iterator<Item = (&String, &u64)> {
        self.calls.iter().filter(|(k, _)| !is_bench_command(k))
    }

    fn total(&self) -> u64 {
        self.daemon_calls().map(|(_, n)| n).sum()
    }

    fn calls_of(&self, command: &str) -> u64 {
        self.calls.get(command).copied().unwrap_or(0)
    }

    /// Commands sent by the daemons: the total less what ran inside their
    /// scripts.
    fn round_trips(&self) -> u64 {
        self.total()
            - INSIDE_LIVENESS_SCRIPTS
                .iter()
                .map(|c| self.calls_of(c))
                .sum::<u64>()
    }
}

pub(super) async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let length = ctx.pick(Duration::from_secs(60), Duration::from_secs(5));
    let changes = ctx.pick(1_000, 200);
    let names: Vec<String> = (0..DAEMONS).map(|i| format!("n{i}")).collect();
    let fleet = Fleet::start(&ctx.fleetd, &names).await?;
    let a = &fleet.daemons[0];
    let ids = create_sessions(a.socket(), "n0", 10, 2).await?;
    let admin = Redis::connect(&fleet.redis.url()).await?;
    let keys = Keys::new("fleet");
    // Let the creations settle before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let quiet = window(&fleet, &admin, &keys, &ids, length, changes).await?;

    let watcher = &fleet.daemons[1];
    let mut ws = Ws::connect(watcher.socket()).await?;
    ws.subscribe("sessions", None, Duration::from_secs(10))
        .await?;
    let stop = CancellationToken::new();
    let mut drain = JoinSet::new();
    let stopped = stop.clone();
    drain.spawn(async move {
        let mut updates = 0u64;
        loop {
            tokio::select! {
                () = stopped.cancelled() => return anyhow::Ok(updates),
                text = ws.next_text(Duration::from_secs(3600)) => {
                    if let Some(ev) = text?.as_deref().and_then(session_event)
                        && !ev.started
                    {
                        updates += 1;
                    }
                }
            }
        }
    });
    let mut conn = Conn::connect(watcher.socket()).await?;
    wait_count(
        &mut conn,
        "/v1/sessions?computer=n0",
        ids.len(),
        Duration::from_secs(20),
    )
    .await
    .context("the subscriber's daemon did not pull n0's sessions")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let watched = window(&fleet, &admin, &keys, &ids, length, changes).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    let received = match drain.join_next().await {
        Some(done) => done.context("the subscriber task failed")??,
        None => 0,
    };

    let mut report = ScenarioReport::new("idle");
    let secs = length.as_secs();
    let mut t = Table::new(
        format!(
            "idle: {DAEMONS} daemons, {secs} s, n0 makes {changes} changes; Redis commands by type"
        ),
        &[
            "command",
            "no subscriber: calls",
            "per min per daemon",
            "1 subscriber: calls",
            "per min per daemon",
        ],
    );
    let commands: BTreeSet<&String> = quiet
        .daemon_calls()
        .chain(watched.daemon_calls())
        .map(|(k, _)| k)
        .collect();
    for c in commands {
        let q = quiet.calls.get(c).copied().unwrap_or(0);
        let w = watched.calls.get(c).copied().unwrap_or(0);
        t.row([
            c.clone(),
            q.to_string(),
            format!("{:.1}", quiet.per_minute(q)),
            w.to_string(),
            format!("{:.1}", watched.per_minute(w)),
        ]);
    }
    for (label, q, w) in [
        ("all daemon commands", quiet.total(), watched.total()),
        (
            "  entries appended to presence (heartbeats)",
            quiet.heartbeats,
            watched.heartbeats,
        ),
        (
            "  entries appended to events streams",
            quiet.event_appends,
            watched.event_appends,
        ),
    ] {
        t.row([
            label.to_owned(),
            q.to_string(),
            format!("{:.1}", quiet.per_minute(q)),
            w.to_string(),
            format!("{:.1}", watched.per_minute(w)),
        ]);
    }
    report.tables.push(t);
    report.notes.push(format!(
        "the bench's own INFO/XINFO/CONFIG calls are left out; the subscriber on n1 received \
         {received} of {changes} session_updated frames{}",
        if ctx.quick {
            "; --quick: 5 s windows instead of 60 s"
        } else {
            ""
        }
    ));

    // Since issue 9 liveness is an `EVAL` beat (full heartbeats only on
    // change): beats, heartbeats and blocking-read renewals are all an idle
    // daemon may send.
    let only_liveness = quiet.daemon_calls().all(|(k, _)| {
        k == "xadd" || k == "xread" || k == "eval" || INSIDE_LIVENESS_SCRIPTS.contains(&k.as_str())
    }) && quiet.calls_of("xadd") == quiet.heartbeats;
    report.outcomes.push(Outcome {
        scenario: "idle",
        metric: format!("appends to events streams, no subscriber, {changes} changes"),
        result: quiet.event_appends.to_string(),
        baseline: format!("{} with 1 subscriber", watched.event_appends),
        ratio: "-".into(),
        goal: "0".into(),
        verdict: Verdict::from_bool(quiet.event_appends == 0),
    });
    report.outcomes.push(Outcome {
        scenario: "idle",
        metric: "Redis commands per minute per daemon, no subscriber".into(),
        result: format!(
            "{:.0} ({:.0} EVAL liveness beats and roster reads + {:.0} XADD heartbeats + {:.0} XREAD renewals; {:.0} counting the commands inside the scripts)",
            quiet.per_minute(quiet.round_trips()),
            quiet.per_minute(quiet.calls_of("eval")),
            quiet.per_minute(quiet.heartbeats),
            quiet.per_minute(quiet.calls_of("xread")),
            quiet.per_minute(quiet.total()),
        ),
        baseline: format!(
            "{:.0} with 1 subscriber",
            watched.per_minute(watched.round_trips())
        ),
        ratio: "-".into(),
        goal: "liveness beats, heartbeats and blocking-read renewals only".into(),
        verdict: Verdict::from_bool(only_liveness),
    });
    Ok(report)
}

/// One counted window: counters reset, `changes` PATCHes on `n0` spread
/// evenly over `length`, then the counters read.
async fn window(
    fleet: &Fleet,
    admin: &Redis,
    keys: &Keys,
    ids: &[String],
    length: Duration,
    changes: usize,
) -> anyhow::Result<Window> {
    let events: Vec<String> = fleet
        .daemons
        .iter()
        .map(|d| keys.events(d.computer()))
        .collect();
    let appended = async |admin: &Redis| -> anyhow::Result<(u64, u64)> {
        let mut ev = 0;
        for k in &events {
            ev += redis_stats::entries_added(admin, k).await?;
        }
        Ok((
            ev,
            redis_stats::entries_added(admin, &keys.presence()).await?,
        ))
    };
    let (ev0, hb0) = appended(admin).await?;
    let mut conn = Conn::connect(fleet.daemons[0].socket()).await?;
    redis_stats::reset(admin).await?;
    let start = Instant::now();
    for k in 0..changes {
        let at = start + length.mul_f64(k as f64 / changes as f64);
        tokio::time::sleep_until(at).await;
        let path = format!("/v1/sessions/{}", ids[k % ids.len()]);
        let (status, body) = conn
            .send(Method::PATCH, &path, Some(patch_body(k as u64)))
            .await?;
        client::expect(status, StatusCode::OK, "PATCH", &body)?;
    }
    tokio::time::sleep_until(start + length).await;
    let calls = redis_stats::command_calls(admin).await?;
    let (ev1, hb1) = appended(admin).await?;
    Ok(Window {
        calls,
        event_appends: ev1 - ev0,
        heartbeats: hb1 - hb0,
        length,
    })
}

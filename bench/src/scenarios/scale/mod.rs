//! Scenario `scale` (issue 9, run by name only): idle fleets of 10, 100 and
//! 1,000 computers on one Redis (10 and 50 with `--quick`). 1,000 daemon
//! processes do not fit 2 cores, so each computer is a real `PeerSync` on
//! its own `RedisTransport` (`nodes.rs`), all in this process. Per size:
//! Redis commands/s over a window (`INFO commandstats`, reset before it;
//! split into what the daemons send and what their scripts run inside
//! Redis), Redis CPU (`used_cpu_sys` + `used_cpu_user` deltas), this
//! process's CPU per computer, memory per computer (RSS growth over the
//! fleet's start), the time until every peer sees a new computer join,
//! and until every peer sees a crashed one offline. Each size runs in a
//! child process of its own (`bench scale --scale-one N`), so that memory
//! and CPU are that fleet's alone. The baseline is the
//! previous presence design (a full heartbeat every period on the
//! presence stream, which every blocking read wakes on), measured in the
//! same run at 10 and 100 computers (at 1,000 it would need ~500,000
//! commands/s).

mod nodes;

use super::Ctx;
use crate::process::{own_cpu_time, rss_of};
use crate::redis_client::Redis;
use crate::redis_server::RedisServer;
use crate::redis_stats::{self, CommandCalls};
use crate::report::{Outcome, ScenarioReport, Table, Verdict};
use crate::stats::Human;
use anyhow::Context as _;
use fred::interfaces::ClientLike as _;
use fred::types::InfoKind;
use model::EventName;
use nodes::{Node, collect, start_all, stop_all, until_all_see, watch_for};
use peer_sync::PeerSyncConfig;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::time::Instant;

/// The heartbeat period every computer uses (the daemon's default).
const PERIOD: Duration = Duration::from_secs(2);

/// Commands only the liveness scripts run, inside Redis.
const SCRIPT_INTERNAL: [&str; 6] = [
    "time",
    "zadd",
    "zscore",
    "zrangebyscore",
    "zremrangebyscore",
    "zrange",
];

fn is_bench_command(name: &str) -> bool {
    name.starts_with("info") || name.starts_with("config")
}

/// What a child prints before its result.
const RESULT: &str = "scale-result: ";

/// What one fleet showed.
#[derive(Debug, Serialize, Deserialize)]
struct Measured {
    computers: usize,
    liveness: bool,
    window: Duration,
    calls: CommandCalls,
    redis_cpu: Duration,
    own_cpu: Duration,
    rss_per_computer: u64,
    redis_memory_per_computer: u64,
    converged: Duration,
    join: (Vec<Duration>, usize),
    offline: (Vec<Duration>, usize),
    /// The same, counted from the crashed computer's last beat (its last
    /// heartbeat for the previous design), when it could be read.
    offline_since_beat: Option<(Vec<Duration>, usize)>,
}

impl Measured {
    fn sent(&self) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| !is_bench_command(k) && !SCRIPT_INTERNAL.contains(&k.as_str()))
            .map(|(_, n)| n)
            .sum()
    }

    fn internal(&self) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| SCRIPT_INTERNAL.contains(&k.as_str()))
            .map(|(_, n)| n)
            .sum()
    }

    fn per_second(&self, n: u64) -> f64 {
        n as f64 / self.window.as_secs_f64()
    }

    fn per_daemon(&self) -> f64 {
        self.per_second(self.sent()) / self.computers as f64
    }

    fn mode(&self) -> &'static str {
        if self.liveness {
            "liveness set"
        } else {
            "previous (heartbeat every period)"
        }
    }

    fn top(&self) -> String {
        let mut sent: Vec<(&String, &u64)> = self
            .calls
            .iter()
            .filter(|(k, _)| !is_bench_command(k) && !SCRIPT_INTERNAL.contains(&k.as_str()))
            .collect();
        sent.sort_by(|a, b| b.1.cmp(a.1));
        sent.iter()
            .take(3)
            .map(|(k, n)| format!("{k} {:.0}/s", self.per_second(**n)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn percent(part: Duration, whole: Duration) -> f64 {
    100.0 * part.as_secs_f64() / whole.as_secs_f64().max(f64::EPSILON)
}

fn p50_max(seen: &(Vec<Duration>, usize)) -> String {
    let (times, missed) = seen;
    let (Some(p50), Some(max)) = (times.get(times.len() / 2), times.last()) else {
        return format!("never ({missed} missed)");
    };
    let mut s = format!("{} / {}", Human(*p50), Human(*max));
    if *missed > 0 {
        s.push_str(&format!(" ({missed} missed)"));
    }
    s
}

async fn redis_cpu(admin: &Redis) -> anyhow::Result<Duration> {
    let text: String = admin
        .client
        .info(Some(InfoKind::Cpu))
        .await
        .context("INFO cpu")?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok(Duration::from_secs_f64(
        field("used_cpu_sys") + field("used_cpu_user"),
    ))
}

/// `INFO memory`'s `used_memory`.
async fn redis_memory(admin: &Redis) -> anyhow::Result<u64> {
    let text: String = admin
        .client
        .info(Some(InfoKind::Memory))
        .await
        .context("INFO memory")?;
    Ok(text
        .lines()
        .find_map(|l| l.trim().strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0))
}

/// The server's clock in milliseconds (`TIME`).
async fn server_ms(admin: &Redis) -> anyhow::Result<u64> {
    let v: Vec<String> = admin
        .client
        .custom(fred::cmd!("TIME"), Vec::<String>::new())
        .await
        .context("TIME")?;
    let secs: u64 = v.first().and_then(|s| s.parse().ok()).unwrap_or(0);
    let micros: u64 = v.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(secs * 1000 + micros / 1000)
}

/// When `computer` last beat (its deadline minus the ttl), by the server.
async fn last_beat_ms(admin: &Redis, computer: &str) -> anyhow::Result<Option<u64>> {
    let score: Option<String> = admin
        .client
        .custom(fred::cmd!("ZSCORE"), vec!["fleet:alive", computer])
        .await
        .context("ZSCORE")?;
    let ttl = u64::try_from((PERIOD * 5 / 2).as_millis()).unwrap_or(0);
    Ok(score
        .and_then(|s| s.parse::<f64>().ok())
        .map(|d| (d as u64).saturating_sub(ttl)))
}

async fn measure(ctx: &Ctx, computers: usize, liveness: bool) -> anyhow::Result<Measured> {
    let window = ctx.pick(Duration::from_secs(60), Duration::from_secs(10));
    let redis = RedisServer::start().await?;
    let url = redis.url();
    let admin = Redis::connect(&url).await?;
    let cfg = PeerSyncConfig {
        heartbeat: PERIOD,
        liveness,
        ..PeerSyncConfig::default()
    };
    let names: Vec<String> = (0..computers).map(|i| format!("c{i:04}")).collect();
    let pid = std::process::id();
    let rss_before = rss_of(pid)?;
    let started = Instant::now();
    let mut fleet = start_all(&url, &names, &cfg).await?;
    until_all_see(&fleet, computers - 1, Duration::from_secs(300)).await?;
    let converged = started.elapsed();
    tokio::time::sleep(PERIOD * 2).await;
    let rss_after = rss_of(pid)?;

    redis_stats::reset(&admin).await?;
    let (cpu0, redis0, t0) = (own_cpu_time()?, redis_cpu(&admin).await?, Instant::now());
    tokio::time::sleep(window).await;
    let calls = redis_stats::command_calls(&admin).await?;
    let (cpu1, redis1, elapsed) = (own_cpu_time()?, redis_cpu(&admin).await?, t0.elapsed());
    let redis_memory = redis_memory(&admin).await?;

    // A computer joins: every peer's feed says computer_online.
    let patience = PERIOD * 5;
    let join_start = Instant::now();
    let joined = watch_for(
        &fleet,
        "joiner",
        EventName::ComputerOnline,
        join_start,
        patience,
    );
    let joiner = Node::start(&url, "joiner", cfg.clone()).await?;
    let join = collect(joined).await;

    // One crashes: every other peer's feed says computer_offline.
    let victim = fleet.remove(0);
    fleet.push(joiner);
    let crash_ms = server_ms(&admin).await?;
    let crash_start = Instant::now();
    let gone = watch_for(
        &fleet,
        &victim.name,
        EventName::ComputerOffline,
        crash_start,
        patience,
    );
    victim.crash().await;
    let beat_ms = if liveness {
        last_beat_ms(&admin, &victim.name).await?
    } else {
        None
    };
    let offline = collect(gone).await;
    // Shifted by how long before the crash its last beat was.
    let offline_since_beat = beat_ms.map(|beat| {
        let (times, missed) = &offline;
        let shifted = times
            .iter()
            .map(|d| {
                let ms = i128::try_from(d.as_millis()).unwrap_or(0) + i128::from(crash_ms)
                    - i128::from(beat);
                Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0))
            })
            .collect();
        (shifted, *missed)
    });

    fleet.push(victim);
    stop_all(fleet).await;
    drop(admin);
    drop(redis);
    Ok(Measured {
        computers,
        liveness,
        window: elapsed,
        calls,
        redis_cpu: redis1.saturating_sub(redis0),
        own_cpu: cpu1.saturating_sub(cpu0),
        rss_per_computer: rss_after.saturating_sub(rss_before) / computers as u64,
        redis_memory_per_computer: redis_memory / computers as u64,
        converged,
        join,
        offline,
        offline_since_beat,
    })
}

/// Measures one size in a child process of this bench.
async fn in_child(ctx: &Ctx, computers: usize, liveness: bool) -> anyhow::Result<Measured> {
    let exe = std::env::current_exe().context("the bench's own path")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["scale", "--scale-one", &computers.to_string()]);
    if !liveness {
        cmd.arg("--previous");
    }
    if ctx.quick {
        cmd.arg("--quick");
    }
    cmd.stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    // The child ends by itself (bounded waits throughout); waiting for it
    // blocks a thread of the pool, not the runtime.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .context("the scale child's waiter failed")?
        .context("run a scale child")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().find_map(|l| l.strip_prefix(RESULT)) else {
        anyhow::bail!(
            "the child for {computers} computers printed no result ({}): {}",
            out.status,
            stdout.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
        );
    };
    serde_json::from_str(line).context("parse a scale child's result")
}

pub(super) async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    if let Some(n) = ctx.scale_one {
        let m = measure(ctx, n.max(2), !ctx.previous).await?;
        println!("{RESULT}{}", serde_json::to_string(&m)?);
        return Ok(ScenarioReport::new("scale"));
    }
    let sizes: Vec<usize> = ctx.pick(vec![10, 100, 1000], vec![10, 50]);
    let baseline_sizes: Vec<usize> = ctx.pick(vec![10, 100], vec![10]);
    let mut runs = Vec::new();
    let mut failed = Vec::new();
    let todo = sizes
        .iter()
        .map(|n| (*n, true))
        .chain(baseline_sizes.iter().map(|n| (*n, false)));
    for (n, liveness) in todo {
        let mode = if liveness {
            "liveness set"
        } else {
            "previous design (baseline)"
        };
        println!("  {n} computers, {mode} ...");
        match in_child(ctx, n, liveness).await {
            Ok(m) => runs.push(m),
            // One size failing (the machine too busy for 1,000 at once)
            // still reports the others.
            Err(e) => failed.push(Outcome {
                scenario: "scale",
                metric: format!("{n} computers, {mode}"),
                result: format!("{e:#}").lines().next().unwrap_or("").to_owned(),
                baseline: "-".into(),
                ratio: "-".into(),
                goal: "-".into(),
                verdict: Verdict::Missed,
            }),
        }
    }

    let mut report = ScenarioReport::new("scale");
    let mut table = Table::new(
        format!(
            "scale: idle fleets on one Redis, heartbeat period {}",
            Human(PERIOD)
        ),
        &[
            "computers",
            "presence",
            "Redis commands/s (sent)",
            "per computer/s",
            "run inside scripts/s",
            "top commands",
            "Redis CPU",
            "CPU per computer",
            "memory per computer",
            "Redis memory per computer",
            "join seen p50 / max",
            "crash seen offline p50 / max",
            "same, from its last beat",
            "all see all after",
        ],
    );
    for m in &runs {
        table.row([
            m.computers.to_string(),
            m.mode().to_owned(),
            format!("{:.0}", m.per_second(m.sent())),
            format!("{:.2}", m.per_daemon()),
            format!("{:.0}", m.per_second(m.internal())),
            m.top(),
            format!("{:.1} % of a core", percent(m.redis_cpu, m.window)),
            format!(
                "{:.3} % of a core",
                percent(m.own_cpu, m.window) / m.computers as f64
            ),
            format!("{:.1} KiB", m.rss_per_computer as f64 / 1024.0),
            format!("{:.1} KiB", m.redis_memory_per_computer as f64 / 1024.0),
            p50_max(&m.join),
            p50_max(&m.offline),
            m.offline_since_beat
                .as_ref()
                .map_or_else(|| "-".to_owned(), p50_max),
            Human(m.converged).to_string(),
        ]);
    }
    report.tables.push(table);
    report.notes.push(
        "all computers run in this one process (real PeerSync, real RedisTransport, 2 connections each); \
         CPU per computer is this process's CPU over the window divided by the fleet's size"
            .into(),
    );
    report.notes.push(
        "join: from the new computer's start until each peer's feed says computer_online; \
         crash: from its link being cut (no leave) until each peer's feed says computer_offline"
            .into(),
    );

    for m in runs.iter().filter(|m| m.liveness) {
        let baseline = runs
            .iter()
            .find(|b| !b.liveness && b.computers == m.computers);
        let per = m.per_daemon();
        report.outcomes.push(Outcome {
            scenario: "scale",
            metric: format!(
                "idle Redis commands per computer per second, {} computers",
                m.computers
            ),
            result: format!("{per:.2}"),
            baseline: baseline.map_or_else(|| "-".into(), |b| format!("{:.2}", b.per_daemon())),
            ratio: baseline.map_or_else(
                || "-".into(),
                |b| format!("{:.1}x fewer", b.per_daemon() / per.max(f64::EPSILON)),
            ),
            goal: "<= 2".into(),
            verdict: Verdict::from_bool(per <= 2.0),
        });
        let join_max = m.join.0.last().copied();
        report.outcomes.push(Outcome {
            scenario: "scale",
            metric: format!("join seen by every peer, {} computers (max)", m.computers),
            result: join_max.map_or_else(|| "never".into(), |d| Human(d).to_string()),
            baseline: "-".into(),
            ratio: "-".into(),
            goal: format!("<= 1 period ({})", Human(PERIOD)),
            verdict: Verdict::from_bool(m.join.1 == 0 && join_max.is_some_and(|d| d <= PERIOD)),
        });
        let off_max = m.offline.0.last().copied();
        let since_beat = m
            .offline_since_beat
            .as_ref()
            .and_then(|(t, missed)| (*missed == 0).then(|| t.last().copied()).flatten());
        report.outcomes.push(Outcome {
            scenario: "scale",
            metric: format!(
                "crash seen offline by every peer, {} computers (max; from the crash / from its last beat)",
                m.computers
            ),
            result: format!(
                "{} / {}",
                off_max.map_or_else(|| "never".into(), |d| Human(d).to_string()),
                since_beat.map_or_else(|| "-".into(), |d| Human(d).to_string())
            ),
            baseline: runs
                .iter()
                .find(|b| !b.liveness && b.computers == m.computers)
                .and_then(|b| b.offline.0.last().copied())
                .map_or_else(|| "-".into(), |d| Human(d).to_string()),
            ratio: "-".into(),
            goal: format!("<= 3 periods ({}) after its last beat", Human(PERIOD * 3)),
            verdict: Verdict::from_bool(
                m.offline.1 == 0 && since_beat.is_some_and(|d| d <= PERIOD * 3),
            ),
        });
    }
    report.outcomes.extend(failed);
    Ok(report)
}

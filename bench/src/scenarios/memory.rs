//! Scenario 6, `memory` (and start): the resident memory of a daemon
//! holding 100,000 cached remote sessions, pulled from 100 fake computers
//! ([`FakePeers`], 1,000 sessions each: one snapshot response per computer
//! stays under the 1 MiB entry limit) with `POST /v1/refresh`; measured
//! before and after the first `GET /v1/sessions` (which keeps the list's
//! JSON). Baselines: the same daemon empty, and the sessions' own JSON size.
//! Start: time from spawning `fleetd` to its first 200 on `/v1/health`
//! (median of 10), standalone and with `--redis`; baseline: spawning
//! `fleetd --version` until it exits (the process-start floor of the same
//! binary).

use super::Ctx;
use crate::client::{self, Conn};
use crate::daemon::{Daemon, DaemonOptions, START_TIMEOUT};
use crate::fake_peer::FakePeers;
use crate::fleet::{health_peers, wait_until};
use crate::redis_server::RedisServer;
use crate::report::{Outcome, ScenarioReport, Table, Verdict};
use crate::stats::{Human, Samples, grouped, mib, ratio, ratio_f};
use anyhow::{Context as _, bail};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

const MIB: u64 = 1024 * 1024;

pub(super) async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let runs = ctx.pick(10, 3);
    let (ghosts, per_ghost) = ctx.pick((100, 1_000), (10, 100));
    let mut report = ScenarioReport::new("memory");

    let redis = RedisServer::start().await?;
    let url = redis.url();
    let standalone = start_times(&ctx.fleetd, runs, None).await?;
    let networked = start_times(&ctx.fleetd, runs, Some(&url)).await?;
    let floor = version_times(&ctx.fleetd, runs).await?;
    let mut t = Table::new(
        format!(
            "start: spawn fleetd -> first 200 on /v1/health ({runs} runs, fresh data dir each)"
        ),
        &["start", "median", "min", "max"],
    );
    let mut medians = Vec::new();
    for (label, samples) in [
        ("fleetd, standalone", &standalone),
        ("fleetd --redis", &networked),
        ("floor: fleetd --version until exit", &floor),
    ] {
        let (min, med, max) = spread(samples).context("no start samples")?;
        medians.push(med);
        t.row([
            label.to_owned(),
            Human(med).to_string(),
            Human(min).to_string(),
            Human(max).to_string(),
        ]);
    }
    report.tables.push(t);

    // Memory: a daemon, then 100 fake computers it refreshes from.
    let opts = DaemonOptions::fleet("holder", &url);
    let holder = Daemon::start(&ctx.fleetd, &opts).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let empty = holder.process().rss_bytes()?;
    let mut fakes = FakePeers::start(&url, "fleet", ghosts, per_ghost).await?;
    wait_until(Duration::from_secs(30), || async {
        Ok(health_peers(holder.socket()).await? >= ghosts)
    })
    .await
    .context("the daemon did not see the fake computers")?;
    let (status, body) = client::once(
        holder.socket(),
        Method::POST,
        "/v1/refresh",
        Some(Bytes::from_static(br#"{"topics":["sessions"]}"#)),
    )
    .await?;
    client::expect(status, StatusCode::ACCEPTED, "POST /v1/refresh", &body)?;
    let total = ghosts * per_ghost;
    let pulled = Instant::now();
    let mut conn = Conn::connect(holder.socket()).await?;
    loop {
        fakes.check()?;
        if cached_sessions(&mut conn).await? >= total {
            break;
        }
        if pulled.elapsed() > Duration::from_secs(180) {
            bail!("the daemon did not cache {total} sessions within 180 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pull_time = pulled.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = holder.process().rss_bytes()?;
    let list = conn.get_ok("/v1/sessions").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let listed = holder.process().rss_bytes()?;
    let json = fakes.json_bytes() as u64;

    let mut m = Table::new(
        format!(
            "memory: fleetd RSS holding {} remote sessions from {ghosts} fake computers",
            grouped(total as u64)
        ),
        &["state", "RSS (VmRSS)", "per session"],
    );
    let per = |rss: u64| format!("{} B", rss.saturating_sub(empty) / total.max(1) as u64);
    m.row(["empty daemon (baseline)".to_owned(), mib(empty), "-".into()]);
    m.row(["sessions cached".to_owned(), mib(held), per(held)]);
    m.row([
        format!(
            "after the first GET /v1/sessions ({})",
            mib(list.len() as u64)
        ),
        mib(listed),
        per(listed),
    ]);
    m.row([
        "the sessions as JSON, one by one (baseline)".to_owned(),
        mib(json),
        format!("{} B", json / total.max(1) as u64),
    ]);
    report.tables.push(m);
    report.notes.push(format!(
        "pulling {} sessions ({ghosts} snapshot responses) took {}",
        grouped(total as u64),
        Human(pull_time)
    ));

    let worst = held.max(listed);
    report.outcomes.push(Outcome {
        scenario: "memory",
        metric: format!("RSS with {} cached remote sessions", grouped(total as u64)),
        result: format!("{} ({} before the first list read)", mib(listed), mib(held)),
        baseline: format!("empty {}; JSON {}", mib(empty), mib(json)),
        ratio: format!(
            "(RSS-empty)/JSON {}",
            ratio_f(worst.saturating_sub(empty) as f64, json as f64)
        ),
        goal: "< 150 MiB".into(),
        verdict: Verdict::from_bool(worst < 150 * MIB),
    });
    report.outcomes.push(Outcome {
        scenario: "memory",
        metric: "start: spawn -> first /v1/health 200, median".into(),
        result: format!(
            "{} standalone, {} with --redis",
            Human(medians[0]),
            Human(medians[1])
        ),
        baseline: format!("fleetd --version {}", Human(medians[2])),
        ratio: ratio(medians[0], medians[2]),
        goal: "< 50 ms".into(),
        verdict: Verdict::from_bool(medians[0].max(medians[1]) < Duration::from_millis(50)),
    });
    Ok(report)
}

/// The `fleet_cache_records{kind="sessions"}` gauge of `/metrics`.
async fn cached_sessions(conn: &mut Conn) -> anyhow::Result<usize> {
    let text = conn.get_ok("/metrics").await?;
    let text = String::from_utf8_lossy(&text);
    let line = text
        .lines()
        .find(|l| l.starts_with("fleet_cache_records{kind=\"sessions\"}"))
        .context("no fleet_cache_records{kind=\"sessions\"} in /metrics")?;
    line.split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .context("unreadable cache_records gauge")
}

/// Spawn-to-health times of `runs` fresh daemons (killed after each).
async fn start_times(fleetd: &Path, runs: usize, redis: Option<&str>) -> anyhow::Result<Samples> {
    let mut samples = Samples::with_capacity(runs);
    for i in 0..runs {
        let opts = DaemonOptions {
            computer: format!("start{i}"),
            redis: redis.map(str::to_owned),
            heartbeat_ms: None,
            allow_remote_writes: false,
        };
        let t0 = Instant::now();
        let mut daemon = Daemon::spawn(fleetd, &opts)?;
        daemon.wait_healthy(START_TIMEOUT).await?;
        samples.record(t0.elapsed());
        daemon.stop().await;
    }
    Ok(samples)
}

/// Times of `fleetd --version` from spawn to exit.
async fn version_times(fleetd: &Path, runs: usize) -> anyhow::Result<Samples> {
    let fleetd = fleetd.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut samples = Samples::with_capacity(runs);
        for _ in 0..runs {
            let t0 = std::time::Instant::now();
            let status = std::process::Command::new(&fleetd)
                .arg("--version")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .context("run fleetd --version")?;
            samples.record(t0.elapsed());
            if !status.success() {
                bail!("fleetd --version failed: {status}");
            }
        }
        Ok(samples)
    })
    .await
    .context("the timing task failed")?
}

/// (min, median, max) of the samples.
fn spread(samples: &Samples) -> Option<(Duration, Duration, Duration)> {
    let sum = samples.summary(Duration::from_secs(1))?;
    let min = samples.min()?;
    Some((min, sum.p50, sum.max))
}

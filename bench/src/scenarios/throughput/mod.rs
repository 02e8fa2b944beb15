//! Scenario 3, `throughput`: the highest sustained rate of session changes
//! on daemon `src` delivered to WebSocket subscribers on 10 peers with none
//! lost. Writers PATCH as fast as `src` answers (closed loop, several
//! kept-alive connections: [`writers`]); every subscriber checks that each
//! session's `rev` arrives without a gap and waits until it has the last one
//! ([`subscriber`]). Where the time goes: CPU used by `src`, the peers,
//! Redis and the bench itself during the run, Redis round trips per change,
//! and each change's lag from its PATCH to each peer. Baseline: the raw
//! floor, pipelined `XADD` batches to one stream read by 10 blocking
//! readers, same Redis, same entry size.
//!
//! Before the load, the same fleet measures a single change at a low rate
//! ([`single`]): batching under load must not make a lone change wait.
//! CPU per change is reported for `src` and for each peer apart
//! (`/proc/PID/stat` utime + stime before and after).
//!
//! `BENCH_THROUGHPUT_PEERS=N` runs it with N peers instead of 10 (0: `src`
//! alone, nobody watches, nothing is pushed): the ceilings of each side.

mod single;
mod subscriber;
mod writers;

use super::Ctx;
use crate::client::Conn;
use crate::fleet::{Fleet, wait_count};
use crate::floor;
use crate::process::{Proc, own_cpu_time};
use crate::redis_client::Redis;
use crate::redis_stats;
use crate::report::{Outcome, ScenarioReport, Table, Verdict};
use crate::stats::{Human, LATENCY_HEADERS, Samples, grouped, rate, ratio_f};
use crate::workload::create_sessions;
use crate::ws::{Ws, snapshot_sessions};
use anyhow::Context as _;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use subscriber::{Target, subscriber};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use writers::write_for;

/// Peers with a subscriber, unless `BENCH_THROUGHPUT_PEERS` says otherwise.
const PEERS: usize = 10;

/// The number of peers: `BENCH_THROUGHPUT_PEERS` or [`PEERS`].
fn peers() -> anyhow::Result<usize> {
    match std::env::var("BENCH_THROUGHPUT_PEERS") {
        Ok(v) => v
            .parse()
            .with_context(|| format!("BENCH_THROUGHPUT_PEERS={v:?} is not a number")),
        Err(_) => Ok(PEERS),
    }
}

/// An event entry: the session's JSON (~500 B) and the envelope.
const ENTRY_LEN: usize = 560;

/// CPU time used so far by each part.
#[derive(Clone)]
struct Cpu {
    src: Duration,
    /// Each peer's, in the fleet's order.
    each: Vec<Duration>,
    peers: Duration,
    redis: Duration,
    bench: Duration,
}

fn cpu(fleet: &Fleet) -> anyhow::Result<Cpu> {
    let of = |p: &Proc| p.cpu_time();
    let mut peers = Duration::ZERO;
    let mut each = Vec::new();
    for d in &fleet.daemons[1..] {
        let used = of(d.process())?;
        each.push(used);
        peers += used;
    }
    Ok(Cpu {
        each,
        src: of(fleet.daemons[0].process())?,
        peers,
        redis: of(fleet.redis.process())?,
        bench: own_cpu_time()?,
    })
}

pub(super) async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let sessions = ctx.pick(200, 20);
    let writers = ctx.pick(16, 4);
    let duration = ctx.pick(Duration::from_secs(10), Duration::from_secs(1));
    let warmup = ctx.pick(Duration::from_secs(2), Duration::from_millis(300));
    let peer_count = peers()?;
    let (single_warmup, single_n) = ctx.pick((100, 1_000), (5, 50));
    let mut names = vec!["src".to_owned()];
    names.extend((0..peer_count).map(|i| format!("p{i}")));
    let fleet = Fleet::start(&ctx.fleetd, &names).await?;
    let src = &fleet.daemons[0];
    let ids = create_sessions(src.socket(), "src", sessions, 4).await?;
    let index: Arc<HashMap<String, u32>> = Arc::new(
        ids.iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect(),
    );

    let (target_tx, target_rx) = watch::channel::<Target>(None);
    let mut subscribers = JoinSet::new();
    for d in &fleet.daemons[1..] {
        let mut ws = Ws::connect(d.socket()).await?;
        let snapshot = ws
            .subscribe("sessions", Some(&["src"]), Duration::from_secs(10))
            .await?;
        let initial = snapshot_sessions(&snapshot).context("unreadable snapshot")?;
        subscribers.spawn(subscriber(ws, index.clone(), initial, target_rx.clone()));
    }
    for d in &fleet.daemons[1..] {
        let mut conn = Conn::connect(d.socket()).await?;
        wait_count(
            &mut conn,
            "/v1/sessions?computer=src",
            sessions,
            Duration::from_secs(30),
        )
        .await
        .with_context(|| format!("{} did not get src's sessions", d.computer()))?;
    }

    let mut last_rev = vec![1u64; sessions];
    // One change at a time, on a client of its own on the first peer.
    let single = match fleet.daemons.get(1) {
        Some(peer) => {
            let mut probe = Ws::connect(peer.socket()).await?;
            probe
                .subscribe("sessions", Some(&["src"]), Duration::from_secs(10))
                .await?;
            let measured =
                single::measure(src.socket(), &mut probe, &ids[0], single_warmup, single_n).await?;
            probe.close().await;
            last_rev[0] = measured.last_rev;
            Some(measured)
        }
        None => None,
    };

    // Warm-up: the same load, not measured.
    let warm = write_for(src.socket(), &ids, writers, warmup).await?;
    for log in &warm {
        for (i, rev, _) in &log.sent {
            last_rev[*i as usize] = last_rev[*i as usize].max(*rev);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let admin = Redis::connect(&fleet.redis.url()).await?;
    redis_stats::reset(&admin).await?;
    let cpu0 = cpu(&fleet)?;
    let start = Instant::now();
    let logs = write_for(src.socket(), &ids, writers, duration).await?;
    let mut acks = Samples::default();
    let mut changes = 0usize;
    let mut written = start;
    for log in &logs {
        changes += log.sent.len();
        acks.extend(&log.acks);
        written = written.max(log.stopped);
        for (i, rev, _) in &log.sent {
            last_rev[*i as usize] = last_rev[*i as usize].max(*rev);
        }
    }
    let patience = ctx.pick(Duration::from_secs(60), Duration::from_secs(20));
    let _ = target_tx.send(Some((Arc::new(last_rev), Instant::now() + patience)));
    let mut subs = Vec::new();
    while let Some(done) = subscribers.join_next().await {
        subs.push(done.context("a subscriber task failed")??);
    }
    let cpu1 = cpu(&fleet)?;
    let calls = redis_stats::command_calls(&admin).await?;
    let socket_reads = reads_processed(&admin).await?;

    // Lag of each change to each peer, joined with when it was sent.
    let mut sent_at: HashMap<(u32, u64), Instant> = HashMap::with_capacity(changes);
    for log in &logs {
        for (i, rev, t) in &log.sent {
            sent_at.insert((*i, *rev), *t);
        }
    }
    let mut lag = Samples::with_capacity(changes * peer_count);
    let (mut lost, mut gaps, mut dups) = (0u64, 0u64, 0u64);
    let mut delivered = start;
    for s in &subs {
        for (i, rev, at) in &s.arrivals {
            if let Some(t) = sent_at.get(&(*i, *rev)) {
                lag.record(at.saturating_duration_since(*t));
            }
        }
        lost += s.missing + s.gaps;
        gaps += s.gaps;
        dups += s.duplicates;
        delivered = delivered.max(s.done);
    }
    let write_wall = written - start;
    let deliver_wall = if peer_count == 0 {
        write_wall
    } else {
        delivered - start
    };
    let accepted = changes as f64 / write_wall.as_secs_f64().max(1e-9);
    let delivered_rate = changes as f64 / deliver_wall.as_secs_f64().max(1e-9);

    let floor_entries = ctx.pick(100_000, 10_000);
    let floor_readers = peer_count.max(1);
    let floor_cpu0 = (fleet.redis.process().cpu_time()?, own_cpu_time()?);
    let fl = floor::pipelined_fanout(
        &fleet.redis.url(),
        "bench:floor:throughput",
        floor_entries,
        floor_readers,
        ENTRY_LEN,
    )
    .await?;
    let floor_cpu1 = (fleet.redis.process().cpu_time()?, own_cpu_time()?);
    let floor_per_entry =
        |used: Duration| used / u32::try_from(floor_entries.max(1)).unwrap_or(u32::MAX);
    let floor_redis = floor_per_entry(floor_cpu1.0 - floor_cpu0.0);
    let floor_clients = floor_per_entry(floor_cpu1.1 - floor_cpu0.1);
    let floor_reader = floor_clients / u32::try_from(floor_readers + 1).unwrap_or(u32::MAX);

    let mut report = ScenarioReport::new("throughput");
    let mut t = Table::new(
        format!(
            "throughput: {writers} writers PATCHing {sessions} sessions on src as fast as it answers for {duration:?}; \
             a WS subscriber on each of {peer_count} peers"
        ),
        &["measure", "value"],
    );
    t.row(["changes made on src".to_owned(), grouped(changes as u64)]);
    t.row([
        "accepted by src (PATCH answered)".to_owned(),
        rate(accepted),
    ]);
    t.row([
        format!("delivered to all {peer_count} peers (until the last frame)"),
        rate(delivered_rate),
    ]);
    t.row([
        "lost (rev gaps + never delivered), all peers".to_owned(),
        format!("{lost} (gaps {gaps}, duplicates {dups})"),
    ]);
    t.row([
        format!(
            "floor: raw XADD batches of 512 -> {} blocking readers",
            peer_count.max(1)
        ),
        rate(fl.per_sec()),
    ]);
    report.tables.push(t);

    let mut headers = vec!["latency"];
    headers.extend(LATENCY_HEADERS);
    let mut lt = Table::new("throughput: latencies under load", &headers);
    if let Some(sum) = acks.summary(write_wall) {
        let mut row = vec!["PATCH answered by src".to_owned()];
        row.extend(sum.cells());
        lt.row(row);
    }
    if let Some(sum) = lag.summary(deliver_wall) {
        let mut row = vec!["PATCH sent -> frame on a peer's WS".to_owned()];
        row.extend(sum.cells());
        lt.row(row);
    }
    report.tables.push(lt);
    if let Some(single) = &single {
        let mut st = Table::new(
            format!(
                "throughput: a single change at a low rate ({single_n} changes {:?} apart, before the load, same fleet)",
                single::PAUSE
            ),
            &headers,
        );
        for (label, samples) in [
            ("PATCH answered by src", &single.acked),
            ("PATCH sent -> frame on p0's WS", &single.remote),
        ] {
            if let Some(sum) = samples.summary(single.wall) {
                let mut row = vec![label.to_owned()];
                row.extend(sum.cells());
                st.row(row);
            }
        }
        report.tables.push(st);
    }

    let mut ct = Table::new(
        "throughput: where the time goes (CPU used from the first change to the last delivery; 2 cores)",
        &["process", "CPU", "share of 2 cores", "CPU per change"],
    );
    let per_change = |used: Duration| used / u32::try_from(changes.max(1)).unwrap_or(u32::MAX);
    let mut rows = vec![(
        "src (fleetd: REST, SQLite, cache, push)".to_owned(),
        cpu1.src - cpu0.src,
    )];
    for (i, (after, before)) in cpu1.each.iter().zip(&cpu0.each).enumerate() {
        rows.push((
            format!("peer p{i} (fleetd: XREAD, decode, cache, WS)"),
            *after - *before,
        ));
    }
    rows.extend([
        (format!("all {peer_count} peers"), cpu1.peers - cpu0.peers),
        ("redis-server".to_owned(), cpu1.redis - cpu0.redis),
        (
            format!("bench (writers, {peer_count} WS clients, checks)"),
            cpu1.bench - cpu0.bench,
        ),
    ]);
    for (label, used) in rows {
        ct.row([
            label,
            Human(used).to_string(),
            format!(
                "{:.0} %",
                100.0 * used.as_secs_f64() / (2.0 * deliver_wall.as_secs_f64().max(1e-9))
            ),
            Human(per_change(used)).to_string(),
        ]);
    }
    ct.row([
        format!(
            "floor, same Redis: raw XADD batches of 512 -> {floor_readers} blocking readers, per entry"
        ),
        "-".to_owned(),
        "-".to_owned(),
        format!(
            "redis-server {}; bench writer + {floor_readers} readers {} (~{} per connection)",
            Human(floor_redis),
            Human(floor_clients),
            Human(floor_reader)
        ),
    ]);
    report.tables.push(ct);
    let mut rt = Table::new(
        "throughput: Redis round trips (commands of every daemon, counted by Redis)",
        &["command", "calls", "per change"],
    );
    for (command, n) in calls
        .iter()
        .filter(|(k, _)| !k.starts_with("info") && !k.starts_with("config"))
    {
        rt.row([
            command.clone(),
            grouped(*n),
            format!("{:.3}", *n as f64 / changes.max(1) as f64),
        ]);
    }
    if let Some(reads) = socket_reads {
        rt.row([
            "(socket reads by Redis: round trips of every client, pipelines counted once)"
                .to_owned(),
            grouped(reads),
            format!("{:.3}", reads as f64 / changes.max(1) as f64),
        ]);
    }
    report.tables.push(rt);
    report.notes.push(format!(
        "closed loop: {writers} kept-alive connections each PATCH their own sessions one after \
         another, so the offered rate is what src accepts; every PATCH commits to SQLite before \
         it is answered"
    ));

    report.outcomes.push(Outcome {
        scenario: "throughput",
        metric: format!("changes/s on src delivered to {peer_count} peers, none lost"),
        result: format!("{} ({lost} lost)", rate(delivered_rate)),
        baseline: format!("floor {}", rate(fl.per_sec())),
        ratio: format!("{} of floor", ratio_f(delivered_rate, fl.per_sec())),
        goal: ">= 20,000/s, 0 lost".into(),
        verdict: Verdict::from_bool(delivered_rate >= 20_000.0 && lost == 0),
    });
    let src_cpu = per_change(cpu1.src - cpu0.src);
    let peer_cpu =
        per_change((cpu1.peers - cpu0.peers) / u32::try_from(peer_count.max(1)).unwrap_or(1));
    report.outcomes.push(Outcome {
        scenario: "throughput",
        metric: "CPU per change: src / each peer (mean)".into(),
        result: format!("{} / {}", Human(src_cpu), Human(peer_cpu)),
        baseline: format!(
            "floor per entry: one raw reader ~{}, redis-server {}",
            Human(floor_reader),
            Human(floor_redis)
        ),
        ratio: format!(
            "peer/raw reader {}",
            ratio_f(peer_cpu.as_secs_f64(), floor_reader.as_secs_f64())
        ),
        goal: "-".into(),
        verdict: Verdict::Info,
    });
    if let Some(sum) = single.as_ref().and_then(|s| s.remote.summary(s.wall)) {
        report.outcomes.push(Outcome {
            scenario: "throughput",
            metric: "a single change at a low rate: PATCH on src -> frame on a peer, p50 / p99"
                .into(),
            result: format!("{} / {}", Human(sum.p50), Human(sum.p99)),
            baseline: "-".into(),
            ratio: "-".into(),
            goal: "no worse than before batching".into(),
            verdict: Verdict::Info,
        });
    }
    report.outcomes.push(Outcome {
        scenario: "throughput",
        metric: "lost changes (rev checked on every peer)".into(),
        result: lost.to_string(),
        baseline: "-".into(),
        ratio: "-".into(),
        goal: "0".into(),
        verdict: Verdict::from_bool(lost == 0),
    });
    Ok(report)
}

/// `total_reads_processed` of `INFO stats` (since the last `CONFIG
/// RESETSTAT`): how many times Redis read from a client socket. A pipeline
/// arriving in one piece is one read, so this counts round trips, where
/// `INFO commandstats` counts commands. `None` when Redis does not say.
async fn reads_processed(redis: &Redis) -> anyhow::Result<Option<u64>> {
    use fred::interfaces::ClientLike as _;
    let text: String = redis
        .client
        .info(Some(fred::types::InfoKind::Stats))
        .await
        .context("INFO stats")?;
    Ok(text
        .lines()
        .find_map(|l| l.trim().strip_prefix("total_reads_processed:"))
        .and_then(|n| n.parse().ok()))
}

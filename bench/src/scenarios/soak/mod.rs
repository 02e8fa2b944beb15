//! `soak`: hours of faults on a small real fleet, not part of `all` (nor
//! of `--quick`, nor of CI): `bench soak --minutes 30 [--seed N]`.
//!
//! One persistent `redis-server` ([`redis`]) and four release `fleetd`s
//! ([`node`]): two writers under a mixed session load ([`writer`]: create,
//! update, end; every acknowledged write goes into the [`ledger`]) and two
//! watchers with WebSocket clients that subscribe, unsubscribe and resume
//! with `since` ([`watch`]). Every 20-60 s one random [`faults::Fault`]:
//! Redis SIGKILL + restart, Redis SIGSTOP 5-60 s, Redis restarted empty, a
//! writer SIGKILLed and restarted on its data dir, or WebSocket churn.
//! After each fault ends, and after the run, [`check`] polls every cache
//! until it holds every acknowledged write (at its rev or newer) or the
//! convergence bound passes. Reported ([`report`]): changes lost, the worst
//! convergence time, each daemon's RSS and open files from start to end,
//! faults by kind.

mod check;
mod faults;
mod ledger;
mod node;
mod redis;
mod report;
mod rng;
mod watch;
mod writer;

use super::Ctx;
use crate::fleet::health_peers;
use crate::report::ScenarioReport;
use anyhow::{Context as _, bail};
use check::{Convergence, Target};
use faults::Fault;
use ledger::Ledger;
use node::{Node, Usage};
use redis::SoakRedis;
use rng::Rng;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use watch::{Style, WsCounts};

/// How long every cache may take to hold every acknowledged write after a
/// fault ends (and after the run). Past it, what is still missing is
/// reported as missing at the bound; what is missing at the end of the run
/// is lost.
pub const CONVERGENCE_BOUND: Duration = Duration::from_secs(30);

/// The writer daemons' names.
const WRITERS: [&str; 2] = ["soak-w1", "soak-w2"];

/// The watcher daemons' names.
const WATCHERS: [&str; 2] = ["soak-r1", "soak-r2"];

/// Churning WebSocket clients per watcher (beside the steady one).
const CHURNING: usize = 3;

/// How long to wait for a fresh fleet to see itself.
const FORM_TIMEOUT: Duration = Duration::from_secs(60);

/// One injected fault and what followed it.
#[derive(Debug, Clone)]
pub struct FaultRecord {
    /// When it started, from the start of the run.
    pub at: Duration,
    /// What it was.
    pub fault: Fault,
    /// From its start to its end (Redis back, daemon healthy, ...).
    pub lasted: Duration,
    /// The caches after its end.
    pub convergence: Convergence,
}

/// What the report is made of.
pub struct Outcome {
    /// Run length asked for and seed.
    pub minutes: u64,
    /// The seed (repeat the run with `--seed`).
    pub seed: u64,
    /// How long it ran.
    pub ran: Duration,
    /// Every fault.
    pub faults: Vec<FaultRecord>,
    /// The check after the run (writers stopped).
    pub last: Convergence,
    /// Sessions whose (id, rev) differ between a watcher and the owner
    /// after the run, per watcher.
    pub differ: Vec<(String, usize)>,
    /// Writes the writers did.
    pub writes: ledger::WriteCounts,
    /// Sessions left out as uncertain (an unanswered end).
    pub uncertain: usize,
    /// Per daemon: name, role, starts, usage at start and at end.
    pub usage: Vec<(String, &'static str, u32, Usage, Option<Usage>)>,
    /// The WebSocket clients' story.
    pub ws: Arc<WsCounts>,
}

/// Runs the soak for `ctx.soak_minutes`.
///
/// # Errors
/// When Redis or a daemon cannot be started (or restarted after a fault).
pub async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let minutes = ctx.soak_minutes;
    let seed = ctx.seed.unwrap_or_else(clock_seed);
    println!("soak: {minutes} min, seed {seed} (repeat with --seed {seed})");
    let mut rng = Rng::new(seed);
    let mut redis = SoakRedis::start().await?;
    let url = redis.url();
    let mut writers = Vec::new();
    for name in WRITERS {
        writers.push(Node::start(&ctx.fleetd, name, &url).await?);
    }
    let mut watchers = Vec::new();
    for name in WATCHERS {
        watchers.push(Node::start(&ctx.fleetd, name, &url).await?);
    }
    wait_formed(writers.iter().chain(&watchers)).await?;
    let usage_start: Vec<Usage> = writers
        .iter()
        .chain(&watchers)
        .map(|n| n.usage().unwrap_or_default())
        .collect();

    let stop_ws = CancellationToken::new();
    let churn = Arc::new(Notify::new());
    let ws = Arc::new(WsCounts::default());
    let mut clients = JoinSet::new();
    for w in &watchers {
        for i in 0..=CHURNING {
            let style = if i == 0 {
                Style::Steady
            } else {
                Style::Churning
            };
            clients.spawn(watch::client(
                w.socket().to_owned(),
                style,
                Rng::new(rng.next_u64()),
                ws.clone(),
                churn.clone(),
                stop_ws.clone(),
            ));
        }
    }
    let steady = WATCHERS.len() as u64;
    let started_ws = Instant::now();
    while ws.connects.load(Ordering::Relaxed) < steady * (1 + CHURNING as u64) {
        if started_ws.elapsed() > FORM_TIMEOUT {
            bail!("the WebSocket clients did not connect within {FORM_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop_writes = CancellationToken::new();
    let mut writing = JoinSet::new();
    for w in &writers {
        writing.spawn(writer::run(
            w.name.clone(),
            w.socket().to_owned(),
            ledger.clone(),
            Rng::new(rng.next_u64()),
            stop_writes.clone(),
        ));
    }

    let targets = targets(&writers, &watchers);
    let begun = Instant::now();
    let deadline = begun + Duration::from_secs(minutes * 60);
    let mut records = Vec::new();
    loop {
        let gap = Duration::from_secs(rng.range(20, 60));
        if Instant::now() + gap >= deadline {
            tokio::time::sleep_until(deadline).await;
            break;
        }
        tokio::time::sleep(gap).await;
        let fault = Fault::pick(&mut rng, writers.len());
        let at = begun.elapsed();
        let start = Instant::now();
        println!(
            "soak: {:>6.0} s  {}",
            at.as_secs_f64(),
            describe(fault, &writers)
        );
        inject(fault, &mut redis, &mut writers, &churn).await?;
        let ended = Instant::now();
        let expected = lock(&ledger).expected();
        let convergence =
            check::converge(&targets, &expected, &ledger, ended, CONVERGENCE_BOUND).await;
        println!(
            "soak:          ended after {:.1} s; caches {}",
            (ended - start).as_secs_f64(),
            match convergence.took {
                Some(t) => format!("converged in {:.1} s", t.as_secs_f64()),
                None => format!(
                    "NOT converged within {CONVERGENCE_BOUND:?}: {} acknowledged changes missing",
                    convergence.total_missing()
                ),
            }
        );
        records.push(FaultRecord {
            at,
            fault,
            lasted: ended - start,
            convergence,
        });
    }

    stop_writes.cancel();
    while writing.join_next().await.is_some() {}
    let ran = begun.elapsed();
    let expected = lock(&ledger).expected();
    let last = check::converge(
        &targets,
        &expected,
        &ledger,
        Instant::now(),
        CONVERGENCE_BOUND,
    )
    .await;
    let differ = compare_with_owners(&writers, &watchers).await;
    let mut usage = Vec::new();
    for (n, start) in writers.iter().chain(&watchers).zip(usage_start) {
        let role = if WRITERS.contains(&n.name.as_str()) {
            "writer"
        } else {
            "watcher"
        };
        usage.push((n.name.clone(), role, n.launches(), start, n.usage().ok()));
    }
    stop_ws.cancel();
    while clients.join_next().await.is_some() {}
    for n in writers.iter_mut().chain(watchers.iter_mut()) {
        n.stop().await;
    }
    drop(redis);

    let l = lock(&ledger);
    let outcome = Outcome {
        minutes,
        seed,
        ran,
        faults: records,
        last,
        differ,
        writes: l.counts,
        uncertain: l.sessions.values().filter(|a| a.uncertain).count(),
        usage,
        ws,
    };
    Ok(report::build(&outcome))
}

fn lock(ledger: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A seed from the clock, when `--seed` is not given.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// Watchers check every writer's sessions; each writer checks its own.
fn targets(writers: &[Node], watchers: &[Node]) -> Vec<Target> {
    let mut t: Vec<Target> = watchers
        .iter()
        .map(|w| Target {
            name: w.name.clone(),
            socket: w.socket().to_owned(),
            owner: None,
        })
        .collect();
    t.extend(writers.iter().map(|w| Target {
        name: w.name.clone(),
        socket: w.socket().to_owned(),
        owner: Some(w.name.clone()),
    }));
    t
}

async fn wait_formed<'a>(nodes: impl Iterator<Item = &'a Node> + Clone) -> anyhow::Result<()> {
    let peers = nodes.clone().count() - 1;
    let start = Instant::now();
    for n in nodes {
        loop {
            if health_peers(n.socket()).await.unwrap_or(0) >= peers {
                break;
            }
            if start.elapsed() > FORM_TIMEOUT {
                bail!(
                    "{} did not see {peers} peers within {FORM_TIMEOUT:?}",
                    n.name
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

fn describe(fault: Fault, writers: &[Node]) -> String {
    match fault {
        Fault::RedisStall(d) => format!("{} ({} s)", fault.kind(), d.as_secs()),
        Fault::WriterKill(i) => format!(
            "{} ({})",
            fault.kind(),
            writers.get(i).map_or("?", |w| w.name.as_str())
        ),
        _ => fault.kind().to_owned(),
    }
}

async fn inject(
    fault: Fault,
    redis: &mut SoakRedis,
    writers: &mut [Node],
    churn: &Notify,
) -> anyhow::Result<()> {
    match fault {
        Fault::RedisKill => redis.restart().await.context("restart redis"),
        Fault::RedisStall(d) => {
            redis.freeze(true)?;
            tokio::time::sleep(d).await;
            redis.freeze(false)
        }
        Fault::RedisEmpty => redis.restart_empty().await.context("restart redis empty"),
        Fault::WriterKill(i) => match writers.get_mut(i) {
            Some(w) => w.kill_and_restart().await,
            None => Ok(()),
        },
        Fault::WatcherChurn => {
            churn.notify_waiters();
            Ok(())
        }
    }
}

/// After the run: per watcher, the sessions of each writer whose id or rev
/// differs from the owner's own list.
async fn compare_with_owners(writers: &[Node], watchers: &[Node]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for r in watchers {
        let mut differ = 0;
        for w in writers {
            let path = format!("/v1/sessions?computer={}", w.name);
            let (Ok(own), Ok(seen)) = (
                check::sessions(w.socket(), &path).await,
                check::sessions(r.socket(), &path).await,
            ) else {
                continue;
            };
            differ += own
                .iter()
                .filter(|(id, rev)| seen.get(*id) != Some(rev))
                .count();
            differ += seen.keys().filter(|id| !own.contains_key(*id)).count();
        }
        out.push((r.name.clone(), differ));
    }
    out
}

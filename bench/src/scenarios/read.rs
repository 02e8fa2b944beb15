//! Scenario 1, `read`: `GET /v1/sessions` over the Unix socket on a daemon
//! whose cache holds every session of a 10-computer fleet, against the
//! naive design measured on the same fleet: asking the 10 peers at read
//! time through Redis with the project's own snapshot request
//! ([`NaiveReader`]), in parallel, and merging. Sizes: 1,000 and 10,000
//! sessions spread evenly over the 10 computers. Also measured: a bare
//! hyper server answering the same bytes ([`HttpFloorServer`]), the floor
//! of any HTTP read of that size on this machine.
//!
//! Then `--runs N` consecutive runs per size (`runs` table): each run opens
//! a new kept-alive connection to the daemon and to two floors (the socket's
//! default send buffer, and raised as `fleetd` raises it), 20 warm-up and
//! 300 timed reads each, as the issue-13 figures were taken, and prints each
//! run's p50/p99. The goal (issue 13) holds in every run: p99 < 1 ms at
//! 1,000 sessions, p99 < 3x p50 at 10,000.

use super::Ctx;
use crate::client::{self, Conn};
use crate::fleet::{Fleet, wait_count};
use crate::floor_http::{FLEETD_SEND_BUFFER, HttpFloorServer, SendBuffer};
use crate::naive::NaiveReader;
use crate::report::{Outcome, ScenarioReport, Table, Verdict};
use crate::stats::{Human, LATENCY_HEADERS, Samples, Summary, grouped, ratio};
use crate::workload::create_sessions;
use crate::ws::Ws;
use anyhow::{Context as _, bail};
use hyper::{Method, StatusCode};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Computers in the fleet.
const COMPUTERS: usize = 10;

/// Iterations (warm-up, measured) of each way of reading, per size.
struct Plan {
    sessions: usize,
    cached: (usize, usize),
    naive: (usize, usize),
    /// Of each consecutive run (`--runs`).
    run: (usize, usize),
}

pub(super) async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let plans = ctx.pick(
        vec![
            Plan {
                sessions: 1_000,
                cached: (500, 5_000),
                naive: (20, 300),
                run: (20, 300),
            },
            Plan {
                sessions: 10_000,
                cached: (100, 1_000),
                naive: (5, 100),
                run: (20, 300),
            },
        ],
        vec![
            Plan {
                sessions: 100,
                cached: (10, 100),
                naive: (3, 10),
                run: (5, 50),
            },
            Plan {
                sessions: 500,
                cached: (10, 50),
                naive: (2, 5),
                run: (5, 50),
            },
        ],
    );
    let names: Vec<String> = (0..COMPUTERS).map(|i| format!("c{i}")).collect();
    let fleet = Fleet::start(&ctx.fleetd, &names).await?;
    let measured = &fleet.daemons[0];
    let mut naive =
        NaiveReader::connect(&fleet.redis.url(), "fleet", "naive", names.clone()).await?;

    let mut report = ScenarioReport::new("read");
    let mut headers = vec!["sessions", "way of reading"];
    headers.extend(LATENCY_HEADERS);
    headers.push("answer");
    let mut table = Table::new(
        "read: GET /v1/sessions on c0 (cache) vs. asking 10 peers through Redis (naive)",
        &headers,
    );
    let mut runs_table = runs_table(ctx.runs, plans.first().map_or((0, 0), |p| p.run));
    let mut watcher: JoinSet<anyhow::Result<()>> = JoinSet::new();
    let mut created = 0;
    for plan in &plans {
        create_spread(&fleet, plan.sessions - created).await?;
        created = plan.sessions;
        if watcher.is_empty() {
            // A watcher on the measured daemon makes it pull every peer's
            // sessions (and keep them fresh); its frames are drained.
            let mut ws = Ws::connect(measured.socket()).await?;
            ws.subscribe("sessions", None, Duration::from_secs(30))
                .await?;
            watcher.spawn(async move {
                loop {
                    ws.next_text(Duration::from_secs(3600)).await?;
                }
            });
        }
        let mut conn = Conn::connect(measured.socket()).await?;
        let want = plan.sessions;
        wait_count(&mut conn, "/v1/sessions", want, Duration::from_secs(120))
            .await
            .context("c0 did not get every session")?;

        let (fresh, fresh_wall, bytes) = cached_fresh(measured.socket(), plan).await?;
        let (kept, kept_wall) = cached_kept(&mut conn, plan).await?;
        let (floor_fresh, floor_kept) = floor_reads(&mut conn, plan).await?;
        let (slow, slow_wall, naive_bytes) = naive_reads(&mut naive, plan).await?;
        let fresh = fresh.summary(fresh_wall).context("no cached samples")?;
        let kept = kept.summary(kept_wall).context("no cached samples")?;
        let slow = slow.summary(slow_wall).context("no naive samples")?;
        for (label, sum, size) in [
            ("cache, new connection per read", &fresh, bytes),
            ("cache, kept-alive connection", &kept, bytes),
            (
                "floor: bare hyper, same bytes, new connection",
                &floor_fresh,
                bytes,
            ),
            (
                "floor: bare hyper, same bytes, kept-alive",
                &floor_kept,
                bytes,
            ),
            ("naive, 10 peers via Redis", &slow, naive_bytes),
        ] {
            let mut row = vec![grouped(want as u64), label.to_owned()];
            row.extend(sum.cells());
            row.push(format!("{} KB", size / 1000));
            table.row(row);
        }
        outcomes(
            &mut report,
            want,
            [&fresh, &kept],
            [&floor_fresh, &floor_kept],
            &slow,
        );
        let runs = consecutive_runs(measured.socket(), plan, ctx.runs).await?;
        for (i, run) in runs.iter().enumerate() {
            runs_table.row(run.cells(want, i + 1));
        }
        report.outcomes.push(runs_outcome(want, &runs));
    }
    watcher.abort_all();
    report.tables.push(table);
    report.tables.push(runs_table);
    report.notes.push(format!(
        "{COMPUTERS} daemons and Redis on this machine; sessions created over REST on each \
         daemon ({} per computer at the largest size); the naive reader is an 11th computer \
         written in the bench (fred, one pipeline of {COMPUTERS} XADDs, blocking XREAD of its \
         inbox, merge and serialize)",
        created / COMPUTERS
    ));
    Ok(report)
}

/// Creates `n` more sessions, an equal share on every daemon, all at once.
async fn create_spread(fleet: &Fleet, n: usize) -> anyhow::Result<()> {
    let mut tasks = JoinSet::new();
    for d in &fleet.daemons {
        let socket = d.socket().to_owned();
        let computer = d.computer().to_owned();
        let per = n / fleet.daemons.len();
        tasks.spawn(async move { create_sessions(&socket, &computer, per, 4).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("a creating task failed")??;
    }
    Ok(())
}

/// Cached reads, each on a connection of its own (as `fleet` or `curl`
/// would); also returns the answer's size.
async fn cached_fresh(
    socket: &std::path::Path,
    plan: &Plan,
) -> anyhow::Result<(Samples, Duration, usize)> {
    let (warmup, iterations) = plan.cached;
    let mut samples = Samples::with_capacity(iterations);
    let mut bytes = 0;
    let mut start = Instant::now();
    for i in 0..warmup + iterations {
        if i == warmup {
            start = Instant::now();
        }
        let t0 = Instant::now();
        let (status, body) = client::once(socket, Method::GET, "/v1/sessions", None).await?;
        let took = t0.elapsed();
        client::expect(status, StatusCode::OK, "/v1/sessions", &body)?;
        bytes = body.len();
        if i >= warmup {
            samples.record(took);
        }
    }
    Ok((samples, start.elapsed(), bytes))
}

/// The same answer from a bare hyper server ([`HttpFloorServer`], its send
/// buffer raised as `fleetd` raises it), new connection per read and
/// kept-alive.
async fn floor_reads(conn: &mut Conn, plan: &Plan) -> anyhow::Result<(Summary, Summary)> {
    let body = conn.get_ok("/v1/sessions").await?;
    let floor = HttpFloorServer::start(body, SendBuffer::Raised(FLEETD_SEND_BUFFER))?;
    let (fresh, fresh_wall, _) = cached_fresh(floor.socket(), plan).await?;
    let mut kept_conn = Conn::connect(floor.socket()).await?;
    let (kept, kept_wall) = cached_kept(&mut kept_conn, plan).await?;
    Ok((
        fresh.summary(fresh_wall).context("no floor samples")?,
        kept.summary(kept_wall).context("no floor samples")?,
    ))
}

/// Cached reads on one kept-alive connection.
async fn cached_kept(conn: &mut Conn, plan: &Plan) -> anyhow::Result<(Samples, Duration)> {
    let (warmup, iterations) = plan.cached;
    let mut samples = Samples::with_capacity(iterations);
    let mut start = Instant::now();
    for i in 0..warmup + iterations {
        if i == warmup {
            start = Instant::now();
        }
        let t0 = Instant::now();
        conn.get_ok("/v1/sessions").await?;
        if i >= warmup {
            samples.record(t0.elapsed());
        }
    }
    Ok((samples, start.elapsed()))
}

/// Naive reads; each must bring back every session. Also returns the
/// merged answer's size.
async fn naive_reads(
    naive: &mut NaiveReader,
    plan: &Plan,
) -> anyhow::Result<(Samples, Duration, usize)> {
    let (warmup, iterations) = plan.naive;
    let mut samples = Samples::with_capacity(iterations);
    let mut bytes = 0;
    let mut start = Instant::now();
    for i in 0..warmup + iterations {
        if i == warmup {
            start = Instant::now();
        }
        let t0 = Instant::now();
        let answer = naive.read(Duration::from_secs(30)).await?;
        let took = t0.elapsed();
        if answer.sessions != plan.sessions {
            bail!(
                "the naive read merged {} sessions, not {}",
                answer.sessions,
                plan.sessions
            );
        }
        bytes = answer.json.len();
        if i >= warmup {
            samples.record(took);
        }
    }
    Ok((samples, start.elapsed(), bytes))
}

fn outcomes(
    report: &mut ScenarioReport,
    sessions: usize,
    cache: [&Summary; 2],
    floor: [&Summary; 2],
    slow: &Summary,
) {
    let n = grouped(sessions as u64);
    let small = sessions <= 1_000;
    for ((label, sum), bare) in [("new connection", cache[0]), ("kept-alive", cache[1])]
        .into_iter()
        .zip(floor)
    {
        report.outcomes.push(Outcome {
            scenario: "read",
            metric: format!("GET /v1/sessions, {n} sessions, {label}: p50 / p99"),
            result: format!("{} / {}", Human(sum.p50), Human(sum.p99)),
            baseline: format!(
                "naive {} / {}; bare-hyper floor {} / {}",
                Human(slow.p50),
                Human(slow.p99),
                Human(bare.p50),
                Human(bare.p99)
            ),
            ratio: format!("naive/cache p50 {}", ratio(slow.p50, sum.p50)),
            goal: if small {
                "p99 < 1 ms; naive/cache p50 >= 50x".into()
            } else {
                "naive/cache p50 >= 50x".into()
            },
            verdict: Verdict::from_bool(
                (!small || sum.p99 < Duration::from_millis(1))
                    && slow.p50.as_secs_f64() >= 50.0 * sum.p50.as_secs_f64(),
            ),
        });
    }
}

/// One consecutive run: the cache and both floors, each on a new
/// kept-alive connection.
struct Run {
    cache: Summary,
    floor: Summary,
    floor_default: Summary,
}

impl Run {
    /// Whether the cache met the goal of issue 13 in this run.
    fn steady(&self, sessions: usize) -> bool {
        steady(sessions, &self.cache)
    }

    fn cells(&self, sessions: usize, run: usize) -> Vec<String> {
        let mut row = vec![grouped(sessions as u64), run.to_string()];
        for sum in [&self.cache, &self.floor, &self.floor_default] {
            row.push(Human(sum.p50).to_string());
            row.push(Human(sum.p99).to_string());
        }
        let verdict = |ok: bool| if ok { "yes" } else { "NO" };
        row.push(verdict(self.steady(sessions)).to_owned());
        row.push(verdict(steady(sessions, &self.floor_default)).to_owned());
        row
    }
}

/// The goal of issue 13 for one run: p99 < 1 ms up to 1,000 sessions,
/// p99 < 3x p50 above.
fn steady(sessions: usize, sum: &Summary) -> bool {
    if sessions <= 1_000 {
        sum.p99 < Duration::from_millis(1)
    } else {
        sum.p99.as_secs_f64() < 3.0 * sum.p50.as_secs_f64()
    }
}

fn runs_table(runs: usize, (warmup, timed): (usize, usize)) -> Table {
    Table::new(
        format!(
            "read: {runs} consecutive runs, each on new kept-alive connections \
             ({warmup} warm-up + {timed} timed reads each); goal met: p99 < 1 ms at \
             1,000 sessions, p99 < 3x p50 at 10,000"
        ),
        &[
            "sessions",
            "run",
            "cache p50",
            "cache p99",
            "floor p50",
            "floor p99",
            "floor, default buffer p50",
            "p99",
            "cache: goal met",
            "floor, default buffer: goal met",
        ],
    )
}

/// `runs` consecutive runs: in each, the cache, the floor with its send
/// buffer raised as `fleetd` raises it, and the floor with the socket's
/// default, each on a new kept-alive connection.
async fn consecutive_runs(
    socket: &std::path::Path,
    plan: &Plan,
    runs: usize,
) -> anyhow::Result<Vec<Run>> {
    // A connection of its own: the daemon closes a kept-alive connection
    // left idle past its header timeout (the naive reads take longer).
    let body = Conn::connect(socket).await?.get_ok("/v1/sessions").await?;
    let raised = HttpFloorServer::start(body.clone(), SendBuffer::Raised(FLEETD_SEND_BUFFER))?;
    let default = HttpFloorServer::start(body, SendBuffer::Default)?;
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        out.push(Run {
            cache: one_run(socket, plan.run).await?,
            floor: one_run(raised.socket(), plan.run).await?,
            floor_default: one_run(default.socket(), plan.run).await?,
        });
    }
    Ok(out)
}

/// Reads on a new kept-alive connection: `warmup`, then `timed` measured.
async fn one_run(
    socket: &std::path::Path,
    (warmup, timed): (usize, usize),
) -> anyhow::Result<Summary> {
    let mut conn = Conn::connect(socket).await?;
    let plan = Plan {
        sessions: 0,
        cached: (warmup, timed),
        naive: (0, 0),
        run: (0, 0),
    };
    let (samples, wall) = cached_kept(&mut conn, &plan).await?;
    samples.summary(wall).context("no samples in a run")
}

fn runs_outcome(sessions: usize, runs: &[Run]) -> Outcome {
    let n = grouped(sessions as u64);
    let list = |pick: fn(&Run) -> &Summary| {
        runs.iter()
            .map(|r| {
                let s = pick(r);
                format!("{}/{}", Human(s.p50), Human(s.p99))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let worst = runs
        .iter()
        .map(|r| r.cache.p99.as_secs_f64() / r.cache.p50.as_secs_f64().max(1e-9))
        .fold(0.0_f64, f64::max);
    Outcome {
        scenario: "read",
        metric: format!(
            "GET /v1/sessions, {n} sessions, {} consecutive runs (new kept-alive connection each): p50/p99 per run",
            runs.len()
        ),
        result: list(|r| &r.cache),
        baseline: format!(
            "bare-hyper floor (same buffer) {}; floor with the default buffer {}",
            list(|r| &r.floor),
            list(|r| &r.floor_default)
        ),
        ratio: format!("worst cache p99/p50 {worst:.1}x"),
        goal: if sessions <= 1_000 {
            "p99 < 1 ms in every run".into()
        } else {
            "p99 < 3x p50 in every run".into()
        },
        verdict: Verdict::from_bool(runs.iter().all(|r| r.steady(sessions))),
    }
}

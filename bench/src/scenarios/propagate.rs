//! Scenario 2, `propagate`: one `PATCH /v1/sessions/{id}` on daemon A's
//! socket to the `session_updated` frame on a WebSocket client of daemon B,
//! through Redis. Also timed in the same exchange: A's answer to the PATCH
//! and the frame on a WebSocket client of A itself, which split the total
//! into the local part and the Redis hop. Baseline: the floor, a raw fred
//! `XADD` on one connection waking a blocked `XREAD` on another, same Redis,
//! same entry size, same pacing.
//!
//! With `--cluster` (`bench propagate --cluster`) the same exchange is
//! measured twice in one run: over a plain Redis, then over a Redis
//! Cluster of 3 masters and 3 replicas whose first node alone is in the
//! daemons' URL; the goal is the cluster's p50 within 2x of the plain one.

use super::Ctx;
use crate::client::{self, Conn};
use crate::fleet::Fleet;
use crate::floor;
use crate::redis_cluster::ClusterFleet;
use crate::report::{Outcome, ScenarioReport, Table, Verdict};
use crate::stats::{Human, LATENCY_HEADERS, Samples, ratio};
use crate::workload::{id_and_rev, new_session_body, patch_body};
use crate::ws::{Ws, session_event};
use anyhow::{Context as _, bail};
use hyper::{Method, StatusCode};
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

/// Pause between changes, so every blocked reader is blocked again.
const PAUSE: Duration = Duration::from_millis(2);

/// Patience for one frame.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// What one run of the exchange measured.
struct Measured {
    remote: Samples,
    local: Samples,
    acked: Samples,
    wall: Duration,
    entry_len: usize,
}

pub(super) async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    if ctx.cluster {
        return run_cluster(ctx).await;
    }
    let (warmup, iterations) = ctx.pick((200, 3_000), (10, 50));
    let names = ["alpha".to_owned(), "beta".to_owned()];
    let fleet = Fleet::start(&ctx.fleetd, &names).await?;
    let (a, b) = (&fleet.daemons[0], &fleet.daemons[1]);
    let Measured {
        remote,
        local,
        acked,
        wall,
        entry_len,
    } = measure(a.socket(), b.socket(), warmup, iterations).await?;

    // The event entry's body is the session plus ~60 bytes of envelope.
    let (floor_samples, floor_wall) = floor::xadd_to_xread(
        &fleet.redis.url(),
        "bench:floor:propagate",
        warmup,
        iterations,
        entry_len + 60,
        PAUSE,
    )
    .await?;

    let mut report = ScenarioReport::new("propagate");
    let mut headers = vec!["path"];
    headers.extend(LATENCY_HEADERS);
    let mut table = Table::new(
        format!(
            "propagate: PATCH on alpha -> session_updated on beta's WebSocket ({} B sessions, {:?} between changes)",
            entry_len, PAUSE
        ),
        &headers,
    );
    let remote = remote.summary(wall).context("no samples")?;
    let floor_sum = floor_samples
        .summary(floor_wall)
        .context("no floor samples")?;
    for (label, sum) in [
        (
            "PATCH answered on alpha (SQLite commit)",
            acked.summary(wall),
        ),
        ("session_updated on alpha's own WS", local.summary(wall)),
        ("session_updated on beta's WS (through Redis)", Some(remote)),
        ("floor: raw XADD -> blocked XREAD", Some(floor_sum)),
    ] {
        let Some(sum) = sum else {
            bail!("no samples for {label}");
        };
        let mut row = vec![label.to_owned()];
        row.extend(sum.cells());
        table.row(row);
    }
    report.tables.push(table);
    report.notes.push(
        "throughput column: sequential changes, paced; not a capacity figure (see throughput)"
            .into(),
    );
    report.outcomes.push(Outcome {
        scenario: "propagate",
        metric: "PATCH on A -> WS frame on B: p50 / p99".into(),
        result: format!("{} / {}", Human(remote.p50), Human(remote.p99)),
        baseline: format!("floor {} / {}", Human(floor_sum.p50), Human(floor_sum.p99)),
        ratio: format!("p50 {}", ratio(remote.p50, floor_sum.p50)),
        goal: "p50 < 1 ms, p99 < 5 ms, p50 <= 5x floor".into(),
        verdict: Verdict::from_bool(
            remote.p50 < Duration::from_millis(1)
                && remote.p99 < Duration::from_millis(5)
                && remote.p50.as_secs_f64() <= 5.0 * floor_sum.p50.as_secs_f64(),
        ),
    });
    Ok(report)
}

/// `propagate --cluster`: the same exchange over a plain Redis and over a
/// 3 + 3 Redis Cluster (one URL node), one after the other in this run.
async fn run_cluster(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let (warmup, iterations) = ctx.pick((200, 3_000), (10, 50));
    let names = ["alpha".to_owned(), "beta".to_owned()];
    let plain = {
        let fleet = Fleet::start(&ctx.fleetd, &names).await?;
        let (a, b) = (&fleet.daemons[0], &fleet.daemons[1]);
        measure(a.socket(), b.socket(), warmup, iterations).await?
    };
    let cluster = {
        let fleet = ClusterFleet::start(&ctx.fleetd, &names).await?;
        let (a, b) = (&fleet.daemons[0], &fleet.daemons[1]);
        measure(a.socket(), b.socket(), warmup, iterations)
            .await
            .context("over the cluster")?
    };
    let mut report = ScenarioReport::new("propagate");
    let mut headers = vec!["path"];
    headers.extend(LATENCY_HEADERS);
    let mut table = Table::new(
        format!(
            "propagate --cluster: PATCH on alpha -> session_updated on beta's WebSocket ({} B sessions, {:?} between changes)",
            cluster.entry_len, PAUSE
        ),
        &headers,
    );
    let plain_sum = plain
        .remote
        .summary(plain.wall)
        .context("no plain samples")?;
    let cluster_sum = cluster
        .remote
        .summary(cluster.wall)
        .context("no cluster samples")?;
    for (label, sum) in [
        ("plain Redis: beta's WS", plain_sum),
        ("Redis Cluster 3+3, one URL node: beta's WS", cluster_sum),
    ] {
        let mut row = vec![label.to_owned()];
        row.extend(sum.cells());
        table.row(row);
    }
    report.tables.push(table);
    report.notes.push(
        "the daemons of the cluster run know only its first node; their reads block per hash slot"
            .into(),
    );
    report.outcomes.push(Outcome {
        scenario: "propagate",
        metric: "cluster: PATCH on A -> WS frame on B: p50 / p99".into(),
        result: format!("{} / {}", Human(cluster_sum.p50), Human(cluster_sum.p99)),
        baseline: format!(
            "plain Redis {} / {}",
            Human(plain_sum.p50),
            Human(plain_sum.p99)
        ),
        ratio: format!("p50 {}", ratio(cluster_sum.p50, plain_sum.p50)),
        goal: "cluster p50 <= 2x plain p50".into(),
        verdict: Verdict::from_bool(
            cluster_sum.p50.as_secs_f64() <= 2.0 * plain_sum.p50.as_secs_f64(),
        ),
    });
    Ok(report)
}

/// Creates a session on A, then PATCHes it `warmup + iterations` times,
/// timing each change to A's answer, A's own WS frame and B's WS frame.
async fn measure(a: &Path, b: &Path, warmup: usize, iterations: usize) -> anyhow::Result<Measured> {
    let mut ws_b = Ws::connect(b).await?;
    ws_b.subscribe("sessions", None, FRAME_TIMEOUT).await?;
    let mut ws_a = Ws::connect(a).await?;
    ws_a.subscribe("sessions", None, FRAME_TIMEOUT).await?;

    let mut conn = Conn::connect(a).await?;
    let (status, body) = conn
        .send(
            Method::POST,
            "/v1/sessions",
            Some(new_session_body("alpha", 0)),
        )
        .await?;
    client::expect(status, StatusCode::CREATED, "POST /v1/sessions", &body)?;
    let (id, mut rev) = id_and_rev(&body)?;
    wait_frame(&mut ws_b, &id, rev)
        .await
        .context("B never saw the session")?;
    wait_frame(&mut ws_a, &id, rev).await?;
    let path = format!("/v1/sessions/{id}");

    let mut remote = Samples::with_capacity(iterations);
    let mut local = Samples::with_capacity(iterations);
    let mut acked = Samples::with_capacity(iterations);
    let mut entry_len = body.len();
    let mut start = Instant::now();
    for i in 0..warmup + iterations {
        if i == warmup {
            start = Instant::now();
        }
        rev += 1;
        let t0 = Instant::now();
        let (answer, on_a, on_b) = tokio::join!(
            async {
                let r = conn
                    .send(Method::PATCH, &path, Some(patch_body(i as u64)))
                    .await;
                (r, Instant::now())
            },
            wait_frame(&mut ws_a, &id, rev),
            wait_frame(&mut ws_b, &id, rev),
        );
        let ((status, body), answered) = (answer.0?, answer.1);
        client::expect(status, StatusCode::OK, "PATCH", &body)?;
        entry_len = body.len();
        let (on_a, on_b) = (on_a?, on_b?);
        if i >= warmup {
            acked.record(answered - t0);
            local.record(on_a - t0);
            remote.record(on_b - t0);
        }
        tokio::time::sleep(PAUSE).await;
    }
    let wall = start.elapsed();
    ws_a.close().await;
    ws_b.close().await;
    Ok(Measured {
        remote,
        local,
        acked,
        wall,
        entry_len,
    })
}

/// Reads until the frame about session `id` at `rev` (or later) and
/// returns when it arrived.
async fn wait_frame(ws: &mut Ws, id: &str, rev: u64) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + FRAME_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(text) = ws.next_text(left).await? else {
            bail!("no frame for session {id} rev {rev} within {FRAME_TIMEOUT:?}");
        };
        let arrived = Instant::now();
        if let Some(ev) = session_event(&text)
            && ev.session_id == id
            && ev.rev >= rev
        {
            return Ok(arrived);
        }
    }
}

//! Scenario `forward` (issue 11): a write of another computer's session,
//! forwarded through Redis. `DELETE /v1/sessions/{id}` on beta's socket
//! (what `fleet session end ID` sends) for a session of alpha (started with
//! `--allow-remote-writes`): timed to the `session_closed` frame on a
//! WebSocket client of alpha (the close on the owner) and to beta's 204
//! (the owner's answer back). Beta watches sessions (as `fleet watch`
//! would), so it holds alpha's sessions and needs no lookup. Also counted:
//! Redis commands per forwarded write (`INFO commandstats` over the
//! deletes alone, with heartbeats every 60 s so none fall inside).
//! Baseline: the same `DELETE` of a local session on alpha.

use super::Ctx;
use crate::client::{self, Conn};
use crate::daemon::{Daemon, DaemonOptions, START_TIMEOUT};
use crate::fleet::{health_peers, wait_until};
use crate::redis_client::Redis;
use crate::redis_server::RedisServer;
use crate::redis_stats;
use crate::report::{Outcome, ScenarioReport, Table, Verdict};
use crate::stats::{Human, LATENCY_HEADERS, Samples, ratio};
use crate::workload::{id_and_rev, new_session_body};
use crate::ws::Ws;
use anyhow::{Context as _, bail};
use hyper::{Method, StatusCode};
use std::time::Duration;
use tokio::time::Instant;

/// Patience for one frame.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// Heartbeats far apart, so the command counts are the writes' own.
const HEARTBEAT_MS: u64 = 60_000;

pub(super) async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let (warmup, iterations) = ctx.pick((10, 100), (2, 10));
    let redis = RedisServer::start().await?;
    let url = redis.url();
    let opts = |name: &str, allow: bool| DaemonOptions {
        heartbeat_ms: Some(HEARTBEAT_MS),
        allow_remote_writes: allow,
        ..DaemonOptions::fleet(name, &url)
    };
    let mut alpha = Daemon::spawn(&ctx.fleetd, &opts("alpha", true))?;
    let mut beta = Daemon::spawn(&ctx.fleetd, &opts("beta", false))?;
    alpha.wait_healthy(START_TIMEOUT).await?;
    beta.wait_healthy(START_TIMEOUT).await?;
    for d in [&alpha, &beta] {
        wait_until(Duration::from_secs(30), || async {
            Ok(health_peers(d.socket()).await? >= 1)
        })
        .await
        .with_context(|| format!("{} did not see its peer", d.computer()))?;
    }
    let mut ws_a = Ws::connect(alpha.socket()).await?;
    ws_a.subscribe("sessions", None, FRAME_TIMEOUT).await?;
    let mut ws_b = Ws::connect(beta.socket()).await?;
    ws_b.subscribe("sessions", None, FRAME_TIMEOUT).await?;
    let mut conn_a = Conn::connect(alpha.socket()).await?;
    let mut conn_b = Conn::connect(beta.socket()).await?;

    // Every session first, each seen by beta; then only the deletes.
    let total = warmup + iterations;
    let mut ids = Vec::with_capacity(total);
    for i in 0..total {
        let (status, body) = conn_a
            .send(
                Method::POST,
                "/v1/sessions",
                Some(new_session_body("alpha", i)),
            )
            .await?;
        client::expect(status, StatusCode::CREATED, "POST /v1/sessions", &body)?;
        let (id, _) = id_and_rev(&body)?;
        wait_frame(&mut ws_b, "session_started", &id).await?;
        wait_frame(&mut ws_a, "session_started", &id).await?;
        ids.push(id);
    }
    let stats = Redis::connect(&url).await?;
    let mut closed_on_a = Samples::with_capacity(iterations);
    let mut answered_on_b = Samples::with_capacity(iterations);
    let mut start = Instant::now();
    let mut before = redis_stats::CommandCalls::new();
    for (i, id) in ids.iter().enumerate() {
        if i == warmup {
            before = redis_stats::command_calls(&stats).await?;
            start = Instant::now();
        }
        let path = format!("/v1/sessions/{id}");
        let t0 = Instant::now();
        let (answer, on_a) = tokio::join!(
            async {
                let r = conn_b.send(Method::DELETE, &path, None).await;
                (r, Instant::now())
            },
            wait_frame(&mut ws_a, "session_closed", id),
        );
        let ((status, body), answered) = (answer.0?, answer.1);
        client::expect(status, StatusCode::NO_CONTENT, "DELETE on beta", &body)?;
        let on_a = on_a?;
        // Beta hears of the close too before the next write.
        wait_frame(&mut ws_b, "session_closed", id).await?;
        if i >= warmup {
            closed_on_a.record(on_a - t0);
            answered_on_b.record(answered - t0);
        }
    }
    let wall = start.elapsed();
    let after = redis_stats::command_calls(&stats).await?;

    // Baseline: the same delete of a local session, on alpha itself.
    let mut local = Samples::with_capacity(iterations);
    let local_start = Instant::now();
    for i in 0..iterations {
        let (status, body) = conn_a
            .send(
                Method::POST,
                "/v1/sessions",
                Some(new_session_body("alpha", i)),
            )
            .await?;
        client::expect(status, StatusCode::CREATED, "POST /v1/sessions", &body)?;
        let (id, _) = id_and_rev(&body)?;
        let t0 = Instant::now();
        let (status, body) = conn_a
            .send(Method::DELETE, &format!("/v1/sessions/{id}"), None)
            .await?;
        client::expect(status, StatusCode::NO_CONTENT, "DELETE on alpha", &body)?;
        local.record(t0.elapsed());
    }
    let local_wall = local_start.elapsed();

    let mut report = ScenarioReport::new("forward");
    let mut headers = vec!["path"];
    headers.extend(LATENCY_HEADERS);
    let mut table = Table::new(
        format!("forward: DELETE on beta of alpha's session ({iterations} writes, one at a time)"),
        &headers,
    );
    let answered = answered_on_b.summary(wall).context("no samples")?;
    let local = local.summary(local_wall).context("no local samples")?;
    for (label, sum) in [
        (
            "session_closed on alpha's WS (the owner's commit)",
            closed_on_a.summary(wall),
        ),
        ("204 on beta (the owner's answer, back)", Some(answered)),
        ("baseline: DELETE of a local session on alpha", Some(local)),
    ] {
        let Some(sum) = sum else {
            bail!("no samples for {label}");
        };
        let mut row = vec![label.to_owned()];
        row.extend(sum.cells());
        table.row(row);
    }
    report.tables.push(table);

    let mut per_write = Table::new(
        "forward: Redis commands per forwarded write (INFO commandstats)",
        &["command", "calls", "per write"],
    );
    let mut sum = 0.0;
    for (name, calls) in &after {
        let delta = calls.saturating_sub(before.get(name).copied().unwrap_or(0));
        if delta == 0 || name == "info" {
            continue;
        }
        #[allow(clippy::cast_precision_loss)]
        let each = delta as f64 / iterations as f64;
        sum += each;
        per_write.row([name.clone(), delta.to_string(), format!("{each:.2}")]);
    }
    per_write.row(["all".to_owned(), String::new(), format!("{sum:.2}")]);
    report.tables.push(per_write);
    report.outcomes.push(Outcome {
        scenario: "forward",
        metric: "DELETE on B of A's session -> 204 on B: p50 / p99".into(),
        result: format!("{} / {}", Human(answered.p50), Human(answered.p99)),
        baseline: format!("local {} / {}", Human(local.p50), Human(local.p99)),
        ratio: format!("p50 {}", ratio(answered.p50, local.p50)),
        goal: "-".into(),
        verdict: Verdict::Info,
    });
    ws_a.close().await;
    ws_b.close().await;
    beta.stop().await;
    alpha.stop().await;
    drop(redis);
    Ok(report)
}

/// Reads until the `event` frame about session `id`; returns when it came.
async fn wait_frame(ws: &mut Ws, event: &str, id: &str) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + FRAME_TIMEOUT;
    let wanted = format!("\"event\":\"{event}\"");
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(text) = ws.next_text(left).await? else {
            bail!("no {event} for session {id} within {FRAME_TIMEOUT:?}");
        };
        let arrived = Instant::now();
        if text.contains(&wanted) && text.contains(id) {
            return Ok(arrived);
        }
    }
}

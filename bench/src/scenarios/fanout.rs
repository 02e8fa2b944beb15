//! Scenario 5, `fanout`: one change delivered to 1,000 WebSocket clients of
//! one daemon (standalone, so only the fan-out is measured): time from the
//! PATCH to the last client's frame, and to the median client's. Baseline:
//! the floor, a minimal WebSocket server in the bench ([`WsFloorServer`])
//! writing a frame of the same size to the same number of clients.

use super::Ctx;
use crate::client::{self, Conn};
use crate::daemon::{Daemon, DaemonOptions};
use crate::floor_ws::WsFloorServer;
use crate::report::{Outcome, ScenarioReport, Table, Verdict};
use crate::stats::{Human, LATENCY_HEADERS, Samples, Summary, ratio};
use crate::workload::{id_and_rev, new_session_body, patch_body};
use crate::ws::{Ws, session_event};
use anyhow::{Context as _, bail};
use hyper::{Method, StatusCode};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Pause between changes.
const PAUSE: Duration = Duration::from_millis(20);

/// Time to the last client and to the median client, per change.
struct Spread {
    last: Samples,
    median: Samples,
    wall: Duration,
}

pub(super) async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let clients = ctx.pick(1_000, 50);
    let (warmup, iterations) = ctx.pick((10, 200), (2, 5));
    let opts = DaemonOptions {
        computer: "solo".into(),
        redis: None,
        heartbeat_ms: None,
        allow_remote_writes: false,
    };
    let daemon = Daemon::start(&ctx.fleetd, &opts).await?;
    let mut conn = Conn::connect(daemon.socket()).await?;
    let (status, body) = conn
        .send(
            Method::POST,
            "/v1/sessions",
            Some(new_session_body("solo", 0)),
        )
        .await?;
    client::expect(status, StatusCode::CREATED, "POST /v1/sessions", &body)?;
    let (id, mut rev) = id_and_rev(&body)?;

    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut readers = JoinSet::new();
    for _ in 0..clients {
        let mut ws = Ws::connect(daemon.socket()).await?;
        ws.subscribe("sessions", None, Duration::from_secs(10))
            .await?;
        readers.spawn(read_revs(ws, id.clone(), tx.clone()));
    }
    let path = format!("/v1/sessions/{id}");
    let mut frame_len = 0;
    let fleet = {
        let mut spread = Spread::new(iterations);
        let mut start = Instant::now();
        for i in 0..warmup + iterations {
            if i == warmup {
                start = Instant::now();
            }
            rev += 1;
            let t0 = Instant::now();
            let (status, body) = conn
                .send(Method::PATCH, &path, Some(patch_body(i as u64)))
                .await?;
            client::expect(status, StatusCode::OK, "PATCH", &body)?;
            frame_len = body.len() + 110;
            let arrivals = collect(&mut rx, rev, clients).await?;
            if i >= warmup {
                spread.record(t0, arrivals);
            }
            tokio::time::sleep(PAUSE).await;
        }
        spread.wall = start.elapsed();
        spread
    };
    readers.abort_all();
    drop(daemon);

    let server = WsFloorServer::start()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut floor_readers = JoinSet::new();
    for _ in 0..clients {
        let ws = Ws::connect(server.socket()).await?;
        floor_readers.spawn(read_revs(ws, "floor".into(), tx.clone()));
    }
    let floor = {
        let mut spread = Spread::new(iterations);
        let mut start = Instant::now();
        for i in 0..warmup + iterations {
            if i == warmup {
                start = Instant::now();
            }
            let rev = i as u64 + 1;
            let t0 = Instant::now();
            server.send(floor_frame(rev, frame_len));
            let arrivals = collect(&mut rx, rev, clients).await?;
            if i >= warmup {
                spread.record(t0, arrivals);
            }
            tokio::time::sleep(PAUSE).await;
        }
        spread.wall = start.elapsed();
        spread
    };
    floor_readers.abort_all();
    drop(server);

    let mut report = ScenarioReport::new("fanout");
    let mut headers = vec!["one change ->"];
    headers.extend(LATENCY_HEADERS);
    let mut t = Table::new(
        format!(
            "fanout: one change to {clients} WebSocket clients of one daemon (~{frame_len} B frames)"
        ),
        &headers,
    );
    let sums = [
        ("fleetd: last client", fleet.last.summary(fleet.wall)),
        ("fleetd: median client", fleet.median.summary(fleet.wall)),
        ("floor: last client", floor.last.summary(floor.wall)),
        ("floor: median client", floor.median.summary(floor.wall)),
    ];
    for (label, sum) in &sums {
        let Some(sum) = sum else {
            bail!("no samples for {label}");
        };
        let mut row = vec![(*label).to_owned()];
        row.extend(sum.cells());
        t.row(row);
    }
    report.tables.push(t);
    report.notes.push(
        "the floor server runs on 2 threads of its own inside the bench process; the clients \
         are tasks of the bench in both cases"
            .into(),
    );
    let (Some(ours), Some(base)) = (&sums[0].1, &sums[2].1) else {
        bail!("no samples");
    };
    report.outcomes.push(outcome(clients, ours, base));
    Ok(report)
}

fn outcome(clients: usize, ours: &Summary, base: &Summary) -> Outcome {
    Outcome {
        scenario: "fanout",
        metric: format!("one change to the last of {clients} WS clients: p50 / p99"),
        result: format!("{} / {}", Human(ours.p50), Human(ours.p99)),
        baseline: format!("floor {} / {}", Human(base.p50), Human(base.p99)),
        ratio: format!("p50 {}", ratio(ours.p50, base.p50)),
        goal: "< 20 ms to the last client (judged at p99)".into(),
        verdict: Verdict::from_bool(ours.p99 < Duration::from_millis(20)),
    }
}

impl Spread {
    fn new(n: usize) -> Self {
        Self {
            last: Samples::with_capacity(n),
            median: Samples::with_capacity(n),
            wall: Duration::ZERO,
        }
    }

    fn record(&mut self, t0: Instant, mut arrivals: Vec<Instant>) {
        arrivals.sort_unstable();
        if let (Some(last), Some(mid)) = (arrivals.last(), arrivals.get(arrivals.len() / 2)) {
            self.last.record(last.saturating_duration_since(t0));
            self.median.record(mid.saturating_duration_since(t0));
        }
    }
}

/// Waits (at most 10 s) for `clients` arrivals of `rev`.
async fn collect(
    rx: &mut mpsc::UnboundedReceiver<(u64, Instant)>,
    rev: u64,
    clients: usize,
) -> anyhow::Result<Vec<Instant>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut arrivals = Vec::with_capacity(clients);
    while arrivals.len() < clients {
        let next = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .with_context(|| {
                format!(
                    "only {} of {clients} clients got rev {rev} within 10 s",
                    arrivals.len()
                )
            })?
            .context("every client reader stopped")?;
        if next.0 == rev {
            arrivals.push(next.1);
        }
    }
    Ok(arrivals)
}

/// Forwards the `rev` and arrival time of every frame about session `id`.
async fn read_revs(
    mut ws: Ws,
    id: String,
    tx: mpsc::UnboundedSender<(u64, Instant)>,
) -> anyhow::Result<()> {
    loop {
        let Some(text) = ws.next_text(Duration::from_secs(3600)).await? else {
            continue;
        };
        let now = Instant::now();
        if let Some(ev) = session_event(&text)
            && ev.session_id == id
            && tx.send((ev.rev, now)).is_err()
        {
            return Ok(());
        }
    }
}

/// A `session_updated` frame of about `len` bytes for the floor.
fn floor_frame(rev: u64, len: usize) -> Utf8Bytes {
    let head = serde_json::json!({
        "type": "event", "topic": "sessions", "epoch": "floor", "seq": rev,
        "event": "session_updated",
        "data": {"session_id": "floor", "computer": "floor", "rev": rev, "title": ""},
    })
    .to_string();
    let pad = "x".repeat(len.saturating_sub(head.len()));
    let data =
        serde_json::json!({"session_id": "floor", "computer": "floor", "rev": rev, "title": pad});
    let frame = serde_json::json!({
        "type": "event", "topic": "sessions", "epoch": "floor", "seq": rev,
        "event": "session_updated", "data": data,
    });
    Utf8Bytes::from(frame.to_string())
}

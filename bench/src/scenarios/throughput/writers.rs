//! The load of the `throughput` scenario: kept-alive connections that each
//! PATCH their own share of the sessions, one after another, as fast as the
//! daemon answers (closed loop), remembering when each change was sent.

use crate::client::{self, Conn};
use crate::stats::Samples;
use crate::workload::{id_and_rev, patch_body};
use anyhow::Context as _;
use hyper::{Method, StatusCode};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// What one writer did.
pub(super) struct WriterLog {
    /// (session index, rev its PATCH produced, when the PATCH was sent).
    pub(super) sent: Vec<(u32, u64, Instant)>,
    /// How long each PATCH took to be answered.
    pub(super) acks: Samples,
    /// When it stopped.
    pub(super) stopped: Instant,
}

/// `writers` connections PATCH their share of `ids` round-robin until
/// `duration` has passed.
pub(super) async fn write_for(
    socket: &Path,
    ids: &[String],
    writers: usize,
    duration: Duration,
) -> anyhow::Result<Vec<WriterLog>> {
    let stop_at = Instant::now() + duration;
    let mut tasks = JoinSet::new();
    for w in 0..writers {
        let mine: Vec<(u32, String)> = ids
            .iter()
            .enumerate()
            .filter(|(i, _)| i % writers == w)
            .map(|(i, id)| (u32::try_from(i).unwrap_or(u32::MAX), id.clone()))
            .collect();
        let socket: PathBuf = socket.to_owned();
        tasks.spawn(writer(socket, mine, stop_at));
    }
    let mut logs = Vec::with_capacity(writers);
    while let Some(done) = tasks.join_next().await {
        logs.push(done.context("a writer task failed")??);
    }
    Ok(logs)
}

async fn writer(
    socket: PathBuf,
    mine: Vec<(u32, String)>,
    stop_at: Instant,
) -> anyhow::Result<WriterLog> {
    let mut conn = Conn::connect(&socket).await?;
    let paths: Vec<(u32, String)> = mine
        .into_iter()
        .map(|(i, id)| (i, format!("/v1/sessions/{id}")))
        .collect();
    let mut sent = Vec::new();
    let mut acks = Samples::default();
    let mut n = 0u64;
    'outer: loop {
        for (i, path) in &paths {
            if Instant::now() >= stop_at {
                break 'outer;
            }
            n += 1;
            let t0 = Instant::now();
            let (status, body) = conn.send(Method::PATCH, path, Some(patch_body(n))).await?;
            acks.record(t0.elapsed());
            client::expect(status, StatusCode::OK, "PATCH", &body)?;
            let (_, rev) = id_and_rev(&body)?;
            sent.push((*i, rev, t0));
        }
    }
    Ok(WriterLog {
        sent,
        acks,
        stopped: Instant::now(),
    })
}

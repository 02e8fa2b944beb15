//! The raw Redis floors the daemon is compared with, measured on the same
//! Redis in the same run: one `XADD` waking a blocked `XREAD` on another
//! connection (latency), and pipelined `XADD` batches read by ten blocking
//! readers (throughput). Nothing of fleetcache runs here: only fred.

use crate::redis_client::Redis;
use crate::stats::Samples;
use anyhow::{Context as _, bail};
use bytes::Bytes;
use fred::interfaces::{ClientLike as _, StreamsInterface as _};
use fred::types::Value;
use fred::types::streams::XReadResponse;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Entries appended per pipeline round trip (as the daemon's push batch).
pub const BATCH: usize = 512;

/// `DEL key` (through `custom`: the workspace's fred has only the streams
/// interface enabled).
async fn delete(redis: &Redis, key: &str) -> anyhow::Result<()> {
    let _: Value = redis
        .client
        .custom(fred::cmd!("DEL"), vec![key])
        .await
        .context("DEL")?;
    Ok(())
}

fn payload(len: usize) -> Value {
    Value::Bytes(Bytes::from(vec![b'x'; len]))
}

/// Reads `key` from `from` with blocking reads; the ids and arrival times
/// of what came.
async fn read_some(
    reader: &Redis,
    key: &str,
    from: &str,
    count: u64,
) -> anyhow::Result<Vec<String>> {
    let v: Value = reader
        .client
        .xread(Some(count), Some(5_000), key, from)
        .await
        .context("XREAD")?;
    if v.is_null() {
        return Ok(Vec::new());
    }
    let map: XReadResponse<String, String, String, Bytes> =
        v.into_xread_response().context("parse XREAD reply")?;
    Ok(map
        .into_values()
        .flat_map(|entries| entries.into_iter().map(|(id, _)| id))
        .collect())
}

/// One `XADD` on one connection to the moment a blocked `XREAD` on another
/// returns it, `warmup + iterations` times with `pause` between, entries of
/// `payload_len` bytes. The first `warmup` samples are dropped; also
/// returns the measured part's wall time.
///
/// # Errors
/// When Redis fails or an entry does not arrive within 5 s.
pub async fn xadd_to_xread(
    url: &str,
    key: &str,
    warmup: usize,
    iterations: usize,
    payload_len: usize,
    pause: Duration,
) -> anyhow::Result<(Samples, Duration)> {
    let writer = Redis::connect(url).await?;
    let reader = Redis::connect(url).await?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    let mut tasks = JoinSet::new();
    let read_key = key.to_owned();
    tasks.spawn(async move {
        let mut from = "$".to_owned();
        loop {
            let ids = read_some(&reader, &read_key, &from, 100).await?;
            let now = Instant::now();
            if let Some(last) = ids.last() {
                from.clone_from(last);
                for _ in &ids {
                    if tx.send(now).is_err() {
                        return anyhow::Ok(());
                    }
                }
            }
        }
    });
    // Let the reader block before the first append.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let value = payload(payload_len);
    let mut samples = Samples::with_capacity(iterations);
    let mut start = Instant::now();
    for i in 0..warmup + iterations {
        if i == warmup {
            start = Instant::now();
        }
        let t0 = Instant::now();
        let _: Value = writer
            .client
            .xadd(key, false, None, "*", vec![("body", value.clone())])
            .await
            .context("XADD")?;
        let arrived = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .context("the blocked XREAD did not return within 5 s")?
            .context("the reader stopped")?;
        if i >= warmup {
            samples.record(arrived.saturating_duration_since(t0));
        }
        tokio::time::sleep(pause).await;
    }
    let wall = start.elapsed();
    tasks.abort_all();
    delete(&writer, key).await?;
    Ok((samples, wall))
}

/// What the throughput floor measured.
#[derive(Debug, Clone, Copy)]
pub struct FanoutRate {
    /// Entries appended.
    pub entries: usize,
    /// From the first append to the last reader having every entry.
    pub wall: Duration,
}

impl FanoutRate {
    /// Entries delivered to every reader per second.
    pub fn per_sec(&self) -> f64 {
        self.entries as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// `entries` appended in pipelined batches of [`BATCH`] by one connection
/// while `readers` blocking readers (one connection each) read them all.
///
/// # Errors
/// When Redis fails or a reader does not get everything within 60 s.
pub async fn pipelined_fanout(
    url: &str,
    key: &str,
    entries: usize,
    readers: usize,
    payload_len: usize,
) -> anyhow::Result<FanoutRate> {
    let writer = Redis::connect(url).await?;
    let mut tasks = JoinSet::new();
    for _ in 0..readers {
        let reader = Redis::connect(url).await?;
        let key = key.to_owned();
        tasks.spawn(async move {
            let mut from = "0-0".to_owned();
            let mut seen = 0usize;
            let deadline = Instant::now() + Duration::from_secs(60);
            while seen < entries {
                if Instant::now() >= deadline {
                    bail!("a floor reader got {seen} of {entries} entries in 60 s");
                }
                let ids = read_some(&reader, &key, &from, 1000).await?;
                if let Some(last) = ids.last() {
                    from.clone_from(last);
                }
                seen += ids.len();
            }
            anyhow::Ok(Instant::now())
        });
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let value = payload(payload_len);
    let start = Instant::now();
    let mut sent = 0;
    while sent < entries {
        let n = BATCH.min(entries - sent);
        let pipeline = writer.client.pipeline();
        for _ in 0..n {
            let () = pipeline
                .xadd(key, false, None, "*", vec![("body", value.clone())])
                .await
                .context("queue XADD")?;
        }
        for reply in pipeline.try_all::<Value>().await {
            reply.context("XADD")?;
        }
        sent += n;
    }
    let mut last = start;
    while let Some(done) = tasks.join_next().await {
        last = last.max(done.context("a floor reader failed")??);
    }
    delete(&writer, key).await?;
    Ok(FanoutRate {
        entries,
        wall: last.saturating_duration_since(start),
    })
}

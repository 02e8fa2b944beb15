//! [`Fleet`]: one `redis-server` and several `fleetd` daemons on it, started
//! together, and the waits a scenario needs before it measures.

use crate::client::{self, Conn};
use crate::daemon::{Daemon, DaemonOptions, START_TIMEOUT};
use crate::redis_server::RedisServer;
use anyhow::{Context as _, bail};
use hyper::{Method, StatusCode};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// A Redis server and the daemons that share it.
pub struct Fleet {
    /// The daemons, in the order of their names (dropped before Redis).
    pub daemons: Vec<Daemon>,
    /// The Redis every daemon uses.
    pub redis: RedisServer,
}

impl Fleet {
    /// Starts Redis, then one daemon per name (all at once), and waits until
    /// each answers `/v1/health` and sees every other as an online peer.
    ///
    /// # Errors
    /// When a process does not come up, or the peers do not see each other
    /// within 30 s.
    pub async fn start(fleetd: &Path, names: &[String]) -> anyhow::Result<Self> {
        let redis = RedisServer::start().await?;
        let url = redis.url();
        let mut daemons = Vec::with_capacity(names.len());
        for name in names {
            daemons.push(Daemon::spawn(
                fleetd,
                &DaemonOptions::fleet(name.clone(), &url),
            )?);
        }
        for d in &mut daemons {
            d.wait_healthy(START_TIMEOUT).await?;
        }
        let fleet = Self { daemons, redis };
        fleet
            .wait_peers(names.len() - 1, Duration::from_secs(30))
            .await?;
        Ok(fleet)
    }

    /// Waits until every daemon reports at least `peers` online peers.
    ///
    /// # Errors
    /// When `timeout` passes first.
    pub async fn wait_peers(&self, peers: usize, timeout: Duration) -> anyhow::Result<()> {
        wait_peers(&self.daemons, peers, timeout).await
    }
}

/// Waits until every daemon reports at least `peers` online peers.
///
/// # Errors
/// When `timeout` passes first.
pub async fn wait_peers(daemons: &[Daemon], peers: usize, timeout: Duration) -> anyhow::Result<()> {
    for d in daemons {
        wait_until(timeout, || async {
            Ok(health_peers(d.socket()).await? >= peers)
        })
        .await
        .with_context(|| format!("{} did not see {peers} peers", d.computer()))?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct Health {
    peers: usize,
}

/// The `peers` count of `/v1/health`.
///
/// # Errors
/// When the request fails or the answer is not health JSON.
pub async fn health_peers(socket: &Path) -> anyhow::Result<usize> {
    let (status, body) = client::once(socket, Method::GET, "/v1/health", None).await?;
    client::expect(status, StatusCode::OK, "/v1/health", &body)?;
    let health: Health = serde_json::from_slice(&body).context("parse /v1/health")?;
    Ok(health.peers)
}

/// How many elements the JSON array at `path` holds.
///
/// # Errors
/// When the request fails or the answer is not a JSON array.
pub async fn count(conn: &mut Conn, path: &str) -> anyhow::Result<usize> {
    let body = conn.get_ok(path).await?;
    let items: Vec<serde::de::IgnoredAny> =
        serde_json::from_slice(&body).with_context(|| format!("{path} is not a JSON array"))?;
    Ok(items.len())
}

/// Polls the JSON array at `path` every 20 ms until it holds `want` items.
///
/// # Errors
/// When `timeout` passes first (with the last count), or a request fails.
pub async fn wait_count(
    conn: &mut Conn,
    path: &str,
    want: usize,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let n = count(conn, path).await?;
        if n == want {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("{path} held {n} items, not {want}, after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `check` every 20 ms until it says `true`.
///
/// # Errors
/// When `timeout` passes first, or `check` fails.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await? {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("not reached within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

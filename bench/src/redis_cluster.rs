//! [`RedisCluster`]: a throwaway Redis Cluster of 3 masters and 3 replicas
//! on loopback (`redis-server --cluster-enabled yes`, then `redis-cli
//! --cluster create --cluster-replicas 1 --cluster-yes`), keeping nothing
//! on disk, killed on drop; and [`ClusterFleet`], daemons on it that know
//! only its first node, as a user would configure them.

use crate::daemon::{Daemon, DaemonOptions, START_TIMEOUT};
use crate::fleet::wait_peers;
use crate::process::Proc;
use anyhow::{Context as _, bail};
use std::ffi::OsString;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long forming the cluster may take.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

const NODES: usize = 6;

/// A running 3 + 3 Redis Cluster owned by the bench.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<Proc>,
    ports: Vec<u16>,
    // Last: removed after the processes are killed.
    _dir: TempDir,
}

impl RedisCluster {
    /// Starts six nodes, creates the cluster and waits until every node
    /// says `cluster_state:ok` and every replica is linked to its master.
    ///
    /// # Errors
    /// When `redis-server` or `redis-cli` is missing, no free ports are
    /// found, or the cluster does not form within a minute.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fc-bench-cluster")
            .tempdir()
            .context("create a temp dir for the cluster")?;
        let ports = cluster_ports(NODES)?;
        let mut nodes = Vec::with_capacity(NODES);
        for port in &ports {
            nodes.push(spawn_node(&dir, *port).context(
                "redis-server is needed: install it with `apt-get install -y redis-server`",
            )?);
        }
        let cluster = Self {
            nodes,
            ports,
            _dir: dir,
        };
        cluster.create().await?;
        cluster.wait_ready().await?;
        Ok(cluster)
    }

    /// `redis-cluster://127.0.0.1:<first node>`: one node, as users give it.
    pub fn seed_url(&self) -> String {
        format!("redis-cluster://127.0.0.1:{}", self.ports[0])
    }

    async fn create(&self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        for port in &self.ports {
            while !matches!(info(*port, "PING").await, Ok(ref s) if s.starts_with("+PONG")) {
                if tokio::time::Instant::now() >= deadline {
                    bail!("cluster node :{port} did not answer PING");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let mut args: Vec<String> = vec!["--cluster".into(), "create".into()];
        args.extend(self.ports.iter().map(|p| format!("127.0.0.1:{p}")));
        args.extend(["--cluster-replicas", "1", "--cluster-yes"].map(String::from));
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("redis-cli").args(&args).output()
        })
        .await
        .context("the redis-cli task failed")?
        .context("redis-cli is needed: install it with `apt-get install -y redis-server`")?;
        if !out.status.success() {
            bail!(
                "redis-cli --cluster create failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            let mut ready = true;
            for port in &self.ports {
                let cluster = info(*port, "CLUSTER INFO").await.unwrap_or_default();
                let repl = info(*port, "INFO replication").await.unwrap_or_default();
                let linked = repl.contains("role:master") || repl.contains("master_link_status:up");
                if !(cluster.contains("cluster_state:ok") && linked) {
                    ready = false;
                    break;
                }
            }
            if ready {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let tails: Vec<String> = self.nodes.iter().map(|n| n.log_tail(10)).collect();
                bail!(
                    "the cluster was not ready within {READY_TIMEOUT:?}\n{}",
                    tails.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Daemons on a [`RedisCluster`], each given only its first node.
pub struct ClusterFleet {
    /// The daemons, in the order of their names (dropped before the cluster).
    pub daemons: Vec<Daemon>,
    /// The cluster every daemon uses, kept running while the fleet lives.
    _cluster: RedisCluster,
}

impl ClusterFleet {
    /// Starts a cluster, then one daemon per name, and waits until each
    /// sees every other as an online peer.
    ///
    /// # Errors
    /// As [`RedisCluster::start`], or when a daemon does not come up or
    /// the peers do not see each other within 30 s.
    pub async fn start(fleetd: &Path, names: &[String]) -> anyhow::Result<Self> {
        let cluster = RedisCluster::start().await?;
        let url = cluster.seed_url();
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
        wait_peers(&daemons, names.len() - 1, Duration::from_secs(30)).await?;
        Ok(Self {
            daemons,
            _cluster: cluster,
        })
    }
}

/// One inline command on a fresh connection; the raw reply text.
async fn info(port: u16, command: &str) -> anyhow::Result<String> {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(format!("{command}\r\n").as_bytes())
            .await?;
        let mut buf = vec![0u8; 16 * 1024];
        let n = stream.read(&mut buf).await?;
        anyhow::Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .context("no answer within 2 s")?
}

/// `n` ports below 55536 whose cluster bus ports (+10000) are free too.
fn cluster_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let seed = std::process::id().wrapping_mul(7919);
    let mut ports = Vec::with_capacity(n);
    for k in 0..10_000u32 {
        // 20000..45000: below the usual ephemeral range, bus port below 55536.
        let candidate = 20_000 + (seed.wrapping_add(k.wrapping_mul(37)) % 25_000);
        let Ok(port) = u16::try_from(candidate) else {
            continue;
        };
        let free = |p: u16| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok();
        if !ports.contains(&port) && free(port) && free(port + 10_000) {
            ports.push(port);
            if ports.len() == n {
                return Ok(ports);
            }
        }
    }
    bail!("cannot find {n} free port pairs (port, port + 10000) below 55536")
}

fn spawn_node(dir: &TempDir, port: u16) -> anyhow::Result<Proc> {
    let args: Vec<OsString> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--daemonize",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        &format!("nodes-{port}.conf"),
        "--cluster-node-timeout",
        "2000",
        "--dir",
        &dir.path().to_string_lossy(),
    ]
    .iter()
    .map(OsString::from)
    .collect();
    Proc::spawn(
        format!("redis-cluster-node :{port}"),
        Path::new("redis-server"),
        &args,
        &[],
        dir,
        &format!("node-{port}.log"),
    )
}

//! `ClusterFixture`: a throwaway Redis Cluster of 3 masters and 3 replicas
//! (`redis-server --cluster-enabled yes`, then `redis-cli --cluster create
//! --cluster-replicas 1 --cluster-yes`), on loopback, killed on drop.
//!
//! Every node's cluster bus listens on its port + 10000, so the ports are
//! picked below 55536 with both the port and its bus port free. The
//! `cluster-node-timeout` is short (2000 ms by default) so that a failover
//! takes a few seconds. Waits are bounded polls: the cluster is ready when
//! every node says `cluster_state:ok` and every replica's link to its
//! master is up.

use std::ffi::OsString;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tempfile::TempDir;
use tokio::time::Instant;

use crate::process::{CommandSpec, Supervised};
use crate::resp::{self, RespValue};

/// How long creating the cluster (and each later wait for it) may take.
pub const CLUSTER_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The default `cluster-node-timeout`, in milliseconds.
pub const DEFAULT_NODE_TIMEOUT_MS: u64 = 2000;

const NODES: usize = 6;

/// Options of a [`ClusterFixture`]; start with [`ClusterBuilder::start`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    node_timeout_ms: u64,
}

impl Default for ClusterBuilder {
    fn default() -> Self {
        Self {
            node_timeout_ms: DEFAULT_NODE_TIMEOUT_MS,
        }
    }
}

impl ClusterBuilder {
    /// The `cluster-node-timeout` of every node (default 2000 ms).
    pub fn node_timeout_ms(mut self, ms: u64) -> Self {
        self.node_timeout_ms = ms;
        self
    }

    /// Starts six nodes, creates the cluster and waits until it is ready.
    ///
    /// # Panics
    ///
    /// When `redis-server` or `redis-cli` is missing (with how to install
    /// them), or the cluster does not form within [`CLUSTER_READY_TIMEOUT`];
    /// the message holds the nodes' logs.
    pub async fn start(self) -> ClusterFixture {
        let dir = tempfile::Builder::new()
            .prefix("fc-cluster")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for the cluster: {e}"));
        let ports = cluster_ports(NODES);
        let mut nodes: Vec<Supervised> = ports
            .iter()
            .map(|port| supervised(&dir, *port, self.node_timeout_ms))
            .collect();
        for node in &mut nodes {
            if let Err(e) = node.launch() {
                if e.kind() == io::ErrorKind::NotFound {
                    panic!("{NOT_INSTALLED}");
                }
                panic!("cannot start redis-server: {e}");
            }
        }
        let fixture = ClusterFixture { nodes, ports, dir };
        for i in 0..NODES {
            fixture.wait_ping(i).await;
        }
        fixture.create().await;
        fixture.wait_ready().await;
        fixture
    }
}

const NOT_INSTALLED: &str = "redis-server / redis-cli not found: install them with `apt-get install -y redis-server` (scripts/test.sh does this)";

/// A running 3 + 3 Redis Cluster owned by a test. Dropping it kills every node.
#[derive(Debug)]
pub struct ClusterFixture {
    nodes: Vec<Supervised>,
    ports: Vec<u16>,
    dir: TempDir,
}

impl ClusterFixture {
    /// Options: [`ClusterBuilder::node_timeout_ms`].
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder::default()
    }

    /// Starts a cluster with the default options (see [`ClusterBuilder::start`]).
    ///
    /// # Panics
    ///
    /// As [`ClusterBuilder::start`].
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// `redis-cluster://127.0.0.1:<port of node 0>`: one node only, as a
    /// user would give it. Node 0 is a master right after the start.
    pub fn seed_url(&self) -> String {
        format!("redis-cluster://127.0.0.1:{}", self.ports[0])
    }

    /// The client port of node `i` (0..6).
    pub fn port(&self, i: usize) -> u16 {
        self.ports[i]
    }

    /// How many nodes the fixture started (6).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: a cluster has nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Runs one command on node `i` and returns its reply (error replies
    /// included; `MOVED` is not followed).
    ///
    /// # Errors
    ///
    /// When the exchange fails (e.g. the node is down).
    pub async fn try_command<S: AsRef<[u8]>>(&self, i: usize, args: &[S]) -> io::Result<RespValue> {
        resp::command(addr(self.ports[i]), args).await
    }

    /// Runs one command on the master that owns `key`'s slot now, following
    /// the cluster's own view (asked of any live node).
    ///
    /// # Panics
    ///
    /// When no live node knows a master for the slot, or the exchange fails.
    pub async fn command_for_key<S: AsRef<[u8]>>(&mut self, key: &str, args: &[S]) -> RespValue {
        let master = self
            .master_of(key)
            .await
            .unwrap_or_else(|| panic!("no live master owns {key}"));
        self.try_command(master, args)
            .await
            .unwrap_or_else(|e| panic!("command on node {master} failed: {e}"))
    }

    /// The index of the live master that owns `key`'s slot, by the view of
    /// the first live node that answers, or `None` when no live master
    /// owns it (e.g. during a failover).
    pub async fn master_of(&mut self, key: &str) -> Option<usize> {
        for i in 0..self.nodes.len() {
            if !self.nodes[i].is_running() {
                continue;
            }
            let Ok(slot) = self.try_command(i, &["CLUSTER", "KEYSLOT", key]).await else {
                continue;
            };
            let slot = slot.as_int()?;
            let Ok(nodes) = self.try_command(i, &["CLUSTER", "NODES"]).await else {
                continue;
            };
            let text = nodes.as_str()?.to_owned();
            let port = owner_port(&text, slot)?;
            let index = self.ports.iter().position(|p| *p == port)?;
            return self.nodes[index].is_running().then_some(index);
        }
        None
    }

    /// SIGKILLs node `i` and waits for it to be gone.
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    /// Freezes node `i` (SIGSTOP): e.g. a replica that then misses what
    /// its master acknowledges.
    ///
    /// # Panics
    ///
    /// When the signal cannot be sent.
    pub fn pause(&self, i: usize) {
        if let Err(e) = self.nodes[i].signal(rustix::process::Signal::STOP) {
            panic!("cannot SIGSTOP cluster node {i}: {e}");
        }
    }

    /// Lets a paused node go on (SIGCONT).
    ///
    /// # Panics
    ///
    /// When the signal cannot be sent.
    pub fn resume(&self, i: usize) {
        if let Err(e) = self.nodes[i].signal(rustix::process::Signal::CONT) {
            panic!("cannot SIGCONT cluster node {i}: {e}");
        }
    }

    /// The index of a replica of master `master`, by the master's own
    /// `CLUSTER NODES`.
    pub async fn replica_of(&self, master: usize) -> Option<usize> {
        let nodes = self.try_command(master, &["CLUSTER", "NODES"]).await.ok()?;
        let text = nodes.as_str()?.to_owned();
        let port = replica_port(&text)?;
        self.ports.iter().position(|p| *p == port)
    }

    /// Waits (bounded poll, every 20 ms) until the master owning `key` is
    /// a live node other than `dead` and every live node says
    /// `cluster_state:ok`: the cluster's own failover is over. Returns when
    /// it was first seen.
    ///
    /// # Panics
    ///
    /// When that does not happen within [`CLUSTER_READY_TIMEOUT`].
    pub async fn wait_failover(&mut self, key: &str, dead: usize) -> Instant {
        let deadline = Instant::now() + CLUSTER_READY_TIMEOUT;
        loop {
            let owner = self.master_of(key).await;
            if owner.is_some_and(|o| o != dead) && self.all_live_ok().await {
                return Instant::now();
            }
            assert!(
                Instant::now() < deadline,
                "no failover of {key} away from node {dead} within {CLUSTER_READY_TIMEOUT:?} (owner now {owner:?})\n{}",
                self.logs_tail()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The last lines of every node's log, for failure messages.
    pub fn logs_tail(&self) -> String {
        self.nodes.iter().map(|n| n.log_tail(15)).collect()
    }

    async fn all_live_ok(&mut self) -> bool {
        for i in 0..self.nodes.len() {
            if !self.nodes[i].is_running() {
                continue;
            }
            match self.try_command(i, &["CLUSTER", "INFO"]).await {
                Ok(v) if v.as_str().is_some_and(|t| t.contains("cluster_state:ok")) => {}
                _ => return false,
            }
        }
        true
    }

    async fn wait_ping(&self, i: usize) {
        let deadline = Instant::now() + CLUSTER_READY_TIMEOUT;
        loop {
            if let Ok(RespValue::Simple(pong)) = self.try_command(i, &["PING"]).await
                && pong == "PONG"
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "cluster node {i} (port {}) did not answer PING\n{}",
                self.ports[i],
                self.nodes[i].log_tail(30)
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn create(&self) {
        let mut args: Vec<String> = vec!["--cluster".into(), "create".into()];
        args.extend(self.ports.iter().map(|p| format!("127.0.0.1:{p}")));
        args.extend(["--cluster-replicas", "1", "--cluster-yes"].map(String::from));
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("redis-cli").args(&args).output()
        })
        .await
        .unwrap_or_else(|e| panic!("redis-cli task failed: {e}"));
        let out = match out {
            Ok(out) => out,
            Err(e) if e.kind() == io::ErrorKind::NotFound => panic!("{NOT_INSTALLED}"),
            Err(e) => panic!("cannot run redis-cli: {e}"),
        };
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed ({}):\n{}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.logs_tail()
        );
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + CLUSTER_READY_TIMEOUT;
        loop {
            let mut ready = true;
            let mut last = String::new();
            for i in 0..self.nodes.len() {
                let info = self.try_command(i, &["CLUSTER", "INFO"]).await;
                let ok = matches!(&info, Ok(v) if v.as_str().is_some_and(|t| t.contains("cluster_state:ok") && t.contains("cluster_known_nodes:6")));
                let repl = self.try_command(i, &["INFO", "replication"]).await;
                let repl_text = repl
                    .as_ref()
                    .ok()
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let linked = repl_text.contains("role:master")
                    || repl_text.contains("master_link_status:up");
                if !(ok && linked) {
                    ready = false;
                    last = format!("node {i}: cluster info {info:?}, replication {repl_text:?}");
                    break;
                }
            }
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster was not ready within {CLUSTER_READY_TIMEOUT:?}; last: {last}\n{}",
                self.logs_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The directory holding the nodes' files and logs.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// The port of the master that owns `slot` in a `CLUSTER NODES` text;
/// masters flagged `fail` are skipped.
fn owner_port(nodes: &str, slot: i64) -> Option<u16> {
    for line in nodes.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 9 {
            continue;
        }
        let flags = fields[2];
        if !flags.contains("master") || flags.contains("fail") {
            continue;
        }
        let owns = fields[8..].iter().any(|range| {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            matches!((a.parse::<i64>(), b.parse::<i64>()), (Ok(a), Ok(b)) if a <= slot && slot <= b)
        });
        if owns {
            let host_port = fields[1].split('@').next()?;
            return host_port.rsplit_once(':')?.1.parse().ok();
        }
    }
    None
}

/// The port of a replica of the `myself` node in a `CLUSTER NODES` text.
fn replica_port(nodes: &str) -> Option<u16> {
    let rows: Vec<Vec<&str>> = nodes
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let me = rows
        .iter()
        .find(|f| f.len() > 3 && f[2].contains("myself"))?[0];
    let replica = rows
        .iter()
        .find(|f| f.len() > 3 && f[2].contains("slave") && f[3] == me)?;
    let host_port = replica[1].split('@').next()?;
    host_port.rsplit_once(':')?.1.parse().ok()
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// `n` ports below 55536 whose bus ports (+10000) are free too, none
/// handed out twice in this process.
fn cluster_ports(n: usize) -> Vec<u16> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(7919);
    let mut ports = Vec::with_capacity(n);
    for _ in 0..10_000 {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        // 20000..45000: below the usual ephemeral range, bus port below 55536.
        let candidate = 20_000 + (seed.wrapping_add(k.wrapping_mul(37)) % 25_000);
        let Ok(port) = u16::try_from(candidate) else {
            continue;
        };
        let free = |p: u16| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok();
        if !ports.contains(&port) && free(port) && free(port + 10_000) {
            ports.push(port);
            if ports.len() == n {
                return ports;
            }
        }
    }
    panic!("cannot find {n} free port pairs (port, port + 10000) below 55536");
}

fn supervised(dir: &TempDir, port: u16, node_timeout_ms: u64) -> Supervised {
    let args: Vec<OsString> = [
        "--port".to_owned(),
        port.to_string(),
        "--bind".to_owned(),
        "127.0.0.1".to_owned(),
        "--daemonize".to_owned(),
        "no".to_owned(),
        "--save".to_owned(),
        String::new(),
        "--appendonly".to_owned(),
        "no".to_owned(),
        "--cluster-enabled".to_owned(),
        "yes".to_owned(),
        "--cluster-config-file".to_owned(),
        format!("nodes-{port}.conf"),
        "--cluster-node-timeout".to_owned(),
        node_timeout_ms.to_string(),
        "--dir".to_owned(),
        dir.path().to_string_lossy().into_owned(),
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    Supervised::new(
        format!("redis-cluster-node :{port}"),
        CommandSpec {
            program: "redis-server".into(),
            args,
            envs: Vec::new(),
            env_remove: Vec::new(),
            stdout: dir.path().join(format!("node-{port}.log")),
            stderr: dir.path().join(format!("node-{port}.err.log")),
        },
        30,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_of_a_slot_is_read_from_cluster_nodes() {
        let text = "\
a1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
a2 127.0.0.1:30002@40002 master - 0 0 2 connected 5461-10922
a3 127.0.0.1:30003@40003 master,fail - 0 0 3 connected 10923-16383
a4 127.0.0.1:30004@40004 slave a1 0 0 1 connected
";
        assert_eq!(owner_port(text, 0), Some(30001));
        assert_eq!(owner_port(text, 5461), Some(30002));
        assert_eq!(
            owner_port(text, 12000),
            None,
            "a failed master owns nothing"
        );
    }
}

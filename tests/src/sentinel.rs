//! `SentinelFixture`: a Redis master, its replicas and three
//! `redis-server --sentinel` processes watching it, each on a free loopback
//! port, with short failure detection (`down-after-milliseconds`,
//! `failover-timeout`) so that a killed master is replaced within seconds.
//! Everything is killed on drop.
//!
//! [`SentinelFixture::start`] returns once the sentinels know the master,
//! every replica and each other, and the replicas are in sync: a failover
//! is possible from then on. [`SentinelFixture::url`] is the daemon's
//! `redis-sentinel://` URL naming all three sentinels.

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tempfile::TempDir;

use crate::eventually::Poller;
use crate::ports::free_port;
use crate::process::{CommandSpec, Supervised};
use crate::redis::{REDIS_START_TIMEOUT, RedisFixture};
use crate::resp::{self, RespValue};

/// How long the sentinels wait without an answer before calling the
/// master down (`down-after-milliseconds`).
pub const DOWN_AFTER: Duration = Duration::from_millis(1000);

/// `failover-timeout`: how long a failover may take before another is tried.
pub const FAILOVER_TIMEOUT: Duration = Duration::from_millis(3000);

/// How long the set may take to be ready for a failover: the sentinels
/// find each other through hello messages sent every 2 s.
pub const SENTINEL_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The sentinels a set has; a quorum of 2.
const SENTINELS: usize = 3;

/// A master, its replicas and three sentinels; all killed on drop.
#[derive(Debug)]
pub struct SentinelFixture {
    name: String,
    /// The servers: the first is the master at the start.
    servers: Vec<RedisFixture>,
    sentinels: Vec<(u16, Supervised)>,
    _dir: TempDir,
}

impl SentinelFixture {
    /// Starts a master, `replicas` replicas of it and three sentinels
    /// monitoring it as `name` (quorum 2), and waits until a failover is
    /// possible (see the module documentation).
    ///
    /// # Panics
    ///
    /// When `redis-server` is missing or a process does not come up, or the
    /// set is not ready within [`SENTINEL_READY_TIMEOUT`]; with the logs.
    pub async fn start(name: &str, replicas: usize) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("fc-sentinel")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for sentinels: {e}"));
        let master = RedisFixture::start().await;
        let master_port = master.port();
        let mut servers = vec![master];
        for _ in 0..replicas {
            let replica = RedisFixture::builder()
                .arg("--replicaof")
                .arg("127.0.0.1")
                .arg(master_port.to_string())
                .start()
                .await;
            servers.push(replica);
        }
        let mut sentinels = Vec::with_capacity(SENTINELS);
        for i in 0..SENTINELS {
            sentinels.push(start_sentinel(&dir, i, name, master_port));
        }
        let fixture = Self {
            name: name.to_owned(),
            servers,
            sentinels,
            _dir: dir,
        };
        fixture.wait_sentinels_up().await;
        fixture.wait_ready(replicas).await;
        fixture
    }

    /// `redis-sentinel://127.0.0.1:S1?sentinelServiceName=NAME&node=127.0.0.1:S2&node=...`
    pub fn url(&self) -> String {
        let mut ports = self.sentinels.iter().map(|(port, _)| *port);
        let first = ports.next().unwrap_or_default();
        let mut url = format!(
            "redis-sentinel://127.0.0.1:{first}?sentinelServiceName={}",
            self.name
        );
        for port in ports {
            url.push_str(&format!("&node=127.0.0.1:{port}"));
        }
        url
    }

    /// The service name the sentinels monitor.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ports of the sentinels.
    pub fn sentinel_ports(&self) -> Vec<u16> {
        self.sentinels.iter().map(|(port, _)| *port).collect()
    }

    /// The data servers, the first being the master at the start.
    pub fn servers(&self) -> &[RedisFixture] {
        &self.servers
    }

    /// The server at `port`, if it is one of the set's.
    pub fn server(&self, port: u16) -> Option<&RedisFixture> {
        self.servers.iter().find(|s| s.port() == port)
    }

    /// The master's port as the first sentinel that answers reports it
    /// (`SENTINEL get-master-addr-by-name`); `None` if none answers.
    pub async fn master_port(&self) -> Option<u16> {
        for (port, _) in &self.sentinels {
            let reply = sentinel_command(
                *port,
                &["SENTINEL", "get-master-addr-by-name", self.name.as_str()],
            )
            .await;
            if let Ok(RespValue::Array(parts)) = reply
                && let Some(port) = parts.get(1).and_then(RespValue::as_str)
                && let Ok(port) = port.parse()
            {
                return Some(port);
            }
        }
        None
    }

    /// Whether every sentinel reports `port` as the master.
    pub async fn all_agree_on(&self, port: u16) -> bool {
        for (sentinel, _) in &self.sentinels {
            let reply = sentinel_command(
                *sentinel,
                &["SENTINEL", "get-master-addr-by-name", self.name.as_str()],
            )
            .await;
            let reported = match reply {
                Ok(RespValue::Array(parts)) => parts
                    .get(1)
                    .and_then(RespValue::as_str)
                    .and_then(|p| p.parse::<u16>().ok()),
                _ => None,
            };
            if reported != Some(port) {
                return false;
            }
        }
        true
    }

    /// Kills (SIGKILL) the server at `port`; it stays down.
    ///
    /// # Panics
    ///
    /// When `port` is not one of the set's servers.
    pub fn kill_server(&mut self, port: u16) {
        match self.servers.iter_mut().find(|s| s.port() == port) {
            Some(server) => server.kill(),
            None => panic!("no server of the sentinel set on port {port}"),
        }
    }

    /// The logs of the sentinels, one after the other.
    pub fn sentinel_logs(&self) -> String {
        self.sentinels
            .iter()
            .map(|(port, p)| format!("--- sentinel :{port}\n{}", p.log_tail(60)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn wait_sentinels_up(&self) {
        for (port, process) in &self.sentinels {
            let mut poller = Poller::new(REDIS_START_TIMEOUT, Duration::from_millis(25));
            loop {
                let ping = async {
                    match sentinel_command(*port, &["PING"]).await {
                        Ok(RespValue::Simple(pong)) if pong == "PONG" => Ok(()),
                        Ok(other) => Err(format!("PING answered {other:?}")),
                        Err(e) => Err(format!("PING failed: {e}")),
                    }
                };
                if poller.attempt(ping).await.is_some() {
                    break;
                }
                poller.check_deadline(&format!(
                    "sentinel :{port} answering PING\n{}",
                    process.log_tail(40)
                ));
                poller.pause().await;
            }
        }
    }

    /// Waits until every sentinel sees the others and `replicas` replicas,
    /// and the master has them all online.
    async fn wait_ready(&self, replicas: usize) {
        let mut poller = Poller::new(SENTINEL_READY_TIMEOUT, Duration::from_millis(100));
        loop {
            if poller.attempt(self.readiness(replicas)).await.is_some() {
                return;
            }
            poller.check_deadline(&format!(
                "the sentinel set ready for a failover\n{}",
                self.sentinel_logs()
            ));
            poller.pause().await;
        }
    }

    /// `Ok` when ready, else what is missing.
    async fn readiness(&self, replicas: usize) -> Result<(), String> {
        for (port, _) in &self.sentinels {
            let reply = sentinel_command(*port, &["SENTINEL", "master", self.name.as_str()])
                .await
                .map_err(|e| format!("sentinel :{port}: {e}"))?;
            let fields = pairs(&reply);
            let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            let others = field("num-other-sentinels").map(String::as_str);
            let slaves = field("num-slaves").map(String::as_str);
            let flags = field("flags").map(String::as_str);
            if others != Some(&(SENTINELS - 1).to_string())
                || slaves != Some(&replicas.to_string())
                || flags != Some("master")
            {
                return Err(format!(
                    "sentinel :{port}: other sentinels {others:?}, replicas {slaves:?}, flags {flags:?}"
                ));
            }
        }
        let master = self.servers.first().ok_or("no master")?;
        let info = master
            .try_command(&["INFO", "replication"])
            .await
            .map_err(|e| format!("master INFO: {e}"))?;
        let info = info.as_str().unwrap_or_default().to_owned();
        let online = info.matches("state=online").count();
        if online < replicas {
            return Err(format!("{online} of {replicas} replicas online"));
        }
        Ok(())
    }
}

/// One command to the sentinel on `port`.
async fn sentinel_command(port: u16, args: &[&str]) -> std::io::Result<RespValue> {
    resp::command(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), args).await
}

/// A flat `[k1, v1, k2, v2, ...]` reply as pairs of strings.
fn pairs(reply: &RespValue) -> Vec<(String, String)> {
    let Some(items) = reply.as_array() else {
        return Vec::new();
    };
    items
        .chunks(2)
        .filter_map(|kv| match kv {
            [k, v] => Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())),
            _ => None,
        })
        .collect()
}

/// Writes the sentinel's config file (it rewrites it as it learns) and
/// starts it.
fn start_sentinel(dir: &TempDir, index: usize, name: &str, master_port: u16) -> (u16, Supervised) {
    let port = free_port();
    let conf = dir.path().join(format!("sentinel-{index}.conf"));
    let text = format!(
        "port {port}\n\
         bind 127.0.0.1\n\
         daemonize no\n\
         dir {dir}\n\
         sentinel monitor {name} 127.0.0.1 {master_port} 2\n\
         sentinel down-after-milliseconds {name} {down}\n\
         sentinel failover-timeout {name} {failover}\n\
         sentinel parallel-syncs {name} 1\n",
        dir = dir.path().display(),
        down = DOWN_AFTER.as_millis(),
        failover = FAILOVER_TIMEOUT.as_millis(),
    );
    std::fs::write(&conf, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", conf.display()));
    let spec = CommandSpec {
        program: "redis-server".into(),
        args: vec![conf.into_os_string(), OsString::from("--sentinel")],
        envs: Vec::new(),
        env_remove: Vec::new(),
        stdout: dir.path().join(format!("sentinel-{port}.log")),
        stderr: dir.path().join(format!("sentinel-{port}.err.log")),
    };
    let mut process = Supervised::new(format!("redis-sentinel :{port}"), spec, 40);
    if let Err(e) = process.launch() {
        if e.kind() == std::io::ErrorKind::NotFound {
            panic!(
                "redis-server not found: install it with `apt-get install -y redis-server` (scripts/test.sh does this)"
            );
        }
        panic!("cannot start redis-server --sentinel: {e}");
    }
    (port, process)
}

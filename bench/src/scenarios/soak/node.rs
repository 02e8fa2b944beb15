//! [`Node`]: one `fleetd` of the soak, restartable on the same
//! `--data-dir` and socket after a SIGKILL, with what `/proc` says about
//! its memory and open files.

use crate::client;
use crate::process::{Proc, rss_of};
use anyhow::{Context as _, bail};
use hyper::{Method, StatusCode};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

/// How long a (re)started daemon may take to answer `/v1/health`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Resources of a process at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Resident set size, bytes.
    pub rss: u64,
    /// Open file descriptors.
    pub fds: usize,
}

/// A restartable `fleetd`.
pub struct Node {
    /// Its computer name.
    pub name: String,
    fleetd: PathBuf,
    redis: String,
    proc: Option<Proc>,
    launches: u32,
    socket: PathBuf,
    dir: TempDir,
}

impl Node {
    /// Starts `fleetd` as `name` on `redis` and waits for health.
    ///
    /// # Errors
    /// When it does not come up.
    pub async fn start(fleetd: &Path, name: &str, redis: &str) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fcs")
            .tempdir_in("/tmp")
            .context("create a temp dir in /tmp")?;
        let mut node = Self {
            name: name.to_owned(),
            fleetd: fleetd.to_owned(),
            redis: redis.to_owned(),
            proc: None,
            launches: 0,
            socket: dir.path().join("fleetd.sock"),
            dir,
        };
        node.launch().await?;
        Ok(node)
    }

    /// Its Unix socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// How many times it was started.
    pub fn launches(&self) -> u32 {
        self.launches
    }

    /// SIGKILL, then a start on the same data dir; waits for health.
    ///
    /// # Errors
    /// When it does not come back.
    pub async fn kill_and_restart(&mut self) -> anyhow::Result<()> {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
        self.launch().await
    }

    /// RSS and open files now.
    ///
    /// # Errors
    /// When it is not running or `/proc` cannot be read.
    pub fn usage(&self) -> anyhow::Result<Usage> {
        let pid = self
            .proc
            .as_ref()
            .and_then(Proc::pid)
            .with_context(|| format!("{} is not running", self.name))?;
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .with_context(|| format!("list /proc/{pid}/fd"))?
            .count();
        Ok(Usage {
            rss: rss_of(pid)?,
            fds,
        })
    }

    /// Stops it with SIGTERM (SIGKILL after 10 s).
    pub async fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.terminate(Duration::from_secs(10)).await;
        }
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        self.launches += 1;
        let args: Vec<OsString> = vec![
            "--computer".into(),
            self.name.clone().into(),
            "--socket".into(),
            self.socket.clone().into(),
            "--data-dir".into(),
            self.dir.path().join("data").into(),
            "--redis".into(),
            self.redis.clone().into(),
        ];
        let envs = [
            (
                "XDG_RUNTIME_DIR",
                self.dir.path().join("run").into_os_string(),
            ),
            (
                "XDG_DATA_HOME",
                self.dir.path().join("xdg-data").into_os_string(),
            ),
            (
                "XDG_CONFIG_HOME",
                self.dir.path().join("xdg-config").into_os_string(),
            ),
            ("RUST_LOG", OsString::from("info")),
        ];
        let mut proc = Proc::spawn(
            format!("fleetd {}", self.name),
            &self.fleetd,
            &args,
            &envs,
            &self.dir,
            &format!("fleetd-{}.log", self.launches),
        )?;
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = proc.exited() {
                bail!("{} exited ({status})\n{}", self.name, proc.log_tail(30));
            }
            if let Ok((StatusCode::OK, _)) =
                client::once(&self.socket, Method::GET, "/v1/health", None).await
            {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "{} did not answer /v1/health within {START_TIMEOUT:?}\n{}",
                    self.name,
                    proc.log_tail(30)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.proc = Some(proc);
        Ok(())
    }
}

//! [`Daemon`]: one real `fleetd` process with its own socket, data dir and
//! log in a short temp dir under `/tmp`, killed on drop; and where the
//! `fleetd` binary is ([`fleetd_path`]).

use crate::client;
use crate::process::Proc;
use anyhow::{Context as _, bail};
use hyper::{Method, StatusCode};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

/// How long a daemon may take to answer `/v1/health` with 200.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The command line of one daemon.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// `--computer`.
    pub computer: String,
    /// `--redis`, absent for a standalone daemon.
    pub redis: Option<String>,
    /// `--heartbeat` in milliseconds; the daemon's default (2000) when absent.
    pub heartbeat_ms: Option<u64>,
    /// `--allow-remote-writes`.
    pub allow_remote_writes: bool,
}

impl DaemonOptions {
    /// A daemon named `computer` on the Redis at `url`.
    pub fn fleet(computer: impl Into<String>, url: &str) -> Self {
        Self {
            computer: computer.into(),
            redis: Some(url.to_owned()),
            heartbeat_ms: None,
            allow_remote_writes: false,
        }
    }
}

/// A running `fleetd`.
#[derive(Debug)]
pub struct Daemon {
    proc: Proc,
    computer: String,
    socket: PathBuf,
    // Last: removed after the process is killed.
    _dir: TempDir,
}

impl Daemon {
    /// Starts `fleetd` without waiting for it (see [`Daemon::wait_healthy`]).
    ///
    /// # Errors
    /// When the temp dir or the process cannot be created.
    pub fn spawn(fleetd: &Path, opts: &DaemonOptions) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fcb")
            .tempdir_in("/tmp")
            .context("create a temp dir in /tmp")?;
        let socket = dir.path().join("fleetd.sock");
        let mut args: Vec<OsString> = Vec::new();
        let mut flag = |name: &str, value: OsString| {
            args.push(name.into());
            args.push(value);
        };
        flag("--computer", opts.computer.clone().into());
        flag("--socket", socket.clone().into());
        flag("--data-dir", dir.path().join("data").into());
        if let Some(url) = &opts.redis {
            flag("--redis", url.into());
        }
        if let Some(ms) = opts.heartbeat_ms {
            flag("--heartbeat", ms.to_string().into());
        }
        if opts.allow_remote_writes {
            args.push("--allow-remote-writes".into());
        }
        let envs = [
            ("XDG_RUNTIME_DIR", dir.path().join("run").into_os_string()),
            (
                "XDG_DATA_HOME",
                dir.path().join("xdg-data").into_os_string(),
            ),
            (
                "XDG_CONFIG_HOME",
                dir.path().join("xdg-config").into_os_string(),
            ),
            // The daemon's default level, whatever the bench runs with.
            ("RUST_LOG", OsString::from("info")),
        ];
        let proc = Proc::spawn(
            format!("fleetd {}", opts.computer),
            fleetd,
            &args,
            &envs,
            &dir,
            "fleetd.log",
        )?;
        Ok(Self {
            proc,
            computer: opts.computer.clone(),
            socket,
            _dir: dir,
        })
    }

    /// Starts `fleetd` and waits until `/v1/health` answers 200.
    ///
    /// # Errors
    /// As [`Daemon::spawn`] and [`Daemon::wait_healthy`].
    pub async fn start(fleetd: &Path, opts: &DaemonOptions) -> anyhow::Result<Self> {
        let mut daemon = Self::spawn(fleetd, opts)?;
        daemon.wait_healthy(START_TIMEOUT).await?;
        Ok(daemon)
    }

    /// Polls `GET /v1/health` (every 200 µs: this is also how start time is
    /// measured) until it answers 200.
    ///
    /// # Errors
    /// When the process exits first or `timeout` passes; with its log tail.
    pub async fn wait_healthy(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.proc.exited() {
                bail!(
                    "{} exited ({status}) before /v1/health answered\n{}",
                    self.proc.label(),
                    self.proc.log_tail(30)
                );
            }
            let last = match client::once(&self.socket, Method::GET, "/v1/health", None).await {
                Ok((StatusCode::OK, _)) => return Ok(()),
                Ok((status, body)) => format!("{status}: {}", String::from_utf8_lossy(&body)),
                Err(e) => format!("{e:#}"),
            };
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "{} did not answer /v1/health within {timeout:?}; last: {last}\n{}",
                    self.proc.label(),
                    self.proc.log_tail(30)
                );
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// The Unix socket of its REST and WebSocket API.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Its computer name.
    pub fn computer(&self) -> &str {
        &self.computer
    }

    /// The process (pid, RSS, CPU time, log).
    pub fn process(&self) -> &Proc {
        &self.proc
    }

    /// Stops it with SIGTERM (SIGKILL after 10 s).
    pub async fn stop(mut self) {
        self.proc.terminate(Duration::from_secs(10)).await;
    }
}

/// The `fleetd` to measure: `$FLEETD_BIN` if set, else `fleetd` beside the
/// bench's own executable (`target/<profile>/`), built with
/// `cargo build -p daemon [--release]` when missing.
///
/// # Errors
/// When it is missing and cannot be built.
pub fn fleetd_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("FLEETD_BIN") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("FLEETD_BIN={} is not a file", path.display());
        }
        return Ok(path);
    }
    let exe = std::env::current_exe().context("find the bench executable")?;
    let mut dir = exe
        .parent()
        .context("the bench executable has no directory")?;
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent().context("no profile directory")?;
    }
    let binary = dir.join("fleetd");
    if binary.is_file() {
        return Ok(binary);
    }
    let profile = dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = std::process::Command::new(&cargo);
    command.args(["build", "-p", "daemon", "--bin", "fleetd"]);
    match profile {
        "debug" => {}
        "release" => {
            command.arg("--release");
        }
        other => {
            command.args(["--profile", other]);
        }
    }
    if let Some(target) = dir.parent() {
        command.arg("--target-dir").arg(target);
    }
    eprintln!(
        "bench: {} is missing, running {command:?}",
        binary.display()
    );
    let status = command.status().context("run cargo to build fleetd")?;
    if !status.success() || !binary.is_file() {
        bail!("building fleetd failed ({status}): run `cargo build -p daemon --release`");
    }
    Ok(binary)
}

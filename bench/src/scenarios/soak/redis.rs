//! [`SoakRedis`]: one `redis-server` that faults can kill, restart (same
//! port, append-only file so the data survives a SIGKILL), restart empty,
//! and freeze (SIGSTOP/SIGCONT).

use crate::ports::free_port;
use crate::process::Proc;
use anyhow::{Context as _, bail};
use rustix::process::{Pid, Signal, kill_process};
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long `redis-server` may take to answer `PING` after a (re)start.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A restartable, persistent `redis-server`.
pub struct SoakRedis {
    proc: Option<Proc>,
    port: u16,
    launches: u32,
    dir: TempDir,
}

impl SoakRedis {
    /// Starts it on a free port and waits for `PING`.
    ///
    /// # Errors
    /// When `redis-server` is missing or does not come up.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fc-soak-redis")
            .tempdir()
            .context("create a temp dir for redis-server")?;
        let mut redis = Self {
            proc: None,
            port: free_port()?,
            launches: 0,
            dir,
        };
        redis.launch().await?;
        Ok(redis)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL (data written so far is in the append-only file).
    pub fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    /// Starts it again on the same port, with what its files hold.
    ///
    /// # Errors
    /// When it does not come back.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.launch().await
    }

    /// Kills it, deletes its data, and starts it again empty.
    ///
    /// # Errors
    /// When the files cannot be removed or it does not come back.
    pub async fn restart_empty(&mut self) -> anyhow::Result<()> {
        self.kill();
        for name in ["appendonlydir", "dump.rdb"] {
            let path = self.dir.path().join(name);
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match removed {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("remove {}", path.display())),
            }
        }
        self.launch().await
    }

    /// Freezes (`true`: SIGSTOP) or thaws (`false`: SIGCONT) the server.
    ///
    /// # Errors
    /// When it is not running or the signal fails.
    pub fn freeze(&self, frozen: bool) -> anyhow::Result<()> {
        let pid = self
            .proc
            .as_ref()
            .and_then(Proc::pid)
            .context("redis-server is not running")?;
        let pid =
            Pid::from_raw(i32::try_from(pid).context("pid out of range")?).context("pid 0")?;
        let signal = if frozen { Signal::STOP } else { Signal::CONT };
        kill_process(pid, signal).with_context(|| format!("send {signal:?} to redis-server"))
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        self.launches += 1;
        let port = self.port.to_string();
        let dir = self.dir.path().to_string_lossy().into_owned();
        let args: Vec<OsString> = [
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "no",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            &dir,
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let mut proc = Proc::spawn(
            format!("redis-server :{port}"),
            Path::new("redis-server"),
            &args,
            &[],
            &self.dir,
            &format!("redis-{}.log", self.launches),
        )
        .context("redis-server is needed: install it with `apt-get install -y redis-server`")?;
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = proc.exited() {
                bail!("redis-server exited ({status})\n{}", proc.log_tail(20));
            }
            if ping(self.port).await.unwrap_or(false) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "redis-server: no PONG within {START_TIMEOUT:?}\n{}",
                    proc.log_tail(20)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.proc = Some(proc);
        Ok(())
    }
}

impl Drop for SoakRedis {
    fn drop(&mut self) {
        // A frozen server would ignore nothing but SIGKILL anyway; thaw it
        // first so that it dies cleanly.
        let _ = self.freeze(false);
        self.kill();
    }
}

async fn ping(port: u16) -> anyhow::Result<bool> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(b"PING\r\n").await?;
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await??;
    // `-LOADING` while it replays its append-only file: not ready yet.
    Ok(buf[..n].starts_with(b"+PONG"))
}

//! [`RedisServer`]: a throwaway `redis-server` on a free loopback port,
//! keeping nothing on disk, killed on drop.

use crate::ports::free_port;
use crate::process::Proc;
use anyhow::{Context as _, bail};
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long `redis-server` may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running `redis-server` owned by the bench.
#[derive(Debug)]
pub struct RedisServer {
    proc: Proc,
    port: u16,
    // Last: removed after the process is killed.
    _dir: TempDir,
}

impl RedisServer {
    /// Starts `redis-server` (no persistence) on a free port and waits for
    /// `PING`; retries with another port if the chosen one was taken.
    ///
    /// # Errors
    /// When `redis-server` is not installed (with how to install it) or does
    /// not come up.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("fc-bench-redis")
            .tempdir()
            .context("create a temp dir for redis-server")?;
        let mut last_error = None;
        for attempt in 0..3 {
            let port = free_port()?;
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
                "--dir",
                &dir.path().to_string_lossy(),
            ]
            .iter()
            .map(OsString::from)
            .collect();
            let mut proc = Proc::spawn(
                format!("redis-server :{port}"),
                Path::new("redis-server"),
                &args,
                &[],
                &dir,
                &format!("redis-{attempt}.log"),
            )
            .context(
                "redis-server is needed: install it with `apt-get install -y redis-server` \
                 (scripts/test.sh does this)",
            )?;
            match wait_ready(&mut proc, port).await {
                Ok(()) => {
                    return Ok(Self {
                        proc,
                        port,
                        _dir: dir,
                    });
                }
                Err(e) => last_error = Some(format!("{e:#}\n{}", proc.log_tail(20))),
            }
        }
        bail!(
            "redis-server did not start: {}",
            last_error.unwrap_or_default()
        )
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's process (for its CPU time).
    pub fn process(&self) -> &Proc {
        &self.proc
    }
}

async fn wait_ready(proc: &mut Proc, port: u16) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = proc.exited() {
            bail!("redis-server exited ({status})");
        }
        if ping(port).await.unwrap_or(false) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("no PONG within {START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn ping(port: u16) -> anyhow::Result<bool> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(b"PING\r\n").await?;
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await??;
    Ok(buf[..n].starts_with(b"+PONG"))
}

//! `RedisFixture`: a throwaway `redis-server` on a free loopback port, killed on drop.
//!
//! By default it keeps nothing (`--save "" --appendonly no`), so a restart comes back
//! empty; `persistent(true)` writes an append-only file with `fsync` at every write in the
//! fixture's own directory, so even a SIGKILL keeps the data for the restart.

use std::ffi::OsString;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tempfile::TempDir;
use tokio::time::Instant;

use crate::ports::free_port;
use crate::process::{CommandSpec, Supervised};
use crate::resp::{self, RespValue};

/// How long `redis-server` may take to answer `PING` after a (re)start.
pub const REDIS_START_TIMEOUT: Duration = Duration::from_secs(15);

const NOT_INSTALLED: &str = "redis-server not found: install it with `apt-get install -y redis-server` (scripts/test.sh does this)";

/// Options of a [`RedisFixture`]; start with [`RedisBuilder::start`].
#[derive(Debug, Clone, Default)]
pub struct RedisBuilder {
    persistent: bool,
    args: Vec<String>,
}

impl RedisBuilder {
    /// Keep data across [`RedisFixture::kill`] + [`RedisFixture::restart_same_port`]
    /// (append-only file, fsync always). Default: false, a restart is empty.
    pub fn persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    /// An extra `redis-server` argument, e.g. `.arg("--maxmemory").arg("10mb")`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Starts `redis-server` and waits until it answers `PING`.
    ///
    /// # Panics
    ///
    /// When `redis-server` is not installed (with the install command), or it does not
    /// come up; the message holds its log.
    pub async fn start(self) -> RedisFixture {
        let dir = tempfile::Builder::new()
            .prefix("fc-redis")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for Redis: {e}"));
        let port = free_port();
        let mut fixture = RedisFixture {
            process: supervised(&self, &dir, port),
            port,
            dir,
        };
        // Another process may take the free port before redis-server binds it: retry.
        let mut failures = Vec::new();
        for _ in 0..3 {
            fixture.launch();
            match fixture.wait_ready().await {
                Ok(()) => return fixture,
                Err(e) if fixture.process.logs().contains("Address already in use") => {
                    failures.push(format!("port {}: {e}", fixture.port));
                    fixture.port = free_port();
                    // Replacing the process kills the old one (if still running).
                    fixture.process = supervised(&self, &fixture.dir, fixture.port);
                }
                Err(e) => panic!(
                    "redis-server did not start: {e}\n{}",
                    fixture.process.log_tail(40)
                ),
            }
        }
        panic!(
            "redis-server could not bind a free port: {}",
            failures.join("; ")
        )
    }
}

/// A running `redis-server` owned by a test. Dropping it kills the server.
#[derive(Debug)]
pub struct RedisFixture {
    process: Supervised,
    port: u16,
    dir: TempDir,
}

impl RedisFixture {
    /// Options: [`RedisBuilder::persistent`], [`RedisBuilder::arg`].
    pub fn builder() -> RedisBuilder {
        RedisBuilder::default()
    }

    /// Starts a non-persistent server (see [`RedisBuilder::start`]).
    ///
    /// # Panics
    ///
    /// As [`RedisBuilder::start`].
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// `redis://127.0.0.1:<port>`, for the daemon's `--redis`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Runs one command and returns its reply (error replies included).
    ///
    /// # Panics
    ///
    /// When the exchange fails (e.g. the server is down); see [`RedisFixture::try_command`].
    pub async fn command<S: AsRef<[u8]>>(&self, args: &[S]) -> RespValue {
        self.try_command(args).await.unwrap_or_else(|e| {
            let shown: Vec<_> = args
                .iter()
                .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
                .collect();
            panic!(
                "Redis command {shown:?} on port {} failed: {e}\n{}",
                self.port,
                self.process.log_tail(20)
            )
        })
    }

    /// As [`RedisFixture::command`], returning transport failures.
    ///
    /// # Errors
    ///
    /// When connecting, writing or reading fails or the reply is not RESP.
    pub async fn try_command<S: AsRef<[u8]>>(&self, args: &[S]) -> io::Result<RespValue> {
        resp::command(self.addr(), args).await
    }

    /// Kills the server (SIGKILL) and waits for it to be gone. Its port stays reserved
    /// for [`RedisFixture::restart_same_port`].
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing is
    /// answered, as in a stall of the host or a long fork.
    ///
    /// # Panics
    ///
    /// When the signal cannot be sent.
    pub fn pause(&self) {
        if let Err(e) = self.process.signal(rustix::process::Signal::STOP) {
            panic!("cannot SIGSTOP redis-server: {e}");
        }
    }

    /// Lets a paused server go on (SIGCONT).
    ///
    /// # Panics
    ///
    /// When the signal cannot be sent.
    pub fn resume(&self) {
        if let Err(e) = self.process.signal(rustix::process::Signal::CONT) {
            panic!("cannot SIGCONT redis-server: {e}");
        }
    }

    /// Whether the server process is running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Starts the server again on the same port (killing it first if it runs) and waits for
    /// `PING`. Data survives only with [`RedisBuilder::persistent`].
    ///
    /// # Panics
    ///
    /// When it does not come back within [`REDIS_START_TIMEOUT`].
    pub async fn restart_same_port(&mut self) {
        self.launch();
        if let Err(e) = self.wait_ready().await {
            panic!(
                "redis-server did not restart on port {}: {e}\n{}",
                self.port,
                self.process.log_tail(40)
            );
        }
    }

    /// The server's log.
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    fn launch(&mut self) {
        if let Err(e) = self.process.launch() {
            if e.kind() == io::ErrorKind::NotFound {
                panic!("{NOT_INSTALLED}");
            }
            panic!("cannot start redis-server: {e}");
        }
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + REDIS_START_TIMEOUT;
        let mut last = String::from("no attempt yet");
        loop {
            if let Some(status) = self.process.exit_status() {
                return Err(format!("redis-server exited ({status}); last: {last}"));
            }
            match self.try_command(&["PING"]).await {
                Ok(RespValue::Simple(pong)) if pong == "PONG" => return Ok(()),
                Ok(other) => last = format!("PING answered {other:?}"),
                Err(e) => last = format!("PING failed: {e}"),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "no PONG within {REDIS_START_TIMEOUT:?}; last: {last}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(25).min(deadline - now)).await;
        }
    }
}

fn supervised(builder: &RedisBuilder, dir: &TempDir, port: u16) -> Supervised {
    Supervised::new(
        format!("redis-server :{port}"),
        spec(builder, dir, port),
        40,
    )
}

fn spec(builder: &RedisBuilder, dir: &TempDir, port: u16) -> CommandSpec {
    let mut args: Vec<OsString> = [
        "--port".to_owned(),
        port.to_string(),
        "--bind".to_owned(),
        "127.0.0.1".to_owned(),
        "--daemonize".to_owned(),
        "no".to_owned(),
        "--save".to_owned(),
        String::new(),
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    args.push("--dir".into());
    args.push(dir.path().into());
    if builder.persistent {
        for arg in ["--appendonly", "yes", "--appendfsync", "always"] {
            args.push(arg.into());
        }
    } else {
        args.push("--appendonly".into());
        args.push("no".into());
    }
    args.extend(builder.args.iter().map(OsString::from));
    CommandSpec {
        program: "redis-server".into(),
        args,
        envs: Vec::new(),
        env_remove: Vec::new(),
        stdout: dir.path().join(format!("redis-{port}.log")),
        stderr: dir.path().join(format!("redis-{port}.err.log")),
    }
}

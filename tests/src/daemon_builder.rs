//! `DaemonBuilder`: the command line and environment of a `fleetd` under test.
//!
//! Every option maps to one flag of PROTOCOL.md section 1. The fixture always passes
//! `--socket` (in its own short temp dir) and `--data-dir` (its own temp dir unless set),
//! and a unique `--computer` (`node1`, `node2`, ... within a test process) unless one is set
//! or [`DaemonBuilder::host_name_default`] is used.

use std::ffi::OsString;
use std::fmt::Display;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::daemon::DaemonFixture;

/// How long a started daemon may take to answer `GET /v1/health` with 200.
pub const DAEMON_START_TIMEOUT: Duration = Duration::from_secs(15);

static NEXT_NODE: AtomicU32 = AtomicU32::new(1);

/// Options of a [`DaemonFixture`]; get one with [`DaemonFixture::builder`].
#[derive(Debug, Clone)]
pub struct DaemonBuilder {
    pub(crate) computer: Option<String>,
    pub(crate) host_name_default: bool,
    pub(crate) projects: Vec<PathBuf>,
    pub(crate) projects_roots: Vec<PathBuf>,
    pub(crate) redis: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) http: Option<String>,
    pub(crate) token_file: Option<PathBuf>,
    pub(crate) secret_file: Option<PathBuf>,
    pub(crate) heartbeat_ms: Option<u64>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) args: Vec<OsString>,
    pub(crate) envs: Vec<(OsString, OsString)>,
    pub(crate) start_timeout: Duration,
}

impl Default for DaemonBuilder {
    fn default() -> Self {
        Self {
            computer: None,
            host_name_default: false,
            projects: Vec::new(),
            projects_roots: Vec::new(),
            redis: None,
            namespace: None,
            http: None,
            token_file: None,
            secret_file: None,
            heartbeat_ms: None,
            data_dir: None,
            args: Vec::new(),
            envs: Vec::new(),
            start_timeout: DAEMON_START_TIMEOUT,
        }
    }
}

impl DaemonBuilder {
    /// `--computer NAME`. Default: a name unique in this test process (`node<N>`).
    pub fn computer(mut self, name: impl Into<String>) -> Self {
        self.computer = Some(name.into());
        self
    }

    /// Passes no `--computer`, so the daemon uses the host name;
    /// [`DaemonFixture::computer`] then reports what `/v1/health` says.
    pub fn host_name_default(mut self) -> Self {
        self.host_name_default = true;
        self.computer = None;
        self
    }

    /// `--project PATH` (repeatable).
    pub fn project(mut self, path: impl Into<PathBuf>) -> Self {
        self.projects.push(path.into());
        self
    }

    /// `--projects-root PATH` (repeatable).
    pub fn projects_root(mut self, path: impl Into<PathBuf>) -> Self {
        self.projects_roots.push(path.into());
        self
    }

    /// `--redis URL`, e.g. [`RedisFixture::url`](crate::RedisFixture::url). Default:
    /// standalone.
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.redis = Some(url.into());
        self
    }

    /// `--namespace NS`.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// `--http ADDR`, e.g. [`free_addr()`](crate::free_addr).
    pub fn http(mut self, addr: impl Display) -> Self {
        self.http = Some(addr.to_string());
        self
    }

    /// `--token-file PATH`.
    pub fn token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token_file = Some(path.into());
        self
    }

    /// `--secret-file PATH`.
    pub fn secret_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.secret_file = Some(path.into());
        self
    }

    /// `--heartbeat MS`.
    pub fn heartbeat_ms(mut self, ms: u64) -> Self {
        self.heartbeat_ms = Some(ms);
        self
    }

    /// `--data-dir PATH`. Default: a directory inside the fixture's temp dir, kept across
    /// [`DaemonFixture::restart`].
    pub fn data_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(path.into());
        self
    }

    /// Any extra argument, appended after the ones above.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// An environment variable of the daemon. Inherited `FLEET_*` variables are removed,
    /// `RUST_LOG` defaults to `info`, and `XDG_RUNTIME_DIR`, `XDG_DATA_HOME` and
    /// `XDG_CONFIG_HOME` point into the fixture's temp dir; this overrides any of them.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Patience for `/v1/health` at start and restart. Default: [`DAEMON_START_TIMEOUT`].
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Starts `fleetd` and waits until `GET /v1/health` answers 200.
    ///
    /// # Panics
    ///
    /// When the binary cannot be found or built, the process exits, or health does not
    /// answer within the start timeout; the message holds the daemon's log.
    pub async fn start(self) -> DaemonFixture {
        let mut fixture = DaemonFixture::launch(self);
        fixture.wait_healthy().await;
        fixture
    }

    /// Starts `fleetd` without waiting for health: for tests of refused configurations
    /// (then [`DaemonFixture::wait_for_exit`]).
    ///
    /// # Panics
    ///
    /// When the binary cannot be found or built or the process cannot be spawned.
    pub fn spawn(self) -> DaemonFixture {
        DaemonFixture::launch(self)
    }

    /// The computer name to pass, generating one if none was set.
    pub(crate) fn resolve_computer(&mut self) -> Option<String> {
        if self.host_name_default {
            return None;
        }
        let name = self
            .computer
            .get_or_insert_with(|| format!("node{}", NEXT_NODE.fetch_add(1, Ordering::Relaxed)));
        Some(name.clone())
    }
}

//! `DaemonFixture`: one real `fleetd` process with its own socket, data and logs.
//!
//! Everything lives in a temp dir under `/tmp` with a short name (Unix socket paths are
//! limited to about 108 bytes): `fleetd.sock`, `data/` (unless the builder sets a data
//! dir), `fleetd.stderr.log` and `fleetd.stdout.log`. Dropping the fixture kills the
//! process (SIGKILL) and removes the dir; a failing test prints the log tail.

use std::ffi::OsString;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use rustix::process::Signal;
use serde_json::Value;
use tempfile::TempDir;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;

use crate::binary::fleetd_path;
use crate::daemon_builder::DaemonBuilder;
use crate::http::{RawResponse, body_json, try_request_unix};
use crate::process::{CommandSpec, Supervised};
use crate::ws::WsClient;

/// How long [`DaemonFixture::terminate`] waits for the process to exit after SIGTERM.
pub const TERMINATE_TIMEOUT: Duration = Duration::from_secs(15);

/// Lines of each log shown in failure messages.
const TAIL: usize = 60;

/// A running `fleetd` owned by a test; see the module docs for its files.
#[derive(Debug)]
pub struct DaemonFixture {
    process: Supervised,
    computer: String,
    socket: PathBuf,
    data_dir: PathBuf,
    http: Option<String>,
    start_timeout: Duration,
    // Last: removed after `process` is killed.
    dir: TempDir,
}

impl DaemonFixture {
    /// Options, then `.start().await`.
    pub fn builder() -> DaemonBuilder {
        DaemonBuilder::default()
    }

    pub(crate) fn launch(mut builder: DaemonBuilder) -> Self {
        let program = fleetd_path();
        let dir = tempfile::Builder::new()
            .prefix("fc")
            .tempdir_in("/tmp")
            .unwrap_or_else(|e| panic!("cannot create a temp dir in /tmp: {e}"));
        let socket = dir.path().join("fleetd.sock");
        let data_dir = builder
            .data_dir
            .clone()
            .unwrap_or_else(|| dir.path().join("data"));
        let computer = builder.resolve_computer();

        let mut args: Vec<OsString> = Vec::new();
        let mut flag = |name: &str, value: OsString| {
            args.push(name.into());
            args.push(value);
        };
        if let Some(name) = &computer {
            flag("--computer", name.into());
        }
        flag("--socket", socket.clone().into());
        flag("--data-dir", data_dir.clone().into());
        if let Some(url) = &builder.redis {
            flag("--redis", url.into());
        }
        if let Some(ns) = &builder.namespace {
            flag("--namespace", ns.into());
        }
        if let Some(addr) = &builder.http {
            flag("--http", addr.into());
        }
        if let Some(path) = &builder.token_file {
            flag("--token-file", path.into());
        }
        if let Some(path) = &builder.secret_file {
            flag("--secret-file", path.into());
        }
        if let Some(ms) = builder.heartbeat_ms {
            flag("--heartbeat", ms.to_string().into());
        }
        for path in &builder.projects {
            flag("--project", path.into());
        }
        for path in &builder.projects_roots {
            flag("--projects-root", path.into());
        }
        args.extend(builder.args.iter().cloned());

        let env_remove = std::env::vars_os()
            .map(|(key, _)| key)
            .filter(|key| key.to_string_lossy().starts_with("FLEET_"))
            .collect();
        let mut envs: Vec<(OsString, OsString)> = vec![
            ("XDG_RUNTIME_DIR".into(), dir.path().join("xdg-run").into()),
            ("XDG_DATA_HOME".into(), dir.path().join("xdg-data").into()),
            (
                "XDG_CONFIG_HOME".into(),
                dir.path().join("xdg-config").into(),
            ),
            (
                "RUST_LOG".into(),
                std::env::var_os("RUST_LOG").unwrap_or_else(|| "info".into()),
            ),
        ];
        envs.extend(builder.envs.iter().cloned());

        let spec = CommandSpec {
            program,
            args,
            envs,
            env_remove,
            stdout: dir.path().join("fleetd.stdout.log"),
            stderr: dir.path().join("fleetd.stderr.log"),
        };
        let label = format!("fleetd {}", computer.as_deref().unwrap_or("(host name)"));
        let mut process = Supervised::new(label, spec, TAIL);
        if let Err(e) = process.launch() {
            panic!("cannot start fleetd: {e}");
        }
        Self {
            process,
            computer: computer.unwrap_or_default(),
            socket,
            data_dir,
            http: builder.http,
            start_timeout: builder.start_timeout,
            dir,
        }
    }

    /// The Unix socket the daemon serves REST and WebSocket on.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// This daemon's computer name (empty for a host-name daemon until it answered health).
    pub fn computer(&self) -> &str {
        &self.computer
    }

    /// The `--data-dir` in use.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The fixture's temp dir (socket, logs, default data dir); a place for test files too.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `--http` address, if one was set.
    pub fn http_addr(&self) -> Option<&str> {
        self.http.as_deref()
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Polls `GET /v1/health` until it answers 200 (bounded by the builder's start timeout).
    ///
    /// # Panics
    ///
    /// When the process exits first or the timeout passes; with the log tail.
    pub async fn wait_healthy(&mut self) {
        let deadline = Instant::now() + self.start_timeout;
        let mut last = String::from("no attempt yet");
        loop {
            if let Some(status) = self.process.exit_status() {
                panic!(
                    "{} exited ({status}) before /v1/health answered; last: {last}\n{}",
                    self.process.label(),
                    self.log_tail(TAIL)
                );
            }
            match self
                .try_request(Method::GET, "/v1/health", &[], Bytes::new())
                .await
            {
                Ok((StatusCode::OK, _, body)) => {
                    if self.computer.is_empty()
                        && let Some(name) = body_json(&body)["computer"].as_str()
                    {
                        self.computer = name.to_owned();
                    }
                    return;
                }
                Ok((status, _, body)) => {
                    last = format!("{status}: {}", String::from_utf8_lossy(&body));
                }
                Err(e) => last = format!("{e:#}"),
            }
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "{} did not answer /v1/health with 200 within {:?}; last: {last}\n{}",
                    self.process.label(),
                    self.start_timeout,
                    self.log_tail(TAIL)
                );
            }
            tokio::time::sleep(Duration::from_millis(50).min(deadline - now)).await;
        }
    }

    /// One request over the Unix socket: status, headers, body.
    ///
    /// `method` is a [`Method`] or a string like `"PUT"`; `Host: localhost` is added unless
    /// given in `headers`.
    ///
    /// # Panics
    ///
    /// When the exchange fails (see [`DaemonFixture::try_request`]); with the log tail.
    pub async fn request(
        &self,
        method: impl TryInto<Method, Error: Debug>,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> RawResponse {
        self.try_request(method, path, headers, body)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "request {path} to {} failed: {e:#}\n{}",
                    self.process.label(),
                    self.log_tail(TAIL)
                )
            })
    }

    /// As [`DaemonFixture::request`], returning transport failures (e.g. after a stop).
    ///
    /// # Errors
    ///
    /// When connecting, writing or reading fails or the request timeout passes.
    pub async fn try_request(
        &self,
        method: impl TryInto<Method, Error: Debug>,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> anyhow::Result<RawResponse> {
        try_request_unix(&self.socket, method, path, headers, body).await
    }

    /// `GET path`: status and body as JSON (`Null` if empty, a JSON string if not JSON).
    ///
    /// # Panics
    ///
    /// When the exchange fails.
    pub async fn http_get(&self, path: &str) -> (StatusCode, Value) {
        self.json_exchange(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body; answer as for [`DaemonFixture::http_get`].
    ///
    /// # Panics
    ///
    /// When the exchange fails.
    pub async fn http_post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.json_exchange(Method::POST, path, Some(body)).await
    }

    /// `PATCH path` with a JSON body; answer as for [`DaemonFixture::http_get`].
    ///
    /// # Panics
    ///
    /// When the exchange fails.
    pub async fn http_patch_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.json_exchange(Method::PATCH, path, Some(body)).await
    }

    /// `DELETE path`; answer as for [`DaemonFixture::http_get`].
    ///
    /// # Panics
    ///
    /// When the exchange fails.
    pub async fn http_delete(&self, path: &str) -> (StatusCode, Value) {
        self.json_exchange(Method::DELETE, path, None).await
    }

    /// The body of `GET /v1/health`, asserting 200.
    ///
    /// # Panics
    ///
    /// When the exchange fails or the status is not 200.
    pub async fn health(&self) -> Value {
        let (status, body) = self.http_get("/v1/health").await;
        assert_eq!(status, StatusCode::OK, "GET /v1/health answered {body}");
        body
    }

    /// A WebSocket client connected to `/v1/ws` over the socket.
    ///
    /// # Panics
    ///
    /// When the connection or handshake fails; with the log tail.
    pub async fn ws(&self) -> WsClient {
        self.try_ws().await.unwrap_or_else(|e| {
            panic!(
                "WebSocket connect to {} failed: {e}\n{}",
                self.process.label(),
                self.log_tail(TAIL)
            )
        })
    }

    /// As [`DaemonFixture::ws`], returning the failure.
    ///
    /// # Errors
    ///
    /// When the connection or handshake fails.
    pub async fn try_ws(&self) -> Result<WsClient, tungstenite::Error> {
        WsClient::try_connect_unix(&self.socket).await
    }

    /// SIGKILL, and wait until the process is gone (no graceful stop: the socket file and
    /// the Redis presence stay behind, as after a crash).
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// SIGTERM, then wait (at most [`TERMINATE_TIMEOUT`]) for the exit status.
    ///
    /// # Panics
    ///
    /// When the process is not running, or still runs after the timeout (it is then
    /// killed); with the log tail.
    pub async fn terminate(&mut self) -> ExitStatus {
        if let Err(e) = self.process.signal(Signal::TERM) {
            panic!("cannot send SIGTERM to {}: {e}", self.process.label());
        }
        self.wait_for_exit(TERMINATE_TIMEOUT).await
    }

    /// Waits (bounded) for the process to exit by itself and returns its status.
    ///
    /// # Panics
    ///
    /// When it still runs after `timeout` (it is then killed); with the log tail.
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> ExitStatus {
        match self.process.wait_exit(timeout).await {
            Some(status) => status,
            None => {
                self.process.kill();
                panic!(
                    "{} still ran {timeout:?} later (killed now)\n{}",
                    self.process.label(),
                    self.log_tail(TAIL)
                )
            }
        }
    }

    /// Starts the daemon again with the same arguments, socket and data dir, and waits for
    /// health. A running daemon is first stopped with SIGTERM (use [`DaemonFixture::kill`]
    /// before for a crash-restart).
    ///
    /// # Panics
    ///
    /// As [`DaemonFixture::terminate`] and [`DaemonBuilder::start`].
    pub async fn restart(&mut self) {
        if self.process.is_running() {
            self.terminate().await;
        }
        if let Err(e) = self.process.launch() {
            panic!("cannot restart {}: {e}", self.process.label());
        }
        self.wait_healthy().await;
    }

    /// The last `lines` lines of the daemon's stderr and stdout, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    /// Everything the daemon logged so far (stderr, then stdout), across restarts.
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    async fn json_exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let (headers, bytes): (&[(&str, &str)], Bytes) = match body {
            Some(value) => (
                &[("content-type", "application/json")],
                Bytes::from(value.to_string()),
            ),
            None => (&[], Bytes::new()),
        };
        let (status, _, body) = self.request(method, path, headers, bytes).await;
        (status, body_json(&body))
    }
}

impl Drop for DaemonFixture {
    /// Kills the process (before the temp dir goes).
    fn drop(&mut self) {
        self.process.kill();
    }
}

//! Shared by the `hooks_*` tests: runs the real `fleet hook ...` binary with the
//! agents' fixture payloads (`bins/fleet/tests/fixtures/`), in a private home, against
//! a daemon's socket, and times each run.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fleet_tests::{DaemonFixture, StatusCode, Value, fleet_path};

/// The bound the agents are promised.
pub const HOOK_BOUND: Duration = Duration::from_millis(200);

/// The fixture `name` of `agent`, with `TRANSCRIPT` replaced by the Claude transcript
/// fixture's absolute path.
pub fn payload(agent: &str, name: &str) -> String {
    let dir = fixtures_dir();
    let text = std::fs::read_to_string(dir.join(agent).join(name))
        .unwrap_or_else(|e| panic!("fixture {agent}/{name}: {e}"));
    let transcript = dir.join("claude/transcript.jsonl");
    text.replace("TRANSCRIPT", &transcript.to_string_lossy())
}

/// `bins/fleet/tests/fixtures`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../bins/fleet/tests/fixtures")
}

/// The Claude session id of the fixtures.
pub const CLAUDE_ID: &str = "4f1c2a9e-7b3d-4e8a-9c1f-2d5e6a7b8c90";
/// The Codex thread id of the fixture.
pub const CODEX_ID: &str = "0199a213-81c0-7800-8aa1-bbab2a035a53";
/// The Gemini session id of the fixtures.
pub const GEMINI_ID: &str = "gem-5d0c8e21";

/// Where a hook runs: its socket, data directory and home.
pub struct HookEnv {
    pub socket: PathBuf,
    pub data_dir: PathBuf,
    pub home: tempfile::TempDir,
}

/// What one hook run did.
#[derive(Debug)]
pub struct HookRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl HookEnv {
    /// Hooks talking to `daemon` and spooling in its data directory.
    pub fn for_daemon(daemon: &DaemonFixture) -> Self {
        Self::new(
            daemon.socket_path().to_path_buf(),
            daemon.data_dir().to_path_buf(),
        )
    }

    /// Hooks talking to `socket` and spooling in `data_dir`.
    pub fn new(socket: PathBuf, data_dir: PathBuf) -> Self {
        let home = tempfile::Builder::new()
            .prefix("fh")
            .tempdir_in("/tmp")
            .unwrap_or_else(|e| panic!("temp home: {e}"));
        Self {
            socket,
            data_dir,
            home,
        }
    }

    /// The spool directory these hooks use.
    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("hook-spool")
    }

    /// How many events wait in the spool.
    pub fn spooled(&self) -> usize {
        std::fs::read_dir(self.spool_dir()).map_or(0, |d| {
            d.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.ends_with(".json") && !n.starts_with('.')
                })
                .count()
        })
    }

    /// A `fleet` command in this environment, with no inherited `FLEET_*` variables.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(fleet_path());
        command.args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FLEET_") {
                command.env_remove(key);
            }
        }
        command
            .env("HOME", self.home.path())
            .env("XDG_RUNTIME_DIR", self.home.path().join("run"))
            .env("XDG_STATE_HOME", self.home.path().join("state"))
            .env("FLEET_SOCKET", &self.socket)
            .env("FLEET_DATA_DIR", &self.data_dir)
            .env("FLEET_HOOK_DRAIN_PATIENCE_S", "60");
        command
    }

    /// Runs `fleet hook <args>` with `stdin`, timed from spawn to exit.
    pub fn hook(&self, args: &[&str], stdin: &str) -> HookRun {
        let mut full = vec!["hook"];
        full.extend_from_slice(args);
        let mut command = self.command(&full);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run fleet: {e}"));
        if let Some(mut input) = child.stdin.take() {
            // A hook that exits early closes its stdin: not an error here.
            let _ = input.write_all(stdin.as_bytes());
        }
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("fleet did not finish: {e}"));
        HookRun {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            took: started.elapsed(),
        }
    }

    /// Runs `fleet hook claude` with the fixture `name`; it must exit 0.
    #[track_caller]
    pub fn claude(&self, name: &str) -> HookRun {
        let run = self.hook(&["claude"], &payload("claude", name));
        assert_eq!(run.code, Some(0), "fleet hook claude {name}: {run:#?}");
        run
    }
}

/// The session `id` as the daemon has it, when it has it.
pub async fn session(daemon: &DaemonFixture, id: &str) -> Option<Value> {
    let (status, body) = daemon.http_get(&format!("/v1/sessions/{id}")).await;
    (status == StatusCode::OK).then_some(body)
}

/// p50 and max of `times`.
pub fn p50_max(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}

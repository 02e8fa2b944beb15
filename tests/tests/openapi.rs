//! `docs/openapi.yaml` against a running daemon: schemathesis (PyPI `schemathesis`, v4)
//! generates requests from the document, valid and invalid, for every operation but the
//! WebSocket upgrade, including the write paths (create, patch, end a session; refresh),
//! chains them through the document's links (create, then read, patch, end what was
//! created), and checks every answer: no 5xx, every status, header, content type and body
//! as the document says, invalid input refused with a 4xx, valid input accepted, 401
//! without the token, 405 with `Allow` for other methods, an ended session gone.
//!
//! The daemon is standalone (no `--redis`) with one project on disk, on its TCP listener
//! with a token file (schemathesis speaks TCP, not Unix sockets).
//!
//! schemathesis must be installed (`scripts/test.sh` installs the pinned version with pip
//! when missing); without it this test fails and says how to install it. Knobs:
//! `FLEET_OPENAPI_EXAMPLES` (examples per operation and phase, default
//! [`DEFAULT_EXAMPLES`]), `FLEET_OPENAPI_SEED` (default [`DEFAULT_SEED`], so a run can be
//! replayed), `FLEET_SCHEMATHESIS` (the command to run, e.g. `/opt/venv/bin/st`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use fleet_tests::{DaemonFixture, StatusCode, body_json, free_addr, http_request_tcp};

/// The bearer token of the daemon under test.
const TOKEN: &str = "openapi-Token_1";

/// Examples per operation and phase: enough to reach every status the standalone daemon
/// can give, few enough that the run stays around a minute on an idle 2-core machine.
const DEFAULT_EXAMPLES: u32 = 10;

/// The default seed, so that a failure can be replayed with the same inputs.
const DEFAULT_SEED: u64 = 20_261_129;

/// The major version whose command line this test speaks (v4 changed the flags).
const MAJOR: &str = "4.";

/// What `scripts/test.sh` installs.
const INSTALL_HINT: &str = "install it with `python3 -m pip install 'schemathesis==4.32.5'` \
     (scripts/test.sh does this when it is missing)";

/// How long the whole run may take before it is stopped and the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(600);

#[tokio::test]
async fn the_daemon_answers_as_the_openapi_document_says() {
    let st = schemathesis_command();
    let files = tempfile::Builder::new()
        .prefix("fcoa")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let token = files.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).expect("write the token file");
    let project = files.path().join("demo");
    write_project(&project);

    let addr = free_addr();
    let daemon = DaemonFixture::builder()
        .computer("alpha")
        .http(addr)
        .token_file(&token)
        .project(&project)
        .start()
        .await;
    let bearer = format!("Bearer {TOKEN}");
    seed_session(addr, &bearer).await;

    let document = workspace_root().join("docs/openapi.yaml");
    let examples = env_or("FLEET_OPENAPI_EXAMPLES", DEFAULT_EXAMPLES);
    let seed = env_or("FLEET_OPENAPI_SEED", DEFAULT_SEED);
    let mut command = st.command();
    command
        .arg("run")
        .arg(&document)
        .args(["--url", &format!("http://{addr}")])
        .args(["--header", &format!("Authorization: {bearer}")])
        .args(["--checks", "all"])
        // The WebSocket upgrade is described, not testable as a request and answer.
        .args(["--exclude-path", "/v1/ws"])
        .args(["--max-examples", &examples.to_string()])
        .args(["--seed", &seed.to_string()])
        .args(["--request-timeout", "20"])
        // A loaded machine makes data generation slow; that is not the API's fault.
        .args(["--suppress-health-check", "too_slow"])
        .args(["--generation-database", "none"])
        .args(["--no-color", "--output-truncate", "false"])
        .current_dir(files.path());
    let output = run_bounded(command, RUN_LIMIT).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found answers that break docs/openapi.yaml ({}; seed {seed}, \
         {examples} examples; replay with FLEET_OPENAPI_SEED={seed}):\n{text}\n{}",
        output.status,
        daemon.log_tail(40)
    );
    let summary = text
        .lines()
        .find(|l| l.contains(" generated,"))
        .unwrap_or("(no summary line)");
    assert!(
        text.contains("Tested: 12"),
        "every operation but the WebSocket upgrade is tested: {text}"
    );
    println!("{text}\nopenapi: {summary}");
}

/// How to start schemathesis here.
struct Schemathesis {
    program: OsString,
    args: Vec<OsString>,
}

impl Schemathesis {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command
    }
}

/// The first of `$FLEET_SCHEMATHESIS`, `schemathesis`, `st`, `python3 -m schemathesis.cli`
/// that answers `--version` with a v4.
///
/// # Panics
///
/// When none does, with how to install it: the test never skips silently.
fn schemathesis_command() -> Schemathesis {
    let mut candidates: Vec<Vec<OsString>> = Vec::new();
    if let Some(custom) = std::env::var_os("FLEET_SCHEMATHESIS") {
        candidates.push(vec![custom]);
    }
    candidates.push(vec!["schemathesis".into()]);
    candidates.push(vec!["st".into()]);
    candidates.push(vec![
        "python3".into(),
        "-m".into(),
        "schemathesis.cli".into(),
    ]);
    let mut tried = Vec::new();
    for mut words in candidates {
        let program = words.remove(0);
        let st = Schemathesis {
            program,
            args: words,
        };
        let shown = format!(
            "{} {}",
            st.program.to_string_lossy(),
            st.args
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut probe = st.command();
        probe
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match probe.output() {
            Ok(out) if out.status.success() => {
                let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                let number = version.rsplit(' ').next().unwrap_or("");
                if number.starts_with(MAJOR) {
                    return st;
                }
                tried.push(format!(
                    "`{}`: {version} (this test needs v{MAJOR}x)",
                    shown.trim()
                ));
            }
            Ok(out) => tried.push(format!("`{}`: {}", shown.trim(), out.status)),
            Err(e) => tried.push(format!("`{}`: {e}", shown.trim())),
        }
    }
    panic!(
        "schemathesis is needed to check docs/openapi.yaml against the daemon, and none \
         was found ({}); {INSTALL_HINT}",
        tried.join("; ")
    );
}

/// Runs `command` to its end on a blocking thread, or fails the test once `limit` passes.
async fn run_bounded(mut command: Command, limit: Duration) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start schemathesis ({command:?}): {e}"));
    let pid = child.id();
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    match tokio::time::timeout(limit, waiting).await {
        Ok(joined) => joined
            .expect("the thread waiting for schemathesis panicked")
            .expect("waiting for schemathesis failed"),
        Err(_) => {
            if let Some(pid) = rustix::process::Pid::from_raw(pid.cast_signed()) {
                // It may have ended just now: nothing to do then.
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
            panic!("schemathesis did not finish within {limit:?}: killed");
        }
    }
}

/// A project with a README and a roadmap of every todo state, so that the project and
/// todo answers carry real data to check.
fn write_project(dir: &Path) {
    std::fs::create_dir_all(dir.join("todos/first-item")).expect("create the project");
    std::fs::write(
        dir.join("README.md"),
        "# Demo\n\nA project for the API test.\n",
    )
    .expect("write README");
    std::fs::write(
        dir.join("todos/roadmap.md"),
        "- [ ] first-item\n  what it is about\n- [.] ready-item\n- [>] doing-item\n\
         - [x] done-item\n",
    )
    .expect("write the roadmap");
    std::fs::write(dir.join("todos/first-item/requirements.md"), "needs\n")
        .expect("write requirements");
}

/// A session with every nullable field set, so that list answers check strings there
/// too (the tester's own sessions mostly leave them null).
async fn seed_session(addr: std::net::SocketAddr, bearer: &str) {
    let (status, _, body) = http_request_tcp(
        addr,
        "POST",
        "/v1/sessions",
        &[
            ("authorization", bearer),
            ("content-type", "application/json"),
        ],
        r#"{"title":"seeded","project_path":"/srv/demo","agent":"claude",
            "thinking_mode":"deep","status":"waiting","session_id":"seed-1"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{}", body_json(&body));
    let (status, _, body) = http_request_tcp(
        addr,
        "PATCH",
        "/v1/sessions/seed-1",
        &[
            ("authorization", bearer),
            ("content-type", "application/json"),
        ],
        r#"{"last_input":"hello","last_output":"hi"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", body_json(&body));
}

/// The workspace root (this crate is `tests/` in it).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// `name` from the environment, parsed, or `default` when unset.
///
/// # Panics
///
/// When it is set but does not parse: a typo must not silently run the default.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
        _ => default,
    }
}

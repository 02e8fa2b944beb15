//! `fleet`, the command-line client, against a real standalone `fleetd`: every command,
//! in its human and `--json` forms, and the error cases (no daemon: exit 2 with a hint;
//! an API error: exit 1 with the daemon's message).
//!
//! The binary under test is `target/<profile>/fleet` beside this test executable (or
//! `$FLEET_BIN`), built once with `cargo build -p fleet --bin fleet` when missing, as the
//! fixture does for `fleetd`: run `cargo build -p fleet` after changing it when running
//! these tests alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fleet_tests::{
    Bytes, DaemonFixture, Method, StatusCode, Value, assert_eventually, fleet_path, free_addr, json,
};

/// What one run of `fleet` did.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "fleet failed: {self:#?}");
        &self.stdout
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("fleet printed no JSON ({e}): {self:#?}"))
    }
}

/// A `fleet` command line with no inherited `FLEET_*` variables and a private
/// `XDG_RUNTIME_DIR` (so the default socket never reaches a real daemon).
fn command(args: &[&str], envs: &[(&str, &Path)]) -> Command {
    let mut command = Command::new(fleet_path());
    command.args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FLEET_") {
            command.env_remove(key);
        }
    }
    command.env(
        "XDG_RUNTIME_DIR",
        std::env::temp_dir().join("fleet-cli-no-daemon"),
    );
    for (key, value) in envs {
        command.env(key, value);
    }
    command
}

async fn fleet_env(args: &[&str], envs: &[(&str, &Path)]) -> Run {
    let mut command = command(args, envs);
    let shown = format!("{command:?}");
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || command.stdin(Stdio::null()).output()),
    )
    .await
    .unwrap_or_else(|_| panic!("{shown} did not finish within 60 s"))
    .expect("the blocking task ran")
    .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `fleet --socket <the daemon's> args...`.
async fn fleet(d: &DaemonFixture, args: &[&str]) -> Run {
    let socket = d.socket_path().to_string_lossy().into_owned();
    let mut all = vec!["--socket", socket.as_str()];
    all.extend_from_slice(args);
    fleet_env(&all, &[]).await
}

/// The raw body of `GET path`, as the daemon sent it.
async fn raw_get(d: &DaemonFixture, path: &str) -> String {
    let (status, _, body) = d.request(Method::GET, path, &[], Bytes::new()).await;
    assert_eq!(status, StatusCode::OK, "GET {path}");
    String::from_utf8(body.to_vec()).expect("UTF-8 body")
}

async fn create_session(d: &DaemonFixture, body: Value) -> Value {
    let (status, session) = d.http_post_json("/v1/sessions", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

/// A project directory with a README and a roadmap of four todos.
fn project_dir(root: &Path) -> PathBuf {
    let dir = root.join("fleetproj");
    std::fs::create_dir_all(dir.join("todos/watch-view")).unwrap();
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(
        dir.join("README.md"),
        "# fleetproj\n\nA project for the CLI tests.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("todos/roadmap.md"),
        "- [>] watch-view\n  The live terminal view.\n- [ ] tls\n- [x] metrics\n- [.] docs\n",
    )
    .unwrap();
    std::fs::write(dir.join("todos/watch-view/requirements.md"), "# req\n").unwrap();
    dir
}

#[tokio::test]
async fn computers_as_a_table_and_as_json() {
    let d = DaemonFixture::builder().computer("alpha").start().await;
    let table = fleet(&d, &["computers"]).await;
    let lines: Vec<&str> = table.ok().lines().collect();
    assert!(lines[0].starts_with("NAME"), "{table:#?}");
    assert!(lines[0].contains("LAST SEEN"), "{table:#?}");
    assert!(
        lines[1].starts_with("alpha (self)") && lines[1].contains("online"),
        "{table:#?}"
    );

    let printed = fleet(&d, &["computers", "--json"]).await.json();
    let (_, api) = d.http_get("/v1/computers").await;
    // `last_seen` of this computer is "now" at each answer: everything else is the same.
    let without_seen = |v: &Value| {
        let mut v = v.clone();
        for c in v.as_array_mut().expect("an array") {
            c.as_object_mut().expect("an object").remove("last_seen");
        }
        v
    };
    assert_eq!(without_seen(&printed), without_seen(&api));
}

#[tokio::test]
async fn sessions_as_a_table_and_as_the_exact_api_json() {
    let d = DaemonFixture::builder().computer("alpha").start().await;
    let empty = fleet(&d, &["sessions"]).await;
    assert_eq!(empty.ok(), "No sessions.\n");

    create_session(&d, json!({"title": "Fix the flaky test", "agent": "claude", "project_path": "/src/fleetcache"})).await;
    create_session(&d, json!({"title": "Write docs", "status": "waiting"})).await;

    let table = fleet(&d, &["sessions"]).await;
    let text = table.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for column in [
        "ID",
        "COMPUTER",
        "STATUS",
        "TITLE",
        "PROJECT",
        "AGENT",
        "LAST ACTIVITY",
    ] {
        assert!(lines[0].contains(column), "{text}");
    }
    let flaky = lines
        .iter()
        .find(|l| l.contains("Fix the flaky test"))
        .expect(text);
    for cell in ["alpha", "active", "fleetcache", "claude", "just now"] {
        assert!(flaky.contains(cell), "{cell} missing in {flaky}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Write docs") && l.contains("waiting"))
    );
    // Columns are aligned: every row's TITLE starts at the header's column.
    let title_at = lines[0].find("TITLE").unwrap();
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.chars().nth(title_at - 1) == Some(' '))
    );

    let json = fleet(&d, &["--json", "sessions"]).await;
    assert_eq!(
        json.ok(),
        format!("{}\n", raw_get(&d, "/v1/sessions").await)
    );

    let mine = fleet(&d, &["sessions", "--computer", "alpha", "--json"])
        .await
        .json();
    assert_eq!(mine.as_array().map(Vec::len), Some(2));
    let other = fleet(&d, &["sessions", "--computer", "beta"]).await;
    assert_eq!(other.ok(), "No sessions.\n");
}

#[tokio::test]
async fn session_new_update_and_end() {
    let d = DaemonFixture::builder().computer("alpha").start().await;
    let created = fleet(
        &d,
        &[
            "session",
            "new",
            "--title",
            "Refactor",
            "--project",
            "/src/p",
            "--agent",
            "codex",
        ],
    )
    .await;
    let text = created.ok();
    let id = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("Created session "))
        .unwrap_or_else(|| panic!("no id in {text}"))
        .to_owned();
    assert!(text.contains("title          Refactor"), "{text}");
    let (status, session) = d.http_get(&format!("/v1/sessions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["project_path"], "/src/p");
    assert_eq!(session["agent"], "codex");
    assert_eq!(session["status"], "active");

    let updated = fleet(
        &d,
        &[
            "session",
            "update",
            &id,
            "--status",
            "waiting",
            "--title",
            "Refactor the store",
            "--input",
            "go on",
            "--output",
            "Done.\nNext?",
        ],
    )
    .await;
    let text = updated.ok();
    assert!(
        text.starts_with(&format!("Updated session {id}\n")),
        "{text}"
    );
    assert!(text.contains("status         waiting"), "{text}");
    assert!(text.contains("last output    Done. Next?"), "{text}");
    let (_, session) = d.http_get(&format!("/v1/sessions/{id}")).await;
    assert_eq!(session["title"], "Refactor the store");
    assert_eq!(session["last_input"], "go on");
    assert_eq!(session["last_output"], "Done.\nNext?");

    // --json prints the session exactly as the API answered it.
    let printed = fleet(
        &d,
        &["--json", "session", "update", &id, "--status", "idle"],
    )
    .await;
    let printed_session = printed.json();
    assert_eq!(printed_session["status"], "idle");
    assert_eq!(
        printed_session,
        d.http_get(&format!("/v1/sessions/{id}")).await.1
    );
    let new_json = fleet(&d, &["session", "new", "--title", "Second", "--json"])
        .await
        .json();
    assert_eq!(new_json["title"], "Second");
    assert_eq!(new_json["computer"], "alpha");

    let ended = fleet(&d, &["session", "end", &id]).await;
    assert_eq!(ended.ok(), format!("Ended session {id}\n"));
    assert_eventually!(d.http_get(&format!("/v1/sessions/{id}")).await.0 == StatusCode::NOT_FOUND);
    let second = new_json["session_id"].as_str().unwrap();
    assert_eq!(
        fleet(&d, &["--json", "session", "end", second]).await.ok(),
        ""
    );
}

#[tokio::test]
async fn projects_and_todos() {
    let root = tempfile::tempdir().unwrap();
    let project = project_dir(root.path());
    let path = project.to_string_lossy().into_owned();
    let d = DaemonFixture::builder()
        .computer("alpha")
        .project(&project)
        .start()
        .await;

    let table = fleet(&d, &["projects"]).await;
    let text = table.ok();
    assert!(text.starts_with("COMPUTER  NAME"), "{text}");
    let row = text.lines().nth(1).expect(text);
    for cell in [
        "alpha",
        "fleetproj",
        path.as_str(),
        "1 in progress, 1 ready, 1 pending, 1 done",
        "A project for the CLI tests.",
    ] {
        assert!(row.contains(cell), "{cell} missing in {row}");
    }
    let json = fleet(&d, &["projects", "--json"]).await;
    assert_eq!(
        json.ok(),
        format!("{}\n", raw_get(&d, "/v1/projects").await)
    );
    assert_eq!(
        fleet(&d, &["projects", "--computer", "zeta"]).await.ok(),
        "No projects.\n"
    );

    let todos = fleet(&d, &["todos"]).await;
    let text = todos.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].contains("STATUS") && lines[0].contains("DOCS"),
        "{text}"
    );
    assert!(
        lines[1].contains("watch-view")
            && lines[1].contains("in progress")
            && lines[1].contains("requirements")
            && lines[1].contains("The live terminal view."),
        "{text}"
    );
    assert!(
        lines[2].contains("tls") && lines[2].contains("pending"),
        "{text}"
    );
    let json = fleet(&d, &["todos", "--json", "--project", &path]).await;
    assert_eq!(
        json.ok(),
        format!(
            "{}\n",
            raw_get(&d, &format!("/v1/todos?project={path}")).await
        )
    );
    let none = fleet(&d, &["todos", "--project", "/nowhere"]).await;
    assert_eq!(none.ok(), "No todos.\n");
}

#[tokio::test]
async fn refresh_starts_and_reports() {
    let d = DaemonFixture::builder().computer("alpha").start().await;
    let run = fleet(&d, &["refresh"]).await;
    assert!(run.ok().starts_with("Refresh started"), "{run:#?}");
    let run = fleet(
        &d,
        &[
            "refresh",
            "--computer",
            "alpha",
            "--topic",
            "sessions",
            "--json",
        ],
    )
    .await;
    assert_eq!(run.json(), json!({"status": "accepted"}));
    let bad = fleet(&d, &["refresh", "--computer", "not a name"]).await;
    assert_eq!(bad.code, Some(1), "{bad:#?}");
    assert!(bad.stderr.contains("400 bad_field"), "{bad:#?}");
}

#[tokio::test]
async fn events_stream_json_lines() {
    let d = DaemonFixture::builder().computer("alpha").start().await;
    let out_dir = tempfile::tempdir().unwrap();
    let out_path = out_dir.path().join("events.jsonl");
    let out = std::fs::File::create(&out_path).unwrap();
    let socket = d.socket_path().to_string_lossy().into_owned();
    let mut child = command(&["--socket", &socket, "events", "--topic", "sessions"], &[])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped())
        .spawn()
        .expect("fleet events starts");
    let read_lines = || -> Vec<Value> {
        std::fs::read_to_string(&out_path)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("not one JSON frame a line ({e}): {l}"))
            })
            .collect()
    };
    let lines = assert_eventually!(read_lines(), |l| !l.is_empty());
    assert_eq!(lines[0]["type"], "snapshot");
    assert_eq!(lines[0]["topic"], "sessions");

    let session = create_session(&d, json!({"title": "streamed"})).await;
    let lines = assert_eventually!(read_lines(), |l| l
        .iter()
        .any(|f| f["event"] == "session_started"));
    let started = lines
        .iter()
        .find(|f| f["event"] == "session_started")
        .unwrap();
    assert_eq!(started["data"]["session_id"], session["session_id"]);
    assert!(lines.iter().all(|f| f["topic"] == "sessions"), "{lines:?}");
    child.kill().expect("kill fleet events");
    child.wait().expect("reap fleet events");

    // Without --topic, all three topics are subscribed.
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = command(&["--socket", &socket, "events"], &[])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("fleet events starts");
    let lines = assert_eventually!(read_lines(), |l| l.len() >= 3);
    let mut topics: Vec<&str> = lines[..3]
        .iter()
        .filter_map(|f| f["topic"].as_str())
        .collect();
    topics.sort_unstable();
    assert_eq!(topics, ["computers", "preparation", "sessions"]);
    child.kill().expect("kill fleet events");
    child.wait().expect("reap fleet events");
}

#[tokio::test]
async fn events_end_with_exit_1_when_the_daemon_stops() {
    let mut d = DaemonFixture::builder().computer("alpha").start().await;
    let out_dir = tempfile::tempdir().unwrap();
    let out_path = out_dir.path().join("events.jsonl");
    let out = std::fs::File::create(&out_path).unwrap();
    let socket = d.socket_path().to_string_lossy().into_owned();
    let child = command(&["--socket", &socket, "events"], &[])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped())
        .spawn()
        .expect("fleet events starts");
    // Subscribed once the three snapshots are printed.
    assert_eventually!(
        std::fs::read_to_string(&out_path).unwrap_or_default(),
        |text| text.lines().count() >= 3
    );
    d.terminate().await;
    let output = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await
    .expect("fleet events exits when the daemon stops")
    .unwrap()
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the event stream ended"), "{stderr}");
}

#[tokio::test]
async fn no_daemon_exits_2_with_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("fleetd.sock");
    let socket = socket.to_string_lossy();
    for args in [
        vec!["--socket", &*socket, "sessions"],
        vec!["--socket", &*socket, "watch"],
        vec!["--socket", &*socket, "events"],
        vec!["--socket", &*socket, "session", "new", "--title", "x"],
    ] {
        let run = fleet_env(&args, &[]).await;
        assert_eq!(run.code, Some(2), "{args:?}: {run:#?}");
        assert!(run.stdout.is_empty(), "{run:#?}");
        assert!(
            run.stderr
                .contains("no fleetd daemon is answering at the socket")
                && run.stderr.contains(&*socket),
            "{run:#?}"
        );
        assert!(
            run.stderr.contains("`fleetd`") && run.stderr.contains("cargo run -p daemon"),
            "{run:#?}"
        );
    }
    let run = fleet_env(&["--url", "ftp://x", "computers"], &[]).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("--url"), "{run:#?}");
}

#[tokio::test]
async fn api_errors_exit_1_with_the_daemons_message() {
    let d = DaemonFixture::builder().computer("alpha").start().await;
    let (status, answer) = d
        .http_patch_json("/v1/sessions/no-such-session", &json!({"status": "idle"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let message = answer["error"]["message"]
        .as_str()
        .expect("an error message");

    let run = fleet(
        &d,
        &["session", "update", "no-such-session", "--status", "idle"],
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.is_empty(), "{run:#?}");
    assert!(run.stderr.contains(message), "{run:#?}");
    assert!(run.stderr.contains("404"), "{run:#?}");

    let run = fleet(&d, &["session", "end", "no-such-session"]).await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("no-such-session"), "{run:#?}");

    // A refused subscription ends `fleet events` instead of waiting forever.
    let run = fleet(&d, &["events", "--computer", "not a name"]).await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("bad_field"), "{run:#?}");
    let frame: Value = serde_json::from_str(run.stdout.lines().next().unwrap_or("")).unwrap();
    assert_eq!(frame["type"], "error", "{run:#?}");

    let run = fleet(&d, &["session", "new", "--title", " "]).await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("title"), "{run:#?}");
}

#[tokio::test]
async fn socket_from_the_environment_and_the_default_path() {
    let d = DaemonFixture::builder().computer("alpha").start().await;
    let run = fleet_env(
        &["computers", "--json"],
        &[("FLEET_SOCKET", d.socket_path())],
    )
    .await;
    assert_eq!(run.json()[0]["name"], "alpha");

    // The default path is $XDG_RUNTIME_DIR/fleetcache/fleetd.sock, as for fleetd.
    let runtime = tempfile::tempdir().unwrap();
    std::fs::create_dir(runtime.path().join("fleetcache")).unwrap();
    std::os::unix::fs::symlink(
        d.socket_path(),
        runtime.path().join("fleetcache/fleetd.sock"),
    )
    .unwrap();
    let run = fleet_env(
        &["computers", "--json"],
        &[("XDG_RUNTIME_DIR", runtime.path())],
    )
    .await;
    assert_eq!(run.json()[0]["name"], "alpha");
}

#[tokio::test]
async fn over_tcp_with_a_bearer_token() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let addr = free_addr();
    let d = DaemonFixture::builder()
        .computer("alpha")
        .http(addr)
        .token_file(&token)
        .start()
        .await;
    let url = format!("http://{addr}");
    let token_arg = token.to_string_lossy().into_owned();

    let run = fleet_env(
        &["--url", &url, "--token-file", &token_arg, "sessions"],
        &[],
    )
    .await;
    assert_eq!(run.ok(), "No sessions.\n");
    create_session(&d, json!({"title": "over tcp"})).await;
    let run = fleet_env(
        &[
            "--url",
            &url,
            "--token-file",
            &token_arg,
            "--json",
            "sessions",
        ],
        &[],
    )
    .await;
    assert_eq!(run.json()[0]["title"], "over tcp");

    let refused = fleet_env(&["--url", &url, "sessions"], &[]).await;
    assert_eq!(refused.code, Some(1), "{refused:#?}");
    assert!(refused.stderr.contains("401"), "{refused:#?}");
    assert!(refused.stderr.contains("--token-file"), "{refused:#?}");
}

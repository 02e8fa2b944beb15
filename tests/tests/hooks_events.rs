//! Every hook event mapping, through the real `fleet hook` binary against a real
//! standalone `fleetd`, with payloads shaped as the agents document them: Claude Code
//! and Gemini CLI on stdin, Codex CLI as the last argument.

mod hooks_support;

use fleet_tests::{DaemonFixture, assert_eventually};
use hooks_support::{CLAUDE_ID, CODEX_ID, GEMINI_ID, HookEnv, payload, session};

/// The session once `pred` holds for it.
async fn until(
    daemon: &DaemonFixture,
    id: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    assert_eventually!(
        async {
            let s = session(daemon, id).await;
            s.filter(|s| pred(s))
        }
        .await
    )
}

#[tokio::test]
async fn claude_code_events_drive_the_session() {
    let daemon = DaemonFixture::builder().computer("alpha").start().await;
    let env = HookEnv::for_daemon(&daemon);

    let run = env.claude("SessionStart.json");
    assert_eq!(
        run.stdout, "",
        "Claude Code adds a hook's stdout to the context"
    );
    let s = until(&daemon, CLAUDE_ID, |s| s["status"] == "active").await;
    assert_eq!(s["agent"], "claude");
    assert_eq!(s["computer"], "alpha");
    assert_eq!(s["project_path"], "/home/dev/src/fleetcache");
    assert_eq!(
        s["title"], "fleetcache",
        "the directory's name until a prompt"
    );

    env.claude("UserPromptSubmit.json");
    let s = until(&daemon, CLAUDE_ID, |s| !s["last_input"].is_null()).await;
    assert_eq!(
        s["last_input"],
        "Fix the flaky reconnect test in tests/ws_resume.rs\nand explain what was wrong"
    );
    assert_eq!(
        s["title"],
        "Fix the flaky reconnect test in tests/ws_resume.rs"
    );
    assert_eq!(s["status"], "active");
    let rev = s["rev"].as_u64().unwrap();

    // Already active: a tool call writes nothing.
    env.claude("PreToolUse.json");
    env.claude("PostToolUse.json");
    assert_eq!(session(&daemon, CLAUDE_ID).await.unwrap()["rev"], rev);

    env.claude("Notification.json");
    let s = until(&daemon, CLAUDE_ID, |s| s["status"] == "waiting").await;
    assert_eq!(s["last_output"], "Claude needs your permission to use Bash");

    // Active again after a tool ran, then a permission request.
    env.claude("PostToolUse.json");
    until(&daemon, CLAUDE_ID, |s| s["status"] == "active").await;
    env.claude("PermissionRequest.json");
    let s = until(&daemon, CLAUDE_ID, |s| s["status"] == "waiting").await;
    assert_eq!(s["last_output"], "Allow Bash: git push origin agents");

    env.claude("Stop.json");
    let s = until(&daemon, CLAUDE_ID, |s| s["status"] == "idle").await;
    assert_eq!(
        s["last_output"],
        "The test waited on a fixed sleep; it now polls until the client resumed.",
        "the last assistant text of the transcript"
    );

    // A second SessionStart (resume) reopens the same session.
    env.claude("SessionStart.json");
    let s = until(&daemon, CLAUDE_ID, |s| s["status"] == "active").await;
    assert_eq!(
        s["title"],
        "Fix the flaky reconnect test in tests/ws_resume.rs"
    );

    env.claude("SessionEnd.json");
    assert_eventually!(session(&daemon, CLAUDE_ID).await.is_none());
    assert_eq!(env.spooled(), 0);
}

#[tokio::test]
async fn unknown_events_and_bad_input_write_nothing_and_say_why_in_one_line() {
    let daemon = DaemonFixture::builder().computer("alpha").start().await;
    let env = HookEnv::for_daemon(&daemon);
    env.claude("SessionStart.json");
    let before = assert_eventually!(session(&daemon, CLAUDE_ID).await);

    for (input, says) in [
        (
            payload("claude", "PreCompact.json"),
            "\"PreCompact\" is not one fleet records",
        ),
        ("{not json".to_owned(), "not JSON"),
        ("".to_owned(), "not JSON"),
        (r#"{"hook_event_name":"Stop"}"#.to_owned(), "no session_id"),
        (
            r#"{"session_id":"../etc","hook_event_name":"Stop"}"#.to_owned(),
            "session_id",
        ),
    ] {
        let run = env.hook(&["claude"], &input);
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert_eq!(run.stdout, "");
        assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
        assert!(run.stderr.contains(says), "{says}: {run:#?}");
    }
    let run = env.hook(&["codex", r#"{"type":"approval-requested"}"#], "");
    assert_eq!(run.code, Some(0));
    assert!(run.stderr.contains("not one fleet records"), "{run:#?}");
    assert_eq!(session(&daemon, CLAUDE_ID).await.unwrap(), before);
    assert_eq!(env.spooled(), 0);
}

#[tokio::test]
async fn a_codex_turn_makes_its_session_idle_with_the_last_messages() {
    let daemon = DaemonFixture::builder().computer("alpha").start().await;
    let env = HookEnv::for_daemon(&daemon);
    // Codex runs `fleet hook codex '<json>'`.
    let run = env.hook(
        &["codex", &payload("codex", "agent-turn-complete.json")],
        "",
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let s = assert_eventually!(session(&daemon, CODEX_ID).await);
    assert_eq!(s["agent"], "codex");
    assert_eq!(s["status"], "idle");
    assert_eq!(s["last_input"], "and add a test for it");
    assert_eq!(
        s["last_output"],
        "Renamed spool.rs to queue.rs and added tests/queue.rs."
    );
    assert_eq!(s["title"], "and add a test for it");
    assert_eq!(s["project_path"], "/home/dev/src/fleetcache");
}

#[tokio::test]
async fn gemini_cli_events_drive_the_session_and_get_json_back() {
    let daemon = DaemonFixture::builder().computer("alpha").start().await;
    let env = HookEnv::for_daemon(&daemon);
    let gemini = |name: &str| {
        let run = env.hook(&["gemini"], &payload("gemini", name));
        assert_eq!(run.code, Some(0), "{name}: {run:#?}");
        assert_eq!(run.stdout.trim(), "{}", "Gemini CLI parses stdout as JSON");
    };
    gemini("SessionStart.json");
    let s = until(&daemon, GEMINI_ID, |s| s["status"] == "active").await;
    assert_eq!(s["agent"], "gemini");
    gemini("BeforeAgent.json");
    let s = until(&daemon, GEMINI_ID, |s| !s["last_input"].is_null()).await;
    assert_eq!(s["last_input"], "Summarise the open issues");
    let rev = s["rev"].clone();
    gemini("BeforeTool.json");
    assert_eq!(session(&daemon, GEMINI_ID).await.unwrap()["rev"], rev);
    gemini("Notification.json");
    let s = until(&daemon, GEMINI_ID, |s| s["status"] == "waiting").await;
    assert_eq!(s["last_output"], "Allow run_shell_command: issues list");
    gemini("AfterAgent.json");
    let s = until(&daemon, GEMINI_ID, |s| s["status"] == "idle").await;
    assert_eq!(s["last_output"], "There are 3 open issues.");
    gemini("SessionEnd.json");
    assert_eventually!(session(&daemon, GEMINI_ID).await.is_none());
}

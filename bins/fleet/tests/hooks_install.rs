//! `fleet hooks install|uninstall` through the real binary, on temporary homes that
//! already hold settings: other hooks and settings kept, idempotent, a backup of the
//! changed file, a diff under `--dry-run`, unparseable files refused untouched.

use std::path::Path;
use std::process::Command;

fn fleet(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(args)
        .env("HOME", home)
        .output()
        .expect("run fleet");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn backups(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".fleet-backup-"))
        .count()
}

const CLAUDE_SETTINGS: &str = r#"{
  "model": "opus",
  "permissions": {"allow": ["Bash(cargo test:*)"]},
  "hooks": {
    "Notification": [{"hooks": [{"type": "command", "command": "notify-send Claude"}]}],
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"}]}]
  }
}
"#;

#[test]
fn claude_install_merges_is_idempotent_and_uninstall_restores() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".claude");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settings.json");
    std::fs::write(&path, CLAUDE_SETTINGS).unwrap();
    let h = home.path();

    let (code, out, err) = fleet(
        h,
        &[
            "hooks",
            "install",
            "claude",
            "--dry-run",
            "--program",
            "/opt/fleet",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("+") && out.contains("/opt/fleet hook claude"),
        "{out}"
    );
    assert!(out.contains("dry run: nothing was written"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), CLAUDE_SETTINGS);
    assert_eq!(backups(&dir), 0);

    let (code, out, err) = fleet(
        h,
        &["hooks", "install", "claude", "--program", "/opt/fleet"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("backup"), "{out}");
    assert_eq!(backups(&dir), 1);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["model"], "opus");
    assert_eq!(v["permissions"]["allow"][0], "Bash(cargo test:*)");
    assert_eq!(
        v["hooks"]["Notification"][0]["hooks"][0]["command"],
        "notify-send Claude"
    );
    assert_eq!(
        v["hooks"]["Notification"][1]["hooks"][0]["command"],
        "/opt/fleet hook claude"
    );
    assert_eq!(v["hooks"]["PreToolUse"][0]["matcher"], "Bash");
    assert_eq!(v["hooks"]["PreToolUse"][1]["matcher"], "*");
    for event in [
        "SessionStart",
        "UserPromptSubmit",
        "PostToolUse",
        "PermissionRequest",
        "Stop",
        "SessionEnd",
    ] {
        assert_eq!(
            v["hooks"][event][0]["hooks"][0]["type"], "command",
            "{event}"
        );
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.find("\"model\"").unwrap() < text.find("\"permissions\"").unwrap(),
        "key order kept"
    );

    // Again: nothing to do, nothing written, no new backup.
    let (code, out, _) = fleet(
        h,
        &["hooks", "install", "claude", "--program", "/opt/fleet"],
    );
    assert_eq!(code, 0);
    assert!(out.starts_with("unchanged"), "{out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(backups(&dir), 1);

    let (code, _, err) = fleet(h, &["hooks", "uninstall", "claude"]);
    assert_eq!(code, 0, "{err}");
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        back,
        serde_json::from_str::<serde_json::Value>(CLAUDE_SETTINGS).unwrap()
    );
    assert_eq!(backups(&dir), 2);
}

#[test]
fn unparseable_settings_are_refused_untouched() {
    let home = tempfile::tempdir().unwrap();
    for (agent, rel, text) in [
        ("claude", ".claude/settings.json", "{\"model\": \"opus\",,}"),
        ("gemini", ".gemini/settings.json", "[1, 2]"),
        ("codex", ".codex/config.toml", "model = \"o3\"\n[broken\n"),
    ] {
        let path = home.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = fleet(home.path(), &["hooks", "install", agent]);
        assert_eq!(code, 1, "{agent}: {err}");
        assert!(err.contains("refused"), "{agent}: {err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{agent}");
        assert_eq!(backups(path.parent().unwrap()), 0);
    }
}

#[test]
fn codex_notify_is_set_kept_alongside_other_settings_and_removed() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".codex");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    let config = "# mine\nmodel = \"o3\"\n\n[mcp_servers.docs]\ncommand = \"docs-mcp\"\n";
    std::fs::write(&path, config).unwrap();
    let h = home.path();
    let (code, _, err) = fleet(h, &["hooks", "install", "codex", "--program", "/opt/fleet"]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("notify = [\"/opt/fleet\", \"hook\", \"codex\"]"),
        "{text}"
    );
    assert!(text.ends_with(config));
    let (_, out, _) = fleet(h, &["hooks", "install", "codex", "--program", "/opt/fleet"]);
    assert!(out.starts_with("unchanged"), "{out}");
    assert_eq!(backups(&dir), 1);
    let (code, _, _) = fleet(h, &["hooks", "uninstall", "codex"]);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), config);

    // Another notify program is not replaced.
    std::fs::write(&path, "notify = [\"notify-send\"]\n").unwrap();
    let (code, _, err) = fleet(h, &["hooks", "install", "codex"]);
    assert_eq!(code, 1);
    assert!(err.contains("already set"), "{err}");
}

#[test]
fn gemini_install_into_a_missing_file_creates_it() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, err) = fleet(
        home.path(),
        &["hooks", "install", "gemini", "--program", "/opt/fleet"],
    );
    assert_eq!(code, 0, "{err}");
    let path = home.path().join(".gemini/settings.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        v["hooks"]["AfterAgent"][0]["hooks"][0]["command"],
        "/opt/fleet hook gemini"
    );
    assert_eq!(v["hooks"]["BeforeTool"][0]["matcher"], "*");
}

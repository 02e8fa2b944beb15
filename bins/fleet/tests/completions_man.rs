//! `fleet completions SHELL [PROGRAM]` and `fleet man --dir DIR`, through the real
//! binary: every script names the commands it completes (and is valid bash when bash is
//! installed), and every man page renders as roff with a `.TH` title.

use std::path::Path;
use std::process::{Command, Output};

const FLEET: &str = env!("CARGO_BIN_EXE_fleet");

/// Every command of `fleet` a script must offer.
const FLEET_COMMANDS: [&str; 13] = [
    "computers",
    "sessions",
    "projects",
    "todos",
    "session",
    "refresh",
    "events",
    "watch",
    "hook",
    "hooks",
    "notify",
    "completions",
    "man",
];

fn fleet(args: &[&str]) -> Output {
    let out = Command::new(FLEET)
        .args(args)
        // No daemon is needed: make sure none is found by accident.
        .env("FLEET_SOCKET", "/nonexistent/fleetd.sock")
        .output()
        .expect("run fleet");
    assert!(
        out.status.success(),
        "fleet {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn script(shell: &str, program: &str) -> String {
    String::from_utf8(fleet(&["completions", shell, program]).stdout).expect("UTF-8 script")
}

#[test]
fn fleet_scripts_offer_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let text = script(shell, "fleet");
        for command in FLEET_COMMANDS {
            assert!(text.contains(command), "{shell} script lacks {command}");
        }
        // Subcommands and values too.
        for word in ["install", "uninstall", "preparation", "json"] {
            assert!(text.contains(word), "{shell} script lacks {word}");
        }
    }
}

#[test]
fn the_default_program_is_fleet() {
    assert_eq!(
        fleet(&["completions", "zsh"]).stdout,
        fleet(&["completions", "zsh", "fleet"]).stdout
    );
}

#[test]
fn fleetd_scripts_offer_its_flags() {
    for shell in ["bash", "zsh", "fish"] {
        let text = script(shell, "fleetd");
        for flag in [
            "computer",
            "redis",
            "socket",
            "allow-remote-writes",
            "log-format",
        ] {
            assert!(
                text.contains(flag),
                "{shell} script for fleetd lacks {flag}"
            );
        }
    }
}

#[test]
fn bash_scripts_parse() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("bash is not installed: `bash -n` not run");
        return;
    }
    for program in ["fleet", "fleetd"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(program);
        std::fs::write(&path, script("bash", program)).expect("write script");
        let out = Command::new("bash")
            .arg("-n")
            .arg(&path)
            .output()
            .expect("bash -n");
        assert!(
            out.status.success(),
            "bash -n on {program}'s script: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = Command::new(FLEET)
        .args(["completions", "tcsh"])
        .output()
        .expect("run fleet");
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
}

fn page(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn man_writes_a_page_per_command_and_one_for_fleetd() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("man1");
    let out = fleet(&["man", "--dir", target.to_str().expect("UTF-8 path")]);
    let listed: Vec<String> = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect();

    let mut expected = vec!["fleet.1".to_owned(), "fleetd.1".to_owned()];
    expected.extend(FLEET_COMMANDS.iter().map(|c| format!("fleet-{c}.1")));
    expected.extend(["fleet-session-new.1", "fleet-hooks-install.1"].map(str::to_owned));
    for name in &expected {
        let text = page(&target, name);
        assert!(
            text.lines().any(|l| l.starts_with(".TH ")),
            "{name} has a .TH title"
        );
        assert!(text.contains(".SH NAME"), "{name} has a NAME section");
        let path = target.join(name).display().to_string();
        assert!(listed.contains(&path), "{path} listed in {listed:?}");
    }
    assert_eq!(
        std::fs::read_dir(&target).expect("read dir").count(),
        listed.len(),
        "every file written is listed"
    );
    // The pages hold what --help says.
    assert!(page(&target, "fleetd.1").contains("FLEET_REDIS_URL"));
    assert!(page(&target, "fleet.1").contains("fleet\\-sessions(1)"));
}

#[test]
fn man_into_an_unwritable_place_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let out = Command::new(FLEET)
        .args(["man", "--dir"])
        .arg(file.join("man1"))
        .output()
        .expect("run fleet");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a-file"), "{stderr}");
}

//! Tests of the sources: the command line, the environment and their
//! precedence over the file and the defaults.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::config::{ConfigError, LogFormat};

#[test]
fn precedence_flag_over_env_over_file_over_default() {
    let dir = TempDir::new();
    let file = dir.file(
        "fleet.toml",
        "computer = \"file-host\"\nnamespace = \"file-ns\"\nredis = \"redis://file:6379\"\n\
         heartbeat = 3000\nlog_format = \"json\"\nproject = [\"/p/file\"]\n\
         data-dir = \"/d/file\"\nsocket = \"/s/file.sock\"\nhttp = \"127.0.0.1:1\"\n",
    );
    // File over defaults.
    let config = ok(&["--config", &file], &[]);
    assert_eq!(config.computer, "file-host");
    assert_eq!(config.namespace, "file-ns");
    assert_eq!(config.redis.as_deref(), Some("redis://file:6379"));
    assert_eq!(config.heartbeat, Duration::from_millis(3000));
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.projects, vec![PathBuf::from("/p/file")]);
    assert_eq!(config.data_dir, PathBuf::from("/d/file"));
    assert_eq!(config.socket, PathBuf::from("/s/file.sock"));
    assert_eq!(config.http, Some("127.0.0.1:1".parse().unwrap()));

    // Env over file.
    let env = [
        ("FLEET_COMPUTER", "env-host"),
        ("FLEET_NAMESPACE", "env-ns"),
        ("FLEET_REDIS_URL", "redis://env:6379"),
        ("FLEET_PROJECTS", "/p/env"),
        ("FLEET_DATA_DIR", "/d/env"),
        ("FLEET_SOCKET", "/s/env.sock"),
        ("FLEET_HTTP", "127.0.0.1:2"),
    ];
    let config = ok(&["--config", &file], &env);
    assert_eq!(config.computer, "env-host");
    assert_eq!(config.namespace, "env-ns");
    assert_eq!(config.redis.as_deref(), Some("redis://env:6379"));
    assert_eq!(config.projects, vec![PathBuf::from("/p/env")]);
    assert_eq!(config.data_dir, PathBuf::from("/d/env"));
    assert_eq!(config.socket, PathBuf::from("/s/env.sock"));
    assert_eq!(config.http, Some("127.0.0.1:2".parse().unwrap()));

    // Flags over env.
    let args = [
        "--config",
        &file,
        "--computer",
        "flag-host",
        "--namespace",
        "flag-ns",
        "--redis",
        "rediss://flag:6380",
        "--heartbeat",
        "4000",
        "--log-format",
        "text",
        "--project",
        "/p/flag",
        "--data-dir",
        "/d/flag",
        "--socket",
        "/s/flag.sock",
        "--http",
        "127.0.0.1:3",
    ];
    let config = ok(&args, &env);
    assert_eq!(config.computer, "flag-host");
    assert_eq!(config.namespace, "flag-ns");
    assert_eq!(config.redis.as_deref(), Some("rediss://flag:6380"));
    assert_eq!(config.heartbeat, Duration::from_millis(4000));
    assert_eq!(config.log_format, LogFormat::Text);
    assert_eq!(config.projects, vec![PathBuf::from("/p/flag")]);
    assert_eq!(config.data_dir, PathBuf::from("/d/flag"));
    assert_eq!(config.socket, PathBuf::from("/s/flag.sock"));
    assert_eq!(config.http, Some("127.0.0.1:3".parse().unwrap()));
}

#[test]
fn empty_env_counts_as_unset() {
    let config = ok(&[], &[("FLEET_NAMESPACE", ""), ("FLEET_REDIS_URL", "")]);
    assert_eq!(config.namespace, "fleet");
    assert_eq!(config.redis, None);
}

#[test]
fn fleet_projects_is_colon_separated_and_flags_replace_it() {
    let config = ok(&[], &[("FLEET_PROJECTS", "/a:/b::/c:/a:")]);
    assert_eq!(
        config.projects,
        vec![
            PathBuf::from("/a"),
            PathBuf::from("/b"),
            PathBuf::from("/c")
        ]
    );
    let config = ok(
        &["--project", "/x", "--project", "/y"],
        &[("FLEET_PROJECTS", "/a")],
    );
    assert_eq!(
        config.projects,
        vec![PathBuf::from("/x"), PathBuf::from("/y")]
    );
    let config = ok(&["--projects-root", "/r1", "--projects-root", "/r2"], &[]);
    assert_eq!(
        config.projects_roots,
        vec![PathBuf::from("/r1"), PathBuf::from("/r2")]
    );
    let config = ok(&["--project", "rel"], &[]);
    assert_eq!(
        config.projects,
        vec![std::env::current_dir().unwrap().join("rel")]
    );
}

#[test]
fn help_version_and_unknown_flags_are_command_line_errors() {
    let kind = |args: &[&str]| match load_with(args, &BASE_ENV).unwrap_err().0.as_slice() {
        [ConfigError::CommandLine(e)] => e.kind(),
        other => panic!("{other:?}"),
    };
    assert_eq!(kind(&["--help"]), clap::error::ErrorKind::DisplayHelp);
    assert_eq!(kind(&["--version"]), clap::error::ErrorKind::DisplayVersion);
    assert_eq!(kind(&["--bogus"]), clap::error::ErrorKind::UnknownArgument);
    assert_eq!(kind(&["--heartbeat"]), clap::error::ErrorKind::InvalidValue);
}

#[test]
fn allow_remote_writes_from_flag_env_or_file() {
    assert!(!ok(&[], &[]).allow_remote_writes);
    assert!(ok(&["--allow-remote-writes"], &[]).allow_remote_writes);
    assert!(ok(&[], &[("FLEET_ALLOW_REMOTE_WRITES", "true")]).allow_remote_writes);
    assert!(ok(&[], &[("FLEET_ALLOW_REMOTE_WRITES", "1")]).allow_remote_writes);
    assert!(!ok(&[], &[("FLEET_ALLOW_REMOTE_WRITES", "off")]).allow_remote_writes);
    let e = errors(&[], &[("FLEET_ALLOW_REMOTE_WRITES", "maybe")]);
    assert!(
        e.iter()
            .any(|m| m.starts_with("--allow-remote-writes (from FLEET_ALLOW_REMOTE_WRITES)")),
        "{e:?}"
    );
    let dir = TempDir::new();
    let file = dir.file("on.toml", "allow-remote-writes = true\n");
    assert!(ok(&["--config", &file], &[]).allow_remote_writes);
    let file = dir.file("bad.toml", "allow_remote_writes = \"yes\"\n");
    let e = errors(&["--config", &file], &[]);
    assert!(
        e.iter().any(|m| m.contains("expected true or false")),
        "{e:?}"
    );
}

//! Tests of the checks: every refused value names its flag, all errors are
//! reported at once, and secrets are never shown.

use super::*;
use crate::config::{ConfigError, Origin};

#[test]
fn every_validation_error_names_its_flag() {
    let dir = TempDir::new();
    let empty = dir.file("empty", " \n");
    let spaced = dir.file("spaced", "a b");
    let missing = dir.0.join("missing").to_str().unwrap().to_owned();
    let long = format!("/tmp/{}", "x".repeat(120));
    // Arguments separated by `|`; $E, $S, $M, $L stand for the files above.
    let from_flags = [
        ("--computer=-x", "--computer: \"-x\" must match"),
        ("--computer|a b", "--computer: \"a b\" must match"),
        (
            "--redis|http://h",
            "--redis: scheme \"http\" is not supported",
        ),
        ("--redis|localhost:6379", "--redis: not a URL"),
        ("--redis|redis://", "--redis: the URL names no host"),
        ("--redis|redis://:pw@/0", "--redis: the URL names no host"),
        (
            "--redis|redis://h x",
            "--redis: the URL must not contain whitespace",
        ),
        ("--namespace=", "--namespace: must not be empty"),
        (
            "--namespace|a b",
            "--namespace: \"a b\" must not contain whitespace",
        ),
        (
            "--namespace|a{b}",
            "--namespace: \"a{b}\" must not contain braces",
        ),
        ("--socket|$L", "--socket: /tmp/xxx"),
        ("--http|nowhere", "--http: \"nowhere\" is not an address"),
        (
            "--http|127.0.0.1",
            "--http: \"127.0.0.1\" is not an address",
        ),
        ("--token-file|$M", "--token-file: cannot read"),
        ("--token-file|$E", "--token-file: "),
        ("--token-file|$S", "--token-file: the token in"),
        (
            "--heartbeat|10",
            "--heartbeat: 10 is below the minimum of 50 ms",
        ),
        (
            "--heartbeat|600001",
            "--heartbeat: 600001 is above the maximum of 600000 ms",
        ),
        (
            "--heartbeat|2s",
            "--heartbeat: \"2s\" is not a whole number of milliseconds",
        ),
        ("--secret-file|$M", "--secret-file: cannot read"),
        ("--secret-file|$E", "--secret-file: "),
        (
            "--log-format|xml",
            "--log-format: \"xml\" is not a log format",
        ),
        ("--config|$M", "--config: cannot read"),
    ];
    for (args, prefix) in from_flags {
        let args: Vec<String> = args
            .split('|')
            .map(|a| {
                a.replace("$E", &empty)
                    .replace("$S", &spaced)
                    .replace("$M", &missing)
                    .replace("$L", &long)
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        one_error(&args, &[], prefix);
    }
    // From the environment, the message also names the variable.
    let from_env = [
        (
            "FLEET_COMPUTER",
            "a/b",
            "--computer (from FLEET_COMPUTER): ",
        ),
        (
            "FLEET_REDIS_URL",
            "http://h",
            "--redis (from FLEET_REDIS_URL): ",
        ),
        (
            "FLEET_NAMESPACE",
            "a b",
            "--namespace (from FLEET_NAMESPACE): ",
        ),
        ("FLEET_SOCKET", &long, "--socket (from FLEET_SOCKET): "),
        ("FLEET_HTTP", "x", "--http (from FLEET_HTTP): "),
        (
            "FLEET_TOKEN_FILE",
            &empty,
            "--token-file (from FLEET_TOKEN_FILE): ",
        ),
        (
            "FLEET_SECRET_FILE",
            &missing,
            "--secret-file (from FLEET_SECRET_FILE): ",
        ),
    ];
    for (name, value, prefix) in from_env {
        one_error(&[], &[(name, value)], prefix);
    }
    // Empty paths can only come from the file (clap refuses empty path
    // flags, and an empty variable is unset).
    for key in ["socket", "data-dir", "token-file", "secret-file"] {
        let file = dir.file("empty-path.toml", &format!("{key} = \"\"\n"));
        let prefix = format!("--{key} (from key \"{key}\" in {file}): the path must not be empty");
        one_error(&["--config", &file], &[], &prefix);
    }
    for key in ["project", "projects-root"] {
        let file = dir.file("empty-path.toml", &format!("{key} = [\"/a\", \"\"]\n"));
        let prefix = format!("--{key} (from key \"{key}\" in {file}): the path must not be empty");
        one_error(&["--config", &file], &[], &prefix);
    }
}

#[test]
fn several_errors_are_reported_at_once() {
    let errors = errors(
        &[
            "--heartbeat",
            "10",
            "--namespace",
            "a b",
            "--log-format",
            "xml",
            "--redis",
            "http://u:pw@h",
            "--computer=-x",
            "--http",
            "0.0.0.0:80",
        ],
        &[],
    );
    let flags: Vec<&str> = errors
        .iter()
        .map(|e| e.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        flags,
        [
            "--computer",
            "--redis",
            "--namespace",
            "--http",
            "--heartbeat",
            "--log-format"
        ],
        "{errors:#?}"
    );
    let all = ConfigErrors(vec![
        ConfigError::Invalid {
            flag: "--a",
            origin: Origin::CommandLine,
            message: "one".into(),
        },
        ConfigError::Invalid {
            flag: "--b",
            origin: Origin::Default,
            message: "two".into(),
        },
    ]);
    assert_eq!(all.to_string(), "--a: one\n--b: two");
}

#[test]
fn non_loopback_http_needs_a_token_and_loopback_does_not() {
    let e = one_error(
        &["--http", "0.0.0.0:7070"],
        &[],
        "--http: 0.0.0.0:7070 is not a loopback",
    );
    assert!(e.contains("--token-file"), "{e}");
    one_error(&["--http", "[::]:7070"], &[], "--http: ");
    one_error(
        &[],
        &[("FLEET_HTTP", "192.168.1.2:7070")],
        "--http (from FLEET_HTTP): ",
    );
    for addr in [
        "127.0.0.1:7070",
        "127.1.2.3:0",
        "[::1]:7070",
        "[::ffff:127.0.0.1]:7070",
    ] {
        let config = ok(&["--http", addr], &[]);
        assert_eq!(config.http, Some(addr.parse().unwrap()));
        assert_eq!(config.token, None);
    }
    let config = ok(&["--http", "localhost:7070"], &[]);
    assert_eq!(config.http, Some("127.0.0.1:7070".parse().unwrap()));

    let dir = TempDir::new();
    let token = dir.file("token", "  s3cret-token\n");
    let config = ok(&["--http", "0.0.0.0:7070", "--token-file", &token], &[]);
    assert_eq!(config.token.as_deref(), Some("s3cret-token"));
    // A token file that fails is reported once, not also as a missing token.
    let empty = dir.file("empty", "");
    one_error(
        &["--http", "0.0.0.0:7070", "--token-file", &empty],
        &[],
        "--token-file: ",
    );
}

#[test]
fn bad_computer_names() {
    one_error(&["--computer", &"x".repeat(64)], &[], "--computer: ");
    one_error(&["--computer", "ä"], &[], "--computer: ");
    assert_eq!(ok(&["--computer", "A-1.b_c"], &[]).computer, "A-1.b_c");
    // A host name that is no valid computer name asks for --computer.
    let env = BASE_ENV.to_vec();
    let e = load_host(&[], &env, "my host").unwrap_err().to_string();
    assert!(
        e.starts_with("--computer: the host name \"my host\" is not a valid computer name"),
        "{e}"
    );
    assert!(e.contains("--computer NAME"), "{e}");
    assert!(load_host(&["--computer", "ok"], &env, "my host").is_ok());
    let failing = || Err(std::io::Error::other("no name"));
    let home = |name: &str| (name == "HOME").then(|| "/h".to_owned());
    let e = build(["fleetd"], &home, &failing).unwrap_err().to_string();
    assert!(
        e.starts_with("--computer: cannot read the host name"),
        "{e}"
    );
}

#[test]
fn debug_hides_secrets() {
    let dir = TempDir::new();
    let token = dir.file("token", "tok-value");
    let config = ok(
        &[
            "--redis",
            "redis://user:hunter2@h:6379/0",
            "--token-file",
            &token,
            "--secret-file",
            &token,
        ],
        &[],
    );
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("tok-value"),
        "{shown}"
    );
    assert!(shown.contains("redis://***@h:6379/0"), "{shown}");
    // Error messages do not echo the URL either.
    let e = one_error(&["--redis", "http://user:hunter2@h"], &[], "--redis: ");
    assert!(!e.contains("hunter2"), "{e}");
}

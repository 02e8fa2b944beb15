//! Forwarded session writes through real `fleetd` processes, a real
//! `redis-server` and the real `fleet` client: update, end and create of
//! another computer's session from the CLI; a refusal without the owner's
//! `--allow-remote-writes`; an offline owner; signed requests and a forged
//! one dropped; each computer's load and remote-write setting in
//! `/v1/computers`.
//!
//! Run `cargo build -p daemon -p fleet --bins` after changing them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use fleet_tests::{DaemonFixture, RedisFixture, Value, assert_eventually, fleet_path, json};

const WAIT: Duration = Duration::from_secs(15);

/// What one run of `fleet` did.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `fleet --socket <d's socket> args...`, without inherited `FLEET_*`.
async fn fleet(d: &DaemonFixture, args: &[&str]) -> Run {
    let mut command = Command::new(fleet_path());
    command.arg("--socket").arg(d.socket_path()).args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FLEET_") {
            command.env_remove(key);
        }
    }
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || command.stdin(Stdio::null()).output()),
    )
    .await
    .expect("fleet finished within 60 s")
    .expect("the blocking task ran")
    .expect("fleet ran");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

struct Options<'a> {
    allow: bool,
    secret: Option<&'a Path>,
}

async fn daemon(redis: &RedisFixture, name: &str, o: &Options<'_>) -> DaemonFixture {
    let mut b = DaemonFixture::builder()
        .computer(name)
        .redis(redis.url())
        .heartbeat_ms(500);
    if o.allow {
        b = b.arg("--allow-remote-writes");
    }
    if let Some(s) = o.secret {
        b = b.secret_file(s);
    }
    b.start().await
}

/// `alpha` (the owner, with `owner`'s options) and `beta` (plain, same
/// secret), each seeing the other.
async fn pair(redis: &RedisFixture, owner: Options<'_>) -> (DaemonFixture, DaemonFixture) {
    let beta_opts = Options {
        allow: false,
        secret: owner.secret,
    };
    let a = daemon(redis, "alpha", &owner).await;
    let b = daemon(redis, "beta", &beta_opts).await;
    for d in [&a, &b] {
        assert_eventually!(d.health().await["peers"] == json!(1), timeout = WAIT);
    }
    (a, b)
}

async fn create_on(d: &DaemonFixture, title: &str) -> String {
    let (status, body) = d
        .http_post_json("/v1/sessions", &json!({ "title": title }))
        .await;
    assert_eq!(status, 201, "{body}");
    body["session_id"].as_str().unwrap().to_owned()
}

async fn session_on(d: &DaemonFixture, id: &str) -> (u16, Value) {
    let (status, body) = d.http_get(&format!("/v1/sessions/{id}")).await;
    (status.as_u16(), body)
}

async fn metric(d: &DaemonFixture, series: &str) -> u64 {
    let (_, _, body) = d.request("GET", "/metrics", &[], Vec::new()).await;
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

fn dropped(reason: &str) -> String {
    format!("fleet_dropped_inputs_total{{source=\"redis\",reason=\"{reason}\"}} ")
}

#[tokio::test]
async fn the_cli_updates_ends_and_creates_sessions_on_another_computer() {
    let redis = RedisFixture::start().await;
    let (a, b) = pair(
        &redis,
        Options {
            allow: true,
            secret: None,
        },
    )
    .await;
    let id = create_on(&a, "on alpha").await;
    assert!(
        a.logs()
            .contains("remote writes are allowed without a fleet secret"),
        "warned at start: {}",
        a.log_tail(20)
    );
    assert!(
        !b.logs().contains("without a fleet secret"),
        "beta does not allow them"
    );

    // beta does not hold alpha's sessions (nobody watches there): it looks
    // the session up, then forwards.
    let run = fleet(
        &b,
        &["session", "update", &id, "--title", "renamed from beta"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(run.stdout.contains("renamed from beta"), "{run:#?}");
    assert!(run.stdout.contains("alpha"), "{run:#?}");
    let (status, held) = session_on(&a, &id).await;
    assert_eq!(
        (status, held["title"].as_str()),
        (200, Some("renamed from beta"))
    );
    assert_eq!(held["rev"], 2);

    let run = fleet(
        &b,
        &["--json", "session", "update", &id, "--status", "waiting"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:#?}");
    let answered: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answered["status"], "waiting");
    assert_eq!(answered["computer"], "alpha");

    let run = fleet(
        &b,
        &[
            "session",
            "new",
            "--title",
            "started from beta",
            "--computer",
            "alpha",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run:#?}");
    let created = run
        .stdout
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("Created session "))
        .expect("Created session ID")
        .to_owned();
    let (status, held) = session_on(&a, &created).await;
    assert_eq!(status, 200, "created on alpha");
    assert_eq!(held["computer"], "alpha");
    assert_eq!(held["title"], "started from beta");

    let run = fleet(&b, &["session", "end", &id]).await;
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(session_on(&a, &id).await.0, 404, "ended on alpha");

    // An unknown session is still 404, and an unknown computer too.
    let run = fleet(
        &b,
        &["session", "end", "00000000-0000-4000-8000-000000000000"],
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    let run = fleet(
        &b,
        &["session", "new", "--title", "t", "--computer", "gamma"],
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("gamma"), "{run:#?}");

    let computers = b.http_get("/v1/computers").await.1;
    let alpha = computers
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "alpha")
        .unwrap()
        .clone();
    assert_eq!(alpha["remote_writes"], true, "{alpha}");
    assert_eq!(
        computers[0]["remote_writes"], false,
        "beta refuses: {computers}"
    );
    let stats = &alpha["stats"];
    assert!(stats["cpus"].as_u64().unwrap() >= 1, "{alpha}");
    assert!(stats["mem_total"].as_u64().unwrap() > 0, "{alpha}");
    assert!(stats["disk_free"].as_u64().unwrap() > 0, "{alpha}");
    assert!(stats["load1"].is_number(), "{alpha}");
    let run = fleet(&b, &["computers"]).await;
    assert!(run.stdout.contains("REMOTE WRITES"), "{run:#?}");
}

#[tokio::test]
async fn without_the_flag_the_owner_refuses_with_403_and_changes_nothing() {
    let redis = RedisFixture::start().await;
    let (a, b) = pair(
        &redis,
        Options {
            allow: false,
            secret: None,
        },
    )
    .await;
    let id = create_on(&a, "keep me").await;
    let (status, body) = b
        .http_patch_json(&format!("/v1/sessions/{id}"), &json!({"title": "no"}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "remote_writes_disabled");
    let run = fleet(&b, &["session", "end", &id]).await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("allow-remote-writes"), "{run:#?}");
    let (status, held) = session_on(&a, &id).await;
    assert_eq!(
        (status, held["title"].as_str(), held["rev"].as_u64()),
        (200, Some("keep me"), Some(1))
    );
    assert_eq!(metric(&a, &dropped("remote_writes_disabled")).await, 2);
}

#[tokio::test]
async fn an_owner_that_stopped_is_503_peer_unreachable() {
    let redis = RedisFixture::start().await;
    let (mut a, b) = pair(
        &redis,
        Options {
            allow: true,
            secret: None,
        },
    )
    .await;
    let id = create_on(&a, "soon stale").await;
    // beta watches alpha's sessions, so it keeps the session once alpha is gone.
    let _ws = {
        let mut ws = b.ws().await;
        ws.send_json(&json!({"op": "subscribe", "topic": "sessions"}))
            .await;
        ws
    };
    assert_eventually!(session_on(&b, &id).await.0 == 200, timeout = WAIT);
    a.terminate().await;
    assert_eventually!(b.health().await["peers"] == json!(0), timeout = WAIT);
    let started = std::time::Instant::now();
    let (status, body) = b.http_delete(&format!("/v1/sessions/{id}")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "peer_unreachable");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "an offline owner fails at once"
    );
}

#[tokio::test]
async fn signed_requests_are_applied_and_a_forged_one_is_dropped() {
    let redis = RedisFixture::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "fleet secret\n").unwrap();
    let (a, b) = pair(
        &redis,
        Options {
            allow: true,
            secret: Some(&secret),
        },
    )
    .await;
    let id = create_on(&a, "signed").await;
    let run = fleet(&b, &["session", "update", &id, "--title", "signed write"]).await;
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(session_on(&a, &id).await.1["title"], "signed write");
    // Every entry in both inboxes is signed.
    for inbox in ["fleet:inbox:{alpha}", "fleet:inbox:{beta}"] {
        let entries = redis.command(&["XRANGE", inbox, "-", "+"]).await;
        let text = format!("{entries:?}");
        assert!(text.contains("sig"), "{inbox}: {text}");
    }

    // A plain Redis client forges an end request, unsigned and badly signed.
    let body = format!(r#"{{"id":"forged-1","op":"end","session_id":"{id}"}}"#);
    for sig in [None, Some("00ff")] {
        let mut args = vec![
            "XADD",
            "fleet:inbox:{alpha}",
            "*",
            "v",
            "1",
            "kind",
            "request",
            "from",
            "beta",
            "boot",
            "forged",
            "body",
            &body,
        ];
        if let Some(sig) = sig {
            args.extend(["sig", sig]);
        }
        let reply = redis.command(&args).await;
        assert!(!reply.is_error(), "{reply:?}");
    }
    assert_eventually!(
        metric(&a, &dropped("unsigned")).await == 1
            && metric(&a, &dropped("bad_signature")).await == 1,
        timeout = WAIT
    );
    let (status, held) = session_on(&a, &id).await;
    assert_eq!(
        (status, held["title"].as_str()),
        (200, Some("signed write")),
        "not ended"
    );
}

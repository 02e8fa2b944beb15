//! Least-privilege Redis ACL users (docs/operations.md, "Redis: TLS,
//! Sentinel, ACL"): a user per namespace, limited to the keys `NS:*` and
//! to exactly the commands the daemon sends. Two daemons sharing such a
//! user in namespace `fleet` work as a fleet, beside a daemon of another
//! namespace with its own user; no command of theirs is ever refused (the
//! ACL log stays empty), and a user cannot read another namespace's keys.
//!
//! When the daemon starts sending a command this list lacks, these tests
//! fail loudly: the refused command shows in `ACL LOG`, and a daemon
//! missing a command it needs has `redis: "error"` with `permission denied`
//! in `/v1/health`.

use std::time::Duration;

use fleet_tests::{DaemonFixture, RedisFixture, RespValue, WsClient, assert_eventually, json};

const WAIT: Duration = Duration::from_secs(20);

/// The commands the daemon needs, exactly as docs/operations.md gives them.
const COMMANDS: &str = "+ping +client|id +info +xadd +xread +xrange +xrevrange +xinfo|stream +eval +time +zadd +zscore +zrange +zrangebyscore +zremrangebyscore +zrem +hset +hgetall +hdel +quit";

/// `ACL SETUSER NAME on >PASSWORD resetkeys ~NS:* resetchannels -@all COMMANDS`.
async fn set_user(redis: &RedisFixture, name: &str, password: &str, ns: &str, commands: &str) {
    let mut args: Vec<String> = [
        "ACL",
        "SETUSER",
        name,
        "reset",
        "on",
        &format!(">{password}"),
        &format!("~{ns}:*"),
        "resetchannels",
        "-@all",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(commands.split_whitespace().map(str::to_owned));
    let reply = redis.command(&args).await;
    assert_eq!(reply, RespValue::Simple("OK".into()), "{args:?}");
}

fn url(redis: &RedisFixture, user: &str, password: &str) -> String {
    format!("redis://{user}:{password}@127.0.0.1:{}", redis.port())
}

async fn daemon(redis_url: String, name: &str, ns: &str) -> DaemonFixture {
    DaemonFixture::builder()
        .computer(name)
        .namespace(ns)
        .redis(redis_url)
        .heartbeat_ms(200)
        .start()
        .await
}

/// Every entry of `ACL LOG`, as text, for failure messages.
async fn acl_log(redis: &RedisFixture) -> Vec<String> {
    let reply = redis.command(&["ACL", "LOG"]).await;
    reply
        .as_array()
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            let fields: Vec<String> = entry
                .as_array()
                .unwrap_or_default()
                .iter()
                .map(|f| match f.as_str() {
                    Some(text) => text.to_owned(),
                    None => format!("{f:?}"),
                })
                .collect();
            fields.join(" ")
        })
        .collect()
}

/// Runs one command as `user` on a fresh connection (AUTH first).
async fn as_user(redis: &RedisFixture, user: &str, password: &str, args: &[&str]) -> RespValue {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(redis.addr())
        .await
        .expect("connect to Redis");
    let mut request = fleet_tests::resp::encode_command(&["AUTH", user, password]);
    request.extend(fleet_tests::resp::encode_command(args));
    stream.write_all(&request).await.expect("write");
    let mut buf = Vec::new();
    let mut replies = Vec::new();
    while replies.len() < 2 {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(WAIT, stream.read(&mut chunk))
            .await
            .expect("a reply in time")
            .expect("read");
        assert!(n > 0, "Redis closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        while let Some((value, used)) = fleet_tests::resp::parse(&buf).expect("RESP") {
            replies.push(value);
            buf.drain(..used);
        }
    }
    assert_eq!(replies[0], RespValue::Simple("OK".into()), "AUTH {user}");
    replies.remove(1)
}

/// Alpha's session reaches beta's WebSocket client, and so does a change.
async fn propagates(a: &DaemonFixture, b: &DaemonFixture) {
    let mut ws: WsClient = b.ws().await;
    ws.subscribe("sessions").await;
    let (status, s) = a
        .http_post_json("/v1/sessions", &json!({ "title": "least privilege" }))
        .await;
    assert_eq!(status, 201, "{s}");
    let id = s["session_id"].as_str().unwrap_or_default().to_owned();
    ws.next_event_named("session_started", WAIT).await;
    let (status, v) = a
        .http_patch_json(
            &format!("/v1/sessions/{id}"),
            &json!({ "status": "waiting" }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let updated = ws.next_event_named("session_updated", WAIT).await;
    assert_eq!(updated["data"]["status"], "waiting", "{updated}");
    // A refresh pulls alpha's data again through a snapshot request.
    let (status, _) = b
        .http_post_json("/v1/refresh", &json!({ "computer": a.computer() }))
        .await;
    assert_eq!(status, 202);
    assert_eventually!(
        b.http_get(&format!("/v1/sessions/{id}")).await.1["status"] == "waiting",
        timeout = WAIT
    );
}

#[tokio::test]
async fn least_privilege_users_run_their_namespace_and_only_it() {
    let redis = RedisFixture::start().await;
    redis.command(&["ACL", "LOG", "RESET"]).await;
    set_user(&redis, "fleet-rw", "pw-fleet", "fleet", COMMANDS).await;
    set_user(&redis, "lab-rw", "pw-lab", "lab", COMMANDS).await;

    // Two daemons sharing one user in namespace `fleet`...
    let a = daemon(url(&redis, "fleet-rw", "pw-fleet"), "alpha", "fleet").await;
    let b = daemon(url(&redis, "fleet-rw", "pw-fleet"), "beta", "fleet").await;
    // ... and one in namespace `lab` with its own user, and a peer of it.
    let c = daemon(url(&redis, "lab-rw", "pw-lab"), "gamma", "lab").await;
    let d = daemon(url(&redis, "lab-rw", "pw-lab"), "delta", "lab").await;
    for x in [&a, &b, &c, &d] {
        assert_eventually!(
            x.health().await,
            |h| h["redis"] == "connected" && h["peers"] == json!(1),
            timeout = WAIT
        );
    }
    propagates(&a, &b).await;
    propagates(&c, &d).await;

    // Cut every connection: the daemons reconnect, authenticate again and
    // check their streams for gaps (XRANGE, XREVRANGE, XINFO STREAM).
    for user in ["fleet-rw", "lab-rw"] {
        let killed = redis.command(&["CLIENT", "KILL", "USER", user]).await;
        assert!(killed.as_int().is_some_and(|n| n > 0), "{killed:?}");
    }
    propagates(&a, &b).await;
    propagates(&c, &d).await;
    for x in [&a, &b, &c, &d] {
        let h = x.health().await;
        assert_eq!(h["redis"], "connected", "{h}");
        assert_eq!(h["peers"], json!(1), "the namespaces stay apart: {h}");
    }

    // A graceful stop (a leave entry, QUIT) is allowed too.
    let (mut a, mut c) = (a, c);
    for x in [&mut a, &mut c] {
        let status = x.terminate().await;
        assert!(status.success(), "{status:?}\n{}", x.log_tail(20));
    }
    for x in [&b, &d] {
        assert_eventually!(x.health().await["peers"] == json!(0), timeout = WAIT);
    }

    // Redis refused none of the daemons' commands, and none logged NOPERM.
    let log = acl_log(&redis).await;
    assert!(
        log.is_empty(),
        "Redis refused commands of the daemons: add them to COMMANDS and to \
         docs/operations.md if they are needed:\n{}",
        log.join("\n")
    );
    for x in [&a, &b, &c, &d] {
        assert!(!x.logs().contains("NOPERM"), "{}", x.logs());
    }
    let stats = redis.command(&["INFO", "commandstats"]).await;
    eprintln!(
        "commands the daemons sent:\n{}",
        stats.as_str().unwrap_or_default()
    );

    // A user cannot read (or write) another namespace's keys.
    for args in [
        &["XREAD", "COUNT", "1", "STREAMS", "fleet:presence", "0-0"][..],
        &["XRANGE", "fleet:presence", "-", "+", "COUNT", "1"][..],
        &["XADD", "fleet:presence", "*", "v", "1"][..],
    ] {
        let reply = as_user(&redis, "lab-rw", "pw-lab", args).await;
        match &reply {
            RespValue::Error(e) if e.starts_with("NOPERM") => {}
            other => panic!("{args:?} as lab-rw: expected NOPERM, got {other:?}"),
        }
    }
    // The same read on its own namespace is allowed.
    let own = as_user(
        &redis,
        "lab-rw",
        "pw-lab",
        &["XREAD", "COUNT", "1", "STREAMS", "lab:presence", "0-0"],
    )
    .await;
    assert!(!own.is_error(), "{own:?}");
}

#[tokio::test]
async fn a_command_refused_at_connection_shows_permission_denied_in_health() {
    let redis = RedisFixture::start().await;
    set_user(&redis, "fleet-rw", "pw", "fleet", COMMANDS).await;
    // A URL naming a database needs `+select`, which COMMANDS lacks: the
    // connection set-up is refused.
    let d = daemon(
        format!("{}/1", url(&redis, "fleet-rw", "pw")),
        "alpha",
        "fleet",
    )
    .await;
    let h = assert_eventually!(
        d.health().await,
        |h| h["redis"] == "error"
            && h["redis_error"]
                .as_str()
                .is_some_and(|e| e.starts_with("permission denied") && e.contains("select")),
        timeout = WAIT
    );
    eprintln!("a user without SELECT: {h}");
}

#[tokio::test]
async fn a_command_refused_after_connecting_is_logged_with_its_name() {
    let redis = RedisFixture::start().await;
    let without_xread = COMMANDS.replace("+xread ", "");
    set_user(&redis, "fleet-rw", "pw", "fleet", &without_xread).await;
    let d = daemon(url(&redis, "fleet-rw", "pw"), "alpha", "fleet").await;
    assert_eventually!(
        d.logs()
            .lines()
            .any(|l| l.contains("NOPERM") && l.contains("'xread'")),
        timeout = WAIT
    );
    assert!(
        acl_log(&redis).await.iter().any(|e| e.contains("xread")),
        "Redis logged the refusal too"
    );
}

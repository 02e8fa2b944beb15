//! Smoke tests of the fixtures themselves: Redis start, commands, kill and restart;
//! `assert_eventually!`; and a daemon that answers `/v1/health`.

use std::time::Duration;

use fleet_tests::{
    DaemonFixture, RedisFixture, RespValue, StatusCode, assert_eventually, eventually,
};

const STREAM: &str = "fleet:events:{alpha}";

async fn xlen(redis: &RedisFixture) -> i64 {
    let reply = redis.command(&["XLEN", STREAM]).await;
    reply
        .as_int()
        .unwrap_or_else(|| panic!("XLEN answered {reply:?}"))
}

#[tokio::test]
async fn redis_fixture_answers_and_restarts_empty() {
    let mut redis = RedisFixture::start().await;
    assert_eq!(
        redis.command(&["PING"]).await,
        RespValue::Simple("PONG".into())
    );
    assert!(redis.url().ends_with(&format!(":{}", redis.port())));

    let id = redis
        .command(&["XADD", STREAM, "*", "v", "1", "kind", "event"])
        .await;
    assert!(
        id.as_str().is_some_and(|id| id.contains('-')),
        "XADD answered {id:?}"
    );
    assert_eq!(xlen(&redis).await, 1);
    let range = redis.command(&["XRANGE", STREAM, "-", "+"]).await;
    assert_eq!(
        range.as_array().map(<[RespValue]>::len),
        Some(1),
        "{range:?}"
    );

    let port = redis.port();
    redis.kill();
    assert!(!redis.is_running());
    assert!(redis.try_command(&["PING"]).await.is_err());

    redis.restart_same_port().await;
    assert_eq!(redis.port(), port);
    assert_eq!(
        xlen(&redis).await,
        0,
        "a non-persistent Redis restarts empty"
    );
}

#[tokio::test]
async fn persistent_redis_keeps_streams_across_a_kill() {
    let mut redis = RedisFixture::builder().persistent(true).start().await;
    for n in 0..3 {
        redis
            .command(&["XADD", STREAM, "*", "n", &n.to_string()])
            .await;
    }
    redis.kill();
    redis.restart_same_port().await;
    assert_eq!(xlen(&redis).await, 3);
}

#[tokio::test]
async fn assert_eventually_waits_for_a_condition_and_yields_its_value() {
    let redis = RedisFixture::start().await;
    let writer = {
        let addr = redis.addr();
        tokio::spawn(async move {
            for n in 0..5 {
                let n = n.to_string();
                fleet_tests::resp::command(addr, &["XADD", STREAM, "*", "n", n.as_str()])
                    .await
                    .expect("XADD");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let len = assert_eventually!(xlen(&redis).await, |n| *n == 5);
    assert_eq!(len, 5);
    writer.await.expect("writer task");

    let info = assert_eventually!(
        redis
            .command(&["INFO", "commandstats"])
            .await
            .as_str()
            .map(str::to_owned),
        timeout = Duration::from_secs(2),
    );
    assert!(info.contains("cmdstat_xadd"), "{info}");

    let mut polls = 0;
    let value = eventually(
        Duration::from_secs(2),
        Duration::from_millis(1),
        async || {
            polls += 1;
            if polls >= 3 { Ok(polls) } else { Err(polls) }
        },
    )
    .await;
    assert_eq!(value, 3);
}

#[tokio::test]
#[should_panic(expected = "last observed: 42")]
async fn assert_eventually_reports_the_last_value_on_timeout() {
    let value = 42;
    assert_eventually!(value, |v| *v == 7, timeout = Duration::from_millis(100));
}

#[tokio::test]
async fn daemon_health() {
    let mut daemon = DaemonFixture::builder().computer("smoke").start().await;
    let (status, body) = daemon.http_get("/v1/health").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["computer"], "smoke", "{body}");
    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log_tail(40));
}

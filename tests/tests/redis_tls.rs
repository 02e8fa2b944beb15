//! TLS to Redis with the daemon's own CA and client certificate files
//! (`--redis-ca-file`, `--redis-cert-file`, `--redis-key-file`), against a
//! real `redis-server --tls-port` with a CA and certificates made by the
//! test (openssl): server-only TLS, mutual TLS (`--tls-auth-clients yes`),
//! a CA that did not sign the server's certificate, and bad files refused
//! at start with exit code 2.

use std::path::Path;
use std::time::Duration;

use fleet_tests::{
    DaemonFixture, RedisFixture, TlsFiles, Value, WsClient, assert_eventually, free_port, json,
};

/// A failing TLS connection may only show at fred's connect timeout (10 s).
const WAIT: Duration = Duration::from_secs(40);

/// A `redis-server` with a plain port (for the fixture's own checks) and a
/// TLS port using `tls`'s files, asking for client certificates or not.
async fn tls_redis(tls: &TlsFiles, mutual: bool) -> (RedisFixture, u16) {
    let tls_port = free_port();
    let args = if mutual {
        tls.redis_args_mutual(tls_port)
    } else {
        tls.redis_args(tls_port)
    };
    let mut builder = RedisFixture::builder();
    for arg in args {
        builder = builder.arg(arg);
    }
    (builder.start().await, tls_port)
}

/// The files a daemon is given: a CA, and a client certificate and key.
struct Files<'a> {
    ca: &'a Path,
    client: Option<(&'a Path, &'a Path)>,
}

async fn daemon(name: &str, tls_port: u16, files: Files<'_>) -> DaemonFixture {
    let mut builder = DaemonFixture::builder()
        .computer(name)
        .redis(format!("rediss://127.0.0.1:{tls_port}"))
        .heartbeat_ms(200)
        .arg("--redis-ca-file")
        .arg(files.ca);
    if let Some((cert, key)) = files.client {
        // Through the environment, to cover that source as well.
        builder = builder
            .env("FLEET_REDIS_CERT_FILE", cert)
            .env("FLEET_REDIS_KEY_FILE", key);
    }
    builder.start().await
}

/// `(redis, redis_error)` from `/v1/health`.
async fn link(d: &DaemonFixture) -> (String, Option<String>) {
    let h = d.health().await;
    (
        h["redis"].as_str().unwrap_or_default().to_owned(),
        h.get("redis_error")
            .and_then(Value::as_str)
            .map(str::to_owned),
    )
}

/// Waits until both daemons see each other over Redis.
async fn paired(a: &DaemonFixture, b: &DaemonFixture) {
    for d in [a, b] {
        assert_eventually!(
            d.health().await,
            |h| h["redis"] == "connected" && h["peers"] == json!(1),
            timeout = WAIT
        );
    }
}

/// A session created on `a` reaches `b`'s WebSocket client, and so does a
/// change to it.
async fn propagates(a: &DaemonFixture, b: &DaemonFixture) {
    let mut ws: WsClient = b.ws().await;
    ws.subscribe("sessions").await;
    let (status, s) = a
        .http_post_json("/v1/sessions", &json!({ "title": "over TLS" }))
        .await;
    assert_eq!(status, 201, "{s}");
    let id = s["session_id"].as_str().unwrap_or_default().to_owned();
    let started = ws.next_event_named("session_started", WAIT).await;
    assert_eq!(started["data"]["session_id"], json!(id), "{started}");
    let (status, v) = a
        .http_patch_json(
            &format!("/v1/sessions/{id}"),
            &json!({ "status": "waiting" }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let updated = ws.next_event_named("session_updated", WAIT).await;
    assert_eq!(updated["data"]["status"], "waiting", "{updated}");
}

#[tokio::test]
async fn server_only_tls_with_our_ca_carries_the_fleet() {
    let tls = TlsFiles::generate();
    let (_redis, port) = tls_redis(&tls, false).await;
    let ca = tls.ca_cert();
    let a = daemon(
        "alpha",
        port,
        Files {
            ca: &ca,
            client: None,
        },
    )
    .await;
    let b = daemon(
        "beta",
        port,
        Files {
            ca: &ca,
            client: None,
        },
    )
    .await;
    paired(&a, &b).await;
    propagates(&a, &b).await;
}

#[tokio::test]
async fn mutual_tls_admits_daemons_with_a_client_certificate_only() {
    let tls = TlsFiles::generate();
    let (redis, port) = tls_redis(&tls, true).await;
    let (ca, cert, key) = (tls.ca_cert(), tls.client_cert(), tls.client_key());
    let with = || Files {
        ca: &ca,
        client: Some((&cert, &key)),
    };
    let a = daemon("alpha", port, with()).await;
    let b = daemon("beta", port, with()).await;
    paired(&a, &b).await;
    propagates(&a, &b).await;

    // Without a certificate the server ends the handshake with an alert:
    // an error that needs an operator, naming the certificate the server
    // requires (not "not trusted": the server's own is fine), and no peer.
    let c = daemon(
        "gamma",
        port,
        Files {
            ca: &ca,
            client: None,
        },
    )
    .await;
    let (_, error) = assert_eventually!(
        link(&c).await,
        |l| l.0 == "error"
            && l.1.as_deref().is_some_and(
                |e| e.starts_with("TLS handshake failed") && e.contains("CertificateRequired")
            ),
        timeout = WAIT
    );
    eprintln!("no client certificate: redis_error = {error:?}");
    assert_eq!(c.health().await["peers"], json!(0));
    let log = redis.logs();
    assert!(
        log.contains("certificate") || log.contains("Error accepting a client connection"),
        "the server refused the handshake:\n{log}"
    );
    // The others are not disturbed.
    assert_eq!(a.health().await["redis"], "connected");
}

#[tokio::test]
async fn a_ca_that_did_not_sign_the_server_is_a_certificate_error() {
    let server_tls = TlsFiles::generate();
    let other = TlsFiles::generate();
    let (_redis, port) = tls_redis(&server_tls, false).await;
    let ca = other.ca_cert();
    let d = daemon(
        "alpha",
        port,
        Files {
            ca: &ca,
            client: None,
        },
    )
    .await;

    let (_, error) = assert_eventually!(
        link(&d).await,
        |l| l.0 == "error" && l.1.as_deref().is_some_and(|e| e.contains("certificate")),
        timeout = WAIT
    );
    let error = error.unwrap_or_default();
    assert!(error.starts_with("TLS certificate not trusted"), "{error}");
    // It keeps serving locally.
    let (status, created) = d
        .http_post_json("/v1/sessions", &json!({ "title": "local only" }))
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, list) = d.http_get("/v1/sessions").await;
    assert_eq!(status, 200);
    assert!(
        list.as_array()
            .is_some_and(|a| a.iter().any(|s| s["session_id"] == created["session_id"])),
        "{list}"
    );
}

#[tokio::test]
async fn bad_tls_files_stop_the_daemon_with_exit_2_naming_the_flag() {
    let tls = TlsFiles::generate();
    let garbage = tls.client_cert().with_file_name("garbage.pem");
    std::fs::write(&garbage, "not PEM\n").expect("write garbage.pem");
    let missing = tls.client_cert().with_file_name("missing.pem");
    let url = format!("rediss://127.0.0.1:{}", free_port());
    let cases: Vec<(Vec<&Path>, &str)> = vec![
        (vec![&missing], "--redis-ca-file: cannot read"),
        (vec![&garbage], "--redis-ca-file: "),
    ];
    for (files, flag) in cases {
        let mut d = DaemonFixture::builder()
            .redis(url.clone())
            .arg("--redis-ca-file")
            .arg(files[0])
            .spawn();
        let status = d.wait_for_exit(Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(2), "{}", d.logs());
        assert!(d.logs().contains(flag), "{}", d.logs());
    }
    // A certificate without its key.
    let mut d = DaemonFixture::builder()
        .redis(url)
        .arg("--redis-cert-file")
        .arg(tls.client_cert())
        .spawn();
    let status = d.wait_for_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(2), "{}", d.logs());
    assert!(
        d.logs().contains("--redis-cert-file: ") && d.logs().contains("needs its private key"),
        "{}",
        d.logs()
    );
}

//! The listener's limits over a real socket: the body timeout (408), the
//! header timeout (closed), the connection cap (503), and the JSON body on
//! hyper's own parse-error answers (400, 414, 431).

use super::*;
use crate::RestConfig;
use crate::server::serve;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Generous bound for anything the server must do "at once".
const PATIENCE: Duration = Duration::from_secs(10);

/// A served API on a loopback port; stops when dropped.
struct Served {
    addr: std::net::SocketAddr,
    cancel: CancellationToken,
    f: Fixture,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn served(config: RestConfig) -> Served {
    let f = fixture_with(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    tokio::spawn(serve(
        f.api.clone(),
        listener,
        None,
        cancel.clone(),
        Duration::from_millis(200),
    ));
    Served { addr, cancel, f }
}

fn short_timeouts() -> RestConfig {
    RestConfig {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..RestConfig::default()
    }
}

/// Sends `raw` and reads until the server closes (bounded).
async fn exchange(addr: std::net::SocketAddr, raw: &[u8]) -> String {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(raw).await.unwrap();
    read_to_close(&mut conn).await
}

async fn read_to_close(conn: &mut TcpStream) -> String {
    let mut got = Vec::new();
    tokio::time::timeout(PATIENCE, conn.read_to_end(&mut got))
        .await
        .expect("the server closes the connection")
        .unwrap();
    String::from_utf8_lossy(&got).into_owned()
}

/// Status and `error.code` of a raw answer with a JSON body.
fn status_and_code(raw: &str) -> (u16, String) {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head: {raw:?}"));
    let status = head[9..12].parse().unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("body not JSON ({e}): {body:?}"));
    assert!(v["error"]["message"].is_string(), "{v}");
    (status, v["error"]["code"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_unfinished_body_is_408_and_closed() {
    let s = served(short_timeouts()).await;
    for raw in [
        &b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"[..],
        b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"tit",
    ] {
        let got = exchange(s.addr, raw).await;
        assert_eq!(status_and_code(&got), (408, "request_timeout".into()), "{got}");
        assert!(got.to_ascii_lowercase().contains("connection: close"), "{got}");
    }
    // Nothing was written.
    assert!(s.f.cache.sessions_json(None).len() <= 2);
}

#[tokio::test]
async fn an_unfinished_head_is_closed() {
    let s = served(short_timeouts()).await;
    let got = exchange(s.addr, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n").await;
    assert_eq!(got, "", "hyper closes without an answer");
}

#[tokio::test]
async fn http_layer_errors_have_json_bodies() {
    let s = served(RestConfig::default()).await;
    let long_target = format!(
        "GET /v1/{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(crate::MAX_URI_BYTES + 1)
    );
    let many_fields = format!(
        "GET /v1/health HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..crate::MAX_HEADER_FIELDS)
            .map(|i| format!("x-f{i}: 1\r\n"))
            .collect::<String>()
    );
    for (raw, status, code) in [
        ("GARBAGE\r\n\r\n".to_owned(), 400, "bad_request"),
        (
            "GET /v1/health HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n".to_owned(),
            400,
            "bad_request",
        ),
        (
            "GET /v1/health HTTP/9.9\r\nHost: x\r\n\r\n".to_owned(),
            400,
            "bad_request",
        ),
        (long_target, 414, "uri_too_long"),
        (many_fields, 431, "headers_too_large"),
    ] {
        let got = exchange(s.addr, raw.as_bytes()).await;
        assert_eq!(status_and_code(&got), (status, code.into()), "{got}");
    }
}

#[tokio::test]
async fn a_full_listener_answers_503_and_serves_again_when_one_closes() {
    let s = served(RestConfig {
        max_connections: 2,
        ..RestConfig::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(PATIENCE, c.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(c);
    }
    let got = exchange(s.addr, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status_and_code(&got), (503, "too_many_connections".into()));
    assert!(s.f.metrics.render().contains("too_many_connections"));
    drop(held.pop());
    // The server notices the close, then serves the next client.
    let mut last = String::new();
    for _ in 0..100 {
        last = exchange(
            s.addr,
            b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        if last.starts_with("HTTP/1.1 200") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never served again: {last}");
}

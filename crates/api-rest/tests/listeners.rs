//! Boundary tests against real listeners: bearer authentication on TCP,
//! the Unix socket without a token, the WebSocket hand-off, and a request
//! in flight that finishes while the listener drains.

use api_rest::{
    Api, ApiParts, HealthSource, LocalSessions, RefreshError, Refresher, Upgrader, WriteError,
    serve_tcp, serve_unix,
};
use bytes::Bytes;
use cache_core::{CacheConfig, DaemonCache};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use model::{
    Computer, Interest, Metrics, NewSession, RefreshScope, Session, SessionPatch, SessionStatus,
    SystemClock, Timestamp,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "s3cret-token";

/// A store whose writes take `delay`, then create a fixed session.
struct SlowStore {
    delay: Duration,
}

#[async_trait::async_trait]
impl LocalSessions for SlowStore {
    async fn create(&self, req: NewSession) -> Result<Session, WriteError> {
        tokio::time::sleep(self.delay).await;
        let now = Timestamp::from_millis(1_000);
        Ok(Session {
            session_id: "00000000-0000-4000-8000-000000000001".into(),
            computer: "alpha".into(),
            title: req.title,
            project_path: None,
            agent: "unknown".into(),
            thinking_mode: None,
            status: SessionStatus::Active,
            created_at: now,
            last_activity: now,
            last_input: None,
            last_output: None,
            rev: 1,
            stale: false,
        })
    }

    async fn update(&self, id: &str, _: SessionPatch) -> Result<Session, WriteError> {
        Err(WriteError::NotFound {
            session_id: id.into(),
        })
    }

    async fn end(&self, id: &str) -> Result<(), WriteError> {
        Err(WriteError::NotFound {
            session_id: id.into(),
        })
    }
}

struct NoRefresh;

impl Refresher for NoRefresh {
    fn refresh(&self, _: RefreshScope) -> Result<(), RefreshError> {
        Ok(())
    }
}

struct Standalone;

impl HealthSource for Standalone {
    fn redis_state(&self) -> &'static str {
        "disabled"
    }
}

/// Answers every upgrade with a marker instead of a real handshake.
struct MarkerUpgrader;

impl Upgrader for MarkerUpgrader {
    fn upgrade(&self, _: Request<Incoming>) -> Response<Full<Bytes>> {
        Response::new(Full::new(Bytes::from_static(b"upgrader")))
    }
}

fn api(delay: Duration) -> Api {
    let me = Computer {
        name: "alpha".into(),
        online: true,
        is_self: true,
        host: "alpha".into(),
        user: "me".into(),
        version: model::VERSION.into(),
        boot_id: "boot-1".into(),
        started_at: Timestamp::from_millis(0),
        last_seen: Timestamp::from_millis(0),
        remote_writes: false,
        stats: None,
        interest: Interest::default(),
    };
    Api::new(ApiParts {
        cache: DaemonCache::new(me, CacheConfig::default(), Arc::new(SystemClock)),
        sessions: Arc::new(SlowStore { delay }),
        remote: None,
        refresher: Arc::new(NoRefresh),
        upgrader: Some(Arc::new(MarkerUpgrader)),
        health: Arc::new(Standalone),
        metrics: Arc::new(Metrics::new()),
        version: model::VERSION.into(),
    })
}

/// An HTTP/1 client on one connection; the connection task lives in
/// `tasks`.
async fn client<S>(stream: S, tasks: &mut JoinSet<()>) -> SendRequest<Full<Bytes>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tasks.spawn(async move {
        let _ = conn.await;
    });
    sender
}

async fn get(
    sender: &mut SendRequest<Full<Bytes>>,
    path: &str,
    auth: Option<&str>,
) -> (StatusCode, hyper::HeaderMap, Bytes) {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("host", "localhost");
    if let Some(a) = auth {
        req = req.header(AUTHORIZATION, a);
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

#[tokio::test]
async fn tcp_requires_the_bearer_token() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let server = tokio::spawn(serve_tcp(
        api(Duration::ZERO),
        listener,
        Some(TOKEN.into()),
        cancel.clone(),
    ));
    let mut tasks = JoinSet::new();
    let mut c = client(TcpStream::connect(addr).await.unwrap(), &mut tasks).await;

    for path in ["/v1/health", "/metrics", "/v1/ws", "/v1/nothing"] {
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("Basic s3cret-token"),
            Some("Bearer s3cret-toke"),
        ] {
            let (status, headers, body) = get(&mut c, path, auth).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {auth:?}");
            assert_eq!(headers[WWW_AUTHENTICATE], "Bearer");
            assert_eq!(headers[CONTENT_TYPE], "application/json");
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["error"]["code"], "unauthorized");
        }
    }

    let right = format!("Bearer {TOKEN}");
    let (status, _, body) = get(&mut c, "/v1/health", Some(&right)).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["computer"], "alpha");
    assert_eq!(v["redis"], "disabled");
    let (status, _, body) = get(&mut c, "/v1/ws", Some(&right)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"upgrader");
    let (status, _, body) = get(&mut c, "/metrics", Some(&right)).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        text.contains(r#"route="/v1/health",method="GET",status="401""#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/ws",method="GET",status="200""#),
        "{text}"
    );

    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(7), server)
        .await
        .expect("serve_tcp stops on cancel")
        .unwrap();
    tasks.shutdown().await;
}

#[tokio::test]
async fn the_unix_socket_needs_no_token() {
    let dir = std::env::temp_dir().join(format!("api-rest-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fleetd.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let cancel = CancellationToken::new();
    let server = tokio::spawn(serve_unix(api(Duration::ZERO), listener, cancel.clone()));
    let mut tasks = JoinSet::new();
    let mut c = client(UnixStream::connect(&path).await.unwrap(), &mut tasks).await;
    let (status, _, body) = get(&mut c, "/v1/sessions", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"[]");
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(7), server)
        .await
        .expect("serve_unix stops on cancel")
        .unwrap();
    tasks.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_request_in_flight_finishes_while_draining() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let server = tokio::spawn(serve_tcp(
        api(Duration::from_millis(300)),
        listener,
        None,
        cancel.clone(),
    ));
    let mut tasks = JoinSet::new();
    let mut c = client(TcpStream::connect(addr).await.unwrap(), &mut tasks).await;
    let req = Request::post("/v1/sessions")
        .header("host", "localhost")
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(br#"{"title":"slow"}"#)))
        .unwrap();
    let pending = c.send_request(req);
    let stopper = {
        let cancel = cancel.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            cancel.cancel();
        }
    };
    let (resp, ()) = tokio::join!(pending, stopper);
    let resp = resp.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["title"], "slow");
    tokio::time::timeout(Duration::from_secs(2), server)
        .await
        .expect("serve_tcp stops once the request is answered")
        .unwrap();
    tasks.shutdown().await;
}

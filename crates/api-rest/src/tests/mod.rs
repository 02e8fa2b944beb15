//! Unit tests of [`Api::handle`] without sockets: an in-memory cache, a
//! fake session store that writes through to it, and one `call` helper so
//! an API change touches one place.

mod drain;
mod errors;
mod forwarding;
mod limits;
mod reads;
mod writes;

use crate::{
    Api, ApiParts, HealthSource, LocalSessions, RefreshError, RefreshScope, Refresher, WriteError,
};
use bytes::Bytes;
use cache_core::{CacheConfig, DaemonCache};
use http_body_util::{BodyExt, Full};
use hyper::header::CONTENT_TYPE;
use hyper::{HeaderMap, Method, Request, StatusCode};
use model::{
    Computer, Interest, Metrics, NewSession, Session, SessionPatch, SessionStatus, SystemClock,
    Timestamp,
};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub(crate) const LOCAL: &str = "alpha";

pub(crate) fn computer(name: &str) -> Computer {
    Computer {
        name: name.into(),
        online: true,
        is_self: false,
        host: name.into(),
        user: "me".into(),
        version: model::VERSION.into(),
        boot_id: format!("boot-{name}"),
        started_at: Timestamp::from_millis(0),
        last_seen: Timestamp::from_millis(0),
        remote_writes: false,
        stats: None,
        interest: Interest::default(),
    }
}

pub(crate) fn session(id: &str, computer: &str, rev: u64) -> Session {
    Session {
        session_id: id.into(),
        computer: computer.into(),
        title: format!("title {id}"),
        project_path: None,
        agent: "claude".into(),
        thinking_mode: None,
        status: SessionStatus::Active,
        created_at: Timestamp::from_millis(1_000),
        last_activity: Timestamp::from_millis(1_000 + i64::try_from(rev).unwrap()),
        last_input: None,
        last_output: None,
        rev,
        stale: false,
    }
}

/// A session store in memory, writing through to the cache like the
/// daemon's.
pub(crate) struct FakeStore {
    cache: DaemonCache,
    next: AtomicU64,
    /// How long each write takes (to test draining).
    pub(crate) delay: Mutex<Duration>,
    /// Set to make every write fail as unavailable.
    pub(crate) down: Mutex<bool>,
}

impl FakeStore {
    pub(crate) fn new(cache: DaemonCache) -> Self {
        Self {
            cache,
            next: AtomicU64::new(1),
            delay: Mutex::new(Duration::ZERO),
            down: Mutex::new(false),
        }
    }

    async fn before_write(&self) -> Result<(), WriteError> {
        let delay = *self.delay.lock();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if *self.down.lock() {
            return Err(WriteError::Unavailable {
                reason: "disk full".into(),
            });
        }
        Ok(())
    }

    fn held(&self, id: &str) -> Result<Session, WriteError> {
        // Like the real store, which holds this computer's sessions only.
        let not_found = || WriteError::NotFound {
            session_id: id.into(),
        };
        let record = self.cache.session(id).ok_or_else(not_found)?;
        if &*record.computer != LOCAL {
            return Err(not_found());
        }
        record.session().ok_or_else(|| WriteError::Unavailable {
            reason: "cached JSON does not decode".into(),
        })
    }
}

#[async_trait::async_trait]
impl LocalSessions for FakeStore {
    async fn create(&self, req: NewSession) -> Result<Session, WriteError> {
        self.before_write().await?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = req
            .session_id
            .clone()
            .unwrap_or_else(|| format!("00000000-0000-4000-8000-{n:012}"));
        let mut s = session(&id, LOCAL, 1);
        s.title = req.title;
        s.project_path = req.project_path;
        s.agent = req.agent.unwrap_or_else(|| "unknown".into());
        s.thinking_mode = req.thinking_mode;
        s.status = req.status.unwrap_or(SessionStatus::Active);
        self.cache.put_session(s.clone());
        Ok(s)
    }

    async fn update(&self, id: &str, patch: SessionPatch) -> Result<Session, WriteError> {
        // As the real store: it validates a patch, the API does not.
        patch.validate()?;
        self.before_write().await?;
        let mut s = self.held(id)?;
        if let Some(t) = patch.title {
            s.title = t;
        }
        if let Some(st) = patch.status {
            s.status = st;
        }
        if let Some(v) = patch.last_input {
            s.last_input = v;
        }
        if let Some(v) = patch.last_output {
            s.last_output = v;
        }
        if let Some(a) = patch.agent {
            s.agent = a;
        }
        if let Some(t) = patch.thinking_mode {
            s.thinking_mode = t;
        }
        s.rev += 1;
        self.cache.put_session(s.clone());
        Ok(s)
    }

    async fn end(&self, id: &str) -> Result<(), WriteError> {
        self.before_write().await?;
        let mut s = self.held(id)?;
        s.status = SessionStatus::Closed;
        s.rev += 1;
        self.cache.put_session(s);
        Ok(())
    }
}

/// Records every refresh asked for.
#[derive(Default)]
pub(crate) struct FakeRefresher {
    pub(crate) asked: Mutex<Vec<RefreshScope>>,
    pub(crate) down: Mutex<bool>,
}

impl Refresher for FakeRefresher {
    fn refresh(&self, req: RefreshScope) -> Result<(), RefreshError> {
        if *self.down.lock() {
            return Err(RefreshError::Unavailable {
                reason: "redis unreachable".into(),
            });
        }
        self.asked.lock().push(req);
        Ok(())
    }
}

pub(crate) struct Connected;

impl HealthSource for Connected {
    fn redis_state(&self) -> &'static str {
        "connected"
    }
}

pub(crate) struct Fixture {
    pub(crate) api: Api,
    pub(crate) cache: DaemonCache,
    pub(crate) store: Arc<FakeStore>,
    pub(crate) refresher: Arc<FakeRefresher>,
    pub(crate) metrics: Arc<Metrics>,
}

pub(crate) fn fixture() -> Fixture {
    fixture_with(crate::RestConfig::default())
}

/// A fixture whose listeners use `config`.
pub(crate) fn fixture_with(config: crate::RestConfig) -> Fixture {
    fixture_full(config, None)
}

/// A fixture that forwards other computers' writes to `remote`.
pub(crate) fn fixture_full(
    config: crate::RestConfig,
    remote: Option<Arc<dyn crate::RemoteSessions>>,
) -> Fixture {
    let cache = DaemonCache::new(
        computer(LOCAL),
        CacheConfig::default(),
        Arc::new(SystemClock),
    );
    let store = Arc::new(FakeStore::new(cache.clone()));
    let refresher = Arc::new(FakeRefresher::default());
    let metrics = Arc::new(Metrics::new());
    let api = Api::with_config(
        ApiParts {
            cache: cache.clone(),
            sessions: store.clone(),
            remote,
            refresher: refresher.clone(),
            upgrader: None,
            health: Arc::new(Connected),
            metrics: metrics.clone(),
            version: "9.9.9".into(),
        },
        config,
    );
    Fixture {
        api,
        cache,
        store,
        refresher,
        metrics,
    }
}

/// An answer, read whole.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The `code` of an error answer, after checking its shape.
    pub(crate) fn error_code(&self) -> String {
        assert_eq!(self.headers[CONTENT_TYPE], "application/json");
        let v = self.json();
        assert!(v["error"]["message"].is_string(), "{v}");
        v["error"]["code"].as_str().unwrap().to_owned()
    }
}

/// Sends one request with an optional JSON body.
pub(crate) async fn call(api: &Api, method: Method, uri: &str, body: Option<&str>) -> Answer {
    let req = Request::builder().method(method).uri(uri);
    let req = match body {
        Some(b) => req
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(b.to_owned()))),
        None => req.body(Full::new(Bytes::new())),
    };
    send(api, req.unwrap()).await
}

pub(crate) async fn send(api: &Api, req: Request<Full<Bytes>>) -> Answer {
    let resp = api.handle(req).await;
    let (parts, body) = resp.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

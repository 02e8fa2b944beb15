//! [`Api`]: what every handler needs, and the answer to one request with
//! its log line and metrics.

use crate::config::RestConfig;
use crate::error::ApiError;
use crate::ports::{HealthSource, LocalSessions, RemoteSessions, Upgrader};
use crate::router::{self, Route};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::{Method, Request, Response};
use model::Metrics;
use model::Refresher;
use model::metrics::{RequestLabels, RouteLabels};
use std::sync::Arc;
use tokio::time::Instant;

/// Everything the API is built from; the daemon fills it in.
pub struct ApiParts {
    /// The fleet cache every read is answered from.
    pub cache: cache_core::DaemonCache,
    /// Writes to this computer's sessions.
    pub sessions: Arc<dyn LocalSessions>,
    /// Writes to other computers' sessions, forwarded to their owners;
    /// `None` (standalone) answers them 503 `peer_unreachable`.
    pub remote: Option<Arc<dyn RemoteSessions>>,
    /// Starts background refreshes (`POST /v1/refresh`).
    pub refresher: Arc<dyn Refresher>,
    /// The WebSocket endpoint for `GET /v1/ws`; `None` answers it 404.
    pub upgrader: Option<Arc<dyn Upgrader>>,
    /// The fleet link's state, for `/v1/health`.
    pub health: Arc<dyn HealthSource>,
    /// The daemon's metrics, rendered by `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// The daemon's version, reported by `/v1/health`.
    pub version: String,
}

impl std::fmt::Debug for ApiParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiParts")
            .field("cache", &self.cache)
            .field("upgrader", &self.upgrader.is_some())
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The local API: answers `/v1` and `/metrics` requests.
///
/// Cheap to clone (an `Arc` inside). Serve it with [`crate::serve_unix`]
/// and [`crate::serve_tcp`], or call [`Api::handle`] directly in tests.
#[derive(Debug, Clone)]
pub struct Api {
    parts: Arc<ApiParts>,
    config: Arc<RestConfig>,
}

impl Api {
    /// An API over `parts`, served with the default [`RestConfig`].
    pub fn new(parts: ApiParts) -> Self {
        Self::with_config(parts, RestConfig::default())
    }

    /// An API over `parts`, whose listeners use `config`'s timeouts and
    /// connection cap.
    pub fn with_config(parts: ApiParts, config: RestConfig) -> Self {
        Self {
            parts: Arc::new(parts),
            config: Arc::new(config),
        }
    }

    /// What the handlers need.
    pub(crate) fn parts(&self) -> &ApiParts {
        &self.parts
    }

    /// The listeners' limits.
    pub fn config(&self) -> &RestConfig {
        &self.config
    }

    /// Answers one request: every route but a live WebSocket upgrade
    /// (`serve_*` hands `GET /v1/ws` to the [`Upgrader`] before this).
    ///
    /// Never fails: a refused request gets its JSON error answer, is
    /// logged at debug and counted in `dropped_inputs`; every request is
    /// counted in `http_requests` and timed in `http_latency`.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let route = Route::parse(req.uri().path());
        let pattern = route.pattern();
        let method = req.method().clone();
        let result = router::dispatch(&self.parts, route, req).await;
        self.finish(pattern, &method, started, result)
    }

    /// Turns a handler's result into the answer, logging and counting it.
    pub(crate) fn finish(
        &self,
        route: &'static str,
        method: &Method,
        started: Instant,
        result: Result<Response<Full<Bytes>>, ApiError>,
    ) -> Response<Full<Bytes>> {
        let resp = match result {
            Ok(resp) => resp,
            Err(e) => {
                self.log_refusal(route, method, &e);
                e.into_response()
            }
        };
        self.record(route, method, resp.status().as_u16(), started);
        resp
    }

    /// Counts one answered request and its latency.
    pub(crate) fn record(
        &self,
        route: &'static str,
        method: &Method,
        status: u16,
        started: Instant,
    ) {
        let m = &self.parts.metrics;
        m.http_requests
            .get_or_create(&RequestLabels {
                route,
                method: method_label(method).to_owned(),
                status,
            })
            .inc();
        m.http_latency
            .get_or_create(&RouteLabels { route })
            .observe(started.elapsed().as_secs_f64());
    }

    fn log_refusal(&self, route: &'static str, method: &Method, e: &ApiError) {
        let code = e.code();
        if e.is_client_error() {
            tracing::debug!(route, method = %method, code, reason = %e, "request refused");
            self.parts.metrics.dropped("rest", code);
        } else if matches!(e, ApiError::Internal(_)) {
            tracing::error!(route, method = %method, code, error = %e, "request failed");
        } else {
            tracing::info!(route, method = %method, code, reason = %e, "request unavailable");
        }
    }
}

/// The method as a metric label: the standard ones by name, anything else
/// as `other` so that clients cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

//! The daemon's metrics, shared by every crate through one `Arc<Metrics>`
//! and rendered in the Prometheus text format by `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of an HTTP request metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route pattern, e.g. `/v1/sessions/{id}` (never the raw path, so
    /// the label set stays small).
    pub route: &'static str,
    /// HTTP method.
    pub method: String,
    /// HTTP status code.
    pub status: u16,
}

/// Labels of a route's latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route pattern.
    pub route: &'static str,
}

/// Labels of a dropped input.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DropLabels {
    /// Where the input came from: `rest`, `ws`, `redis`, `disk`.
    pub source: &'static str,
    /// Why it was dropped, as a short fixed word.
    pub reason: &'static str,
}

/// Labels of a cache size gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// What is counted: `sessions`, `projects`, `todos`, `computers`.
    pub kind: &'static str,
}

/// Every metric of the daemon.
pub struct Metrics {
    registry: Registry,
    /// HTTP requests answered, by route, method and status.
    pub http_requests: Family<RequestLabels, Counter>,
    /// HTTP request latency in seconds, by route.
    pub http_latency: Family<RouteLabels, Histogram>,
    /// WebSocket clients connected now.
    pub ws_clients: Gauge,
    /// WebSocket clients closed because their queue passed the limit.
    pub ws_slow_closed: Counter,
    /// Records held by the cache, by kind.
    pub cache_records: Family<KindLabels, Gauge>,
    /// Inputs refused or dropped, by source and reason.
    pub dropped_inputs: Family<DropLabels, Counter>,
    /// Changes published to local subscribers.
    pub changes_published: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric under the `fleet_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("fleet");
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0,
            ])
        });
        let ws_clients = Gauge::default();
        let ws_slow_closed = Counter::default();
        let cache_records = Family::<KindLabels, Gauge>::default();
        let dropped_inputs = Family::<DropLabels, Counter>::default();
        let changes_published = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests answered",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_latency.clone(),
        );
        registry.register(
            "ws_clients",
            "WebSocket clients connected",
            ws_clients.clone(),
        );
        registry.register(
            "ws_slow_closed",
            "WebSocket clients closed for falling behind (4008)",
            ws_slow_closed.clone(),
        );
        registry.register(
            "cache_records",
            "Records held by the cache",
            cache_records.clone(),
        );
        registry.register(
            "dropped_inputs",
            "Inputs refused or dropped, by source and reason",
            dropped_inputs.clone(),
        );
        registry.register(
            "changes_published",
            "Changes published to local subscribers",
            changes_published.clone(),
        );
        Self {
            registry,
            http_requests,
            http_latency,
            ws_clients,
            ws_slow_closed,
            cache_records,
            dropped_inputs,
            changes_published,
        }
    }

    /// Counts one dropped input.
    pub fn dropped(&self, source: &'static str, reason: &'static str) {
        self.dropped_inputs
            .get_or_create(&DropLabels { source, reason })
            .inc();
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

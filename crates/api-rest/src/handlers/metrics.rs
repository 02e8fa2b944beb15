//! `GET /metrics`: the daemon's metrics in the Prometheus text format.

use super::Answer;
use crate::parts::ApiParts;
use crate::query::Query;
use crate::response::{self, PROMETHEUS_TEXT};
use bytes::Bytes;
use hyper::StatusCode;
use model::metrics::KindLabels;

/// Updates the cache-size gauges, then renders every metric.
pub(crate) fn get(api: &ApiParts, query: Option<&str>) -> Answer {
    Query::parse(query, &[])?;
    let counts = api.cache.counts();
    for (kind, n) in [
        ("sessions", counts.sessions),
        ("projects", counts.projects),
        ("todos", counts.todos),
        ("computers", counts.computers),
    ] {
        api.metrics
            .cache_records
            .get_or_create(&KindLabels { kind })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    Ok(response::with_type(
        StatusCode::OK,
        PROMETHEUS_TEXT,
        Bytes::from(api.metrics.render()),
    ))
}

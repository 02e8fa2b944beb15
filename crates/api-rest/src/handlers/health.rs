//! `GET /v1/health`: who answers, and the state of its fleet link.

use super::{Answer, serialized};
use crate::parts::ApiParts;
use crate::query::Query;
use hyper::StatusCode;
use serde::Serialize;

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    computer: &'a str,
    version: &'a str,
    boot_id: &'a str,
    redis: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    redis_error: Option<String>,
    peers: usize,
}

/// Answers the health document.
pub(crate) fn get(api: &ApiParts, query: Option<&str>) -> Answer {
    Query::parse(query, &[])?;
    let redis = api.health.redis();
    serialized(
        StatusCode::OK,
        &Health {
            status: "ok",
            computer: api.cache.local_name(),
            version: &api.version,
            boot_id: api.cache.epoch(),
            redis: redis.state,
            redis_error: redis.error,
            peers: api.cache.online_peers(),
        },
    )
}

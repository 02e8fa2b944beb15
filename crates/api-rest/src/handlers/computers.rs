//! `GET /v1/computers`: this computer first, then peers by name.

use super::{Answer, ok_bytes};
use crate::parts::ApiParts;
use crate::query::Query;

/// Answers every known computer.
pub(crate) fn list(api: &ApiParts, query: Option<&str>) -> Answer {
    Query::parse(query, &[])?;
    ok_bytes(api.cache.computers_json())
}

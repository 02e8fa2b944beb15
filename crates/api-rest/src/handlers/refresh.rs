//! `POST /v1/refresh`: drop cached data and pull it again in the
//! background; answered 202 at once.

use super::{Answer, serialized};
use crate::body;
use crate::parts::ApiParts;
use crate::query::Query;
use hyper::body::Body;
use hyper::{HeaderMap, StatusCode};
use model::{RefreshRequest, RefreshScope};
use serde::Serialize;

#[derive(Serialize)]
struct Accepted {
    status: &'static str,
}

/// Validates the optional body and starts the refresh.
pub(crate) async fn post<B>(
    api: &ApiParts,
    query: Option<&str>,
    headers: &HeaderMap,
    body: B,
) -> Answer
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Query::parse(query, &[])?;
    let bytes = body::read(headers, body).await?;
    let req: RefreshRequest = body::decode_optional(&bytes)?;
    api.refresher.refresh(RefreshScope::from_request(req)?)?;
    serialized(StatusCode::ACCEPTED, &Accepted { status: "accepted" })
}

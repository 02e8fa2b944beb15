//! `/v1/sessions` and `/v1/sessions/{id}`: reads from the cache, writes
//! through [`LocalSessions`](crate::LocalSessions) after checking in the
//! cache that the session is this computer's own.

use super::{Answer, ok_bytes, serialized};
use crate::api::ApiParts;
use crate::body;
use crate::error::ApiError;
use crate::query::Query;
use crate::response;
use hyper::body::Body;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{HeaderMap, StatusCode};
use model::{NewSession, SessionPatch};

/// `GET /v1/sessions?computer=X`: local and cached remote sessions, newest
/// activity first.
pub(crate) fn list(api: &ApiParts, query: Option<&str>) -> Answer {
    let q = Query::parse(query, &["computer"])?;
    ok_bytes(api.cache.sessions_json(q.computer()?))
}

/// `GET /v1/sessions/{id}`.
pub(crate) fn get(api: &ApiParts, query: Option<&str>, id: &str) -> Answer {
    Query::parse(query, &[])?;
    match api.cache.session(id) {
        Some(record) => ok_bytes(record.json.clone()),
        None => Err(not_found(id)),
    }
}

/// `POST /v1/sessions`: creates a local session, 201. With a client-chosen
/// `session_id` already held here: 200 with the current state when it is
/// this computer's (nothing is written), 409 when another computer owns it.
pub(crate) async fn create<B>(
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
    let req: NewSession = body::decode(&bytes)?;
    req.validate()?;
    if let Some(id) = req.session_id.as_deref()
        && let Some(record) = api.cache.session(id)
    {
        ensure_local(api, id, &record.computer)?;
        return ok_bytes(record.json.clone());
    }
    let session = api.sessions.create(req).await?;
    let mut resp = serialized(StatusCode::CREATED, &session)?;
    // A UUID or a checked client id always makes a valid header value; skip
    // the header otherwise.
    if let Ok(location) = HeaderValue::try_from(format!("/v1/sessions/{}", session.session_id)) {
        resp.headers_mut().insert(LOCATION, location);
    }
    Ok(resp)
}

/// `PATCH /v1/sessions/{id}`: changes a local session, 200 with its new
/// state; 409 for another computer's. An empty patch changes nothing and
/// answers the current state.
pub(crate) async fn update<B>(
    api: &ApiParts,
    query: Option<&str>,
    id: &str,
    headers: &HeaderMap,
    body: B,
) -> Answer
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Query::parse(query, &[])?;
    let bytes = body::read(headers, body).await?;
    let patch: SessionPatch = body::decode(&bytes)?;
    patch.validate()?;
    let held = api.cache.session(id);
    if let Some(record) = &held {
        ensure_local(api, id, &record.computer)?;
        if patch.is_empty() {
            return ok_bytes(record.json.clone());
        }
    }
    let session = api.sessions.update(id, patch).await?;
    serialized(StatusCode::OK, &session)
}

/// `DELETE /v1/sessions/{id}`: ends a local session, 204; 409 for another
/// computer's.
pub(crate) async fn end(api: &ApiParts, query: Option<&str>, id: &str) -> Answer {
    Query::parse(query, &[])?;
    if let Some(record) = api.cache.session(id) {
        ensure_local(api, id, &record.computer)?;
    }
    api.sessions.end(id).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

fn ensure_local(api: &ApiParts, id: &str, owner: &str) -> Result<(), ApiError> {
    if owner == api.cache.local_name() {
        Ok(())
    } else {
        Err(ApiError::Conflict(format!(
            "session {id:?} belongs to computer {owner:?}; only its owner changes it"
        )))
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no session {id:?}"))
}

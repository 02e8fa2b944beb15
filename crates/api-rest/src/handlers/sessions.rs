//! `/v1/sessions` and `/v1/sessions/{id}`: reads from the cache; writes
//! of this computer's sessions through [`LocalSessions`], writes of
//! another computer's forwarded to it through
//! [`RemoteSessions`](crate::RemoteSessions) (the cache says who owns a
//! session). The `*_local` functions never forward: the owner's side of a
//! forwarded write uses them.

use super::{Answer, ok_bytes, serialized};
use crate::body;
use crate::error::ApiError;
use crate::parts::ApiParts;
use crate::ports::LocalSessions;
use crate::query::Query;
use crate::response;
use cache_core::DaemonCache;
use hyper::body::Body;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{HeaderMap, StatusCode};
use model::forwarded::{ForwardedWrite, WriteOp, WriteReply};
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

/// `POST /v1/sessions`: creates a local session, 201; with `"computer"`
/// another computer's name, forwarded to it (section 5). With a
/// client-chosen `session_id` already held here: 200 with the current state
/// when it is this computer's (nothing is written), 409 when another
/// computer owns it.
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
    if let Some(owner) = req.computer.as_deref()
        && owner != api.cache.local_name()
    {
        if !api.cache.computers().iter().any(|c| c.name == owner) {
            return Err(ApiError::NotFound(format!(
                "no computer {owner:?} in the fleet (GET /v1/computers lists them)"
            )));
        }
        let write = ForwardedWrite {
            op: WriteOp::Create,
            session_id: None,
            body: Some(json_value(&bytes)?),
        };
        return forward(api, owner, write).await;
    }
    create_local(&api.cache, api.sessions.as_ref(), req).await
}

/// Creates a session on this computer: 201 with a `Location` header; a
/// client-chosen id already held answers 200 with the current state (this
/// computer's) or 409 (another's).
///
/// The id of a session of this computer that ended (an agent session
/// resumed) is created again, 201: the store continues above the end's
/// revision, so this cache and every peer's, which keep the end for the
/// stale retention, take the new session at once. The id of another
/// computer's session that ended within the stale retention is 409: only
/// its owner knows the end's revision, and a session of that id here would
/// be hidden by the end the caches remember.
pub(crate) async fn create_local(
    cache: &DaemonCache,
    sessions: &dyn LocalSessions,
    req: NewSession,
) -> Answer {
    if let Some(id) = req.session_id.as_deref() {
        if let Some(record) = cache.session(id) {
            ensure_local(cache, id, &record.computer)?;
            return ok_bytes(record.json.clone());
        }
        if let Some(owner) = cache.ended_session_owner(id)
            && owner != cache.local_name()
        {
            let retention = cache.config().stale_retention.as_secs();
            return Err(ApiError::Conflict(format!(
                "session {id:?} of computer {owner:?} ended less than {retention} s ago; its id cannot be used \
                 on another computer before then"
            )));
        }
    }
    let session = sessions.create(req).await?;
    let mut resp = serialized(StatusCode::CREATED, &session)?;
    set_location(&mut resp, &session.session_id);
    Ok(resp)
}

/// `PATCH /v1/sessions/{id}`: changes a local session, 200 with its new
/// state; another computer's is forwarded to its owner. An empty patch of
/// a local session changes nothing and answers the current state.
///
/// A patch is validated once on this daemon: by the store for a local
/// session (it guards what it keeps, whoever writes), here for one that
/// leaves for its owner (a bad patch is 400 even when the owner cannot be
/// reached). Both give the same 400 `bad_field` and message.
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
    if let Some(owner) = remote_owner(api, id).await {
        patch.validate()?;
        let write = ForwardedWrite {
            op: WriteOp::Update,
            session_id: Some(id.to_owned()),
            body: Some(json_value(&bytes)?),
        };
        return forward(api, &owner, write).await;
    }
    update_local(&api.cache, api.sessions.as_ref(), id, patch).await
}

/// Changes a session of this computer; 409 for another's (never
/// forwarded from here: the owner's side of a forwarded write uses this).
/// The store validates the patch. The answer is the cache's record of the
/// new state (written by the store's commit hook before the store
/// returns), serialized once for every reader; only when a later write
/// already replaced it, or the patch closed the session, is the store's
/// result serialized here.
pub(crate) async fn update_local(
    cache: &DaemonCache,
    sessions: &dyn LocalSessions,
    id: &str,
    patch: SessionPatch,
) -> Answer {
    if let Some(record) = cache.session(id) {
        ensure_local(cache, id, &record.computer)?;
        if patch.is_empty() {
            return ok_bytes(record.json.clone());
        }
    }
    let session = sessions.update(id, patch).await?;
    match cache.session(id) {
        Some(record) if record.rev == session.rev => ok_bytes(record.json.clone()),
        _ => serialized(StatusCode::OK, &session),
    }
}

/// `DELETE /v1/sessions/{id}`: ends a local session, 204; another
/// computer's is forwarded to its owner.
pub(crate) async fn end(api: &ApiParts, query: Option<&str>, id: &str) -> Answer {
    Query::parse(query, &[])?;
    if let Some(owner) = remote_owner(api, id).await {
        let write = ForwardedWrite {
            op: WriteOp::End,
            session_id: Some(id.to_owned()),
            body: None,
        };
        return forward(api, &owner, write).await;
    }
    end_local(&api.cache, api.sessions.as_ref(), id).await
}

/// Ends a session of this computer; 409 for another's.
pub(crate) async fn end_local(
    cache: &DaemonCache,
    sessions: &dyn LocalSessions,
    id: &str,
) -> Answer {
    if let Some(record) = cache.session(id) {
        ensure_local(cache, id, &record.computer)?;
    }
    sessions.end(id).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// The owner of session `id` when it is not this computer: as the cache
/// says, or, when the cache does not hold it, as the fleet says (see
/// [`RemoteSessions::locate`](crate::RemoteSessions::locate)).
async fn remote_owner(api: &ApiParts, id: &str) -> Option<String> {
    let owner = match api.cache.session(id) {
        Some(r) => r.computer.to_string(),
        None => api.remote.as_ref()?.locate(id).await?,
    };
    (owner != api.cache.local_name()).then_some(owner)
}

/// Sends a write to its owner and answers what the owner answered.
async fn forward(api: &ApiParts, owner: &str, write: ForwardedWrite) -> Answer {
    let Some(remote) = &api.remote else {
        return Err(ApiError::PeerUnreachable(format!(
            "computer {owner:?} cannot be reached: this daemon runs without a fleet link (no --redis)"
        )));
    };
    let reply = remote.forward(owner, write).await?;
    reply_answer(reply)
}

/// The owner's answer, as this daemon's answer.
fn reply_answer(reply: WriteReply) -> Answer {
    let status = StatusCode::from_u16(reply.status)
        .map_err(|_| ApiError::Internal(format!("the owner answered status {}", reply.status)))?;
    if status == StatusCode::NO_CONTENT {
        return Ok(response::empty(status));
    }
    let mut resp = serialized(status, &reply.body)?;
    if status == StatusCode::CREATED
        && let Some(id) = reply.body.get("session_id").and_then(|v| v.as_str())
    {
        set_location(&mut resp, id);
    }
    Ok(resp)
}

/// The request body as JSON, to forward as it came (it decoded already).
fn json_value(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadJson(format!("the request body is not valid JSON: {e}")))
}

fn set_location(resp: &mut hyper::Response<http_body_util::Full<bytes::Bytes>>, id: &str) {
    // A UUID always makes a valid header value; skip the header otherwise.
    if let Ok(location) = HeaderValue::try_from(format!("/v1/sessions/{id}")) {
        resp.headers_mut().insert(LOCATION, location);
    }
}

fn ensure_local(cache: &DaemonCache, id: &str, owner: &str) -> Result<(), ApiError> {
    if owner == cache.local_name() {
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

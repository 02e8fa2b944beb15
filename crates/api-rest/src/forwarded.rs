//! The owner's side of a forwarded write: the request another computer
//! forwarded is decoded, checked and applied by the same handler code as a
//! local client's (`handlers/sessions.rs`, its `*_local` functions), and
//! answered with the same status and body, errors included. It is never
//! forwarded on: a session this computer does not own is 409, as locally.

use crate::body;
use crate::error::ApiError;
use crate::handlers::sessions::{create_local, end_local, update_local};
use crate::ports::LocalSessions;
use cache_core::DaemonCache;
use http_body_util::BodyExt;
use model::forwarded::{ForwardedWrite, WriteOp, WriteReply};
use model::{NewSession, SessionPatch};

/// Applies a write another computer forwarded to this one, through
/// `sessions` (durable before it returns), and returns the status and body
/// a local client would get for the same request.
pub async fn apply_forwarded(
    cache: &DaemonCache,
    sessions: &dyn LocalSessions,
    write: ForwardedWrite,
) -> WriteReply {
    let answer = apply(cache, sessions, write).await;
    match answer {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let bytes = match resp.into_body().collect().await {
                Ok(c) => c.to_bytes(),
                Err(never) => match never {},
            };
            let body = if bytes.is_empty() {
                serde_json::json!({})
            } else {
                serde_json::from_slice(&bytes).unwrap_or_else(|_| serde_json::json!({}))
            };
            WriteReply { status, body }
        }
        Err(e) => {
            tracing::debug!(code = e.code(), reason = %e, "forwarded write refused");
            WriteReply::error(e.status().as_u16(), e.code(), &e.to_string())
        }
    }
}

async fn apply(
    cache: &DaemonCache,
    sessions: &dyn LocalSessions,
    write: ForwardedWrite,
) -> crate::handlers::Answer {
    let bytes = match &write.body {
        Some(v) => serde_json::to_vec(v)
            .map_err(|e| ApiError::BadJson(format!("the request body is not JSON: {e}")))?,
        None => Vec::new(),
    };
    let session_id = || {
        write
            .session_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ApiError::BadField("a forwarded write names no session_id".into()))
    };
    match write.op {
        WriteOp::Create => {
            let req: NewSession = body::decode(&bytes)?;
            req.validate()?;
            if let Some(c) = req.computer.as_deref()
                && c != cache.local_name()
            {
                return Err(ApiError::Conflict(format!(
                    "this is computer {:?}, not {c:?}: it creates only its own sessions",
                    cache.local_name()
                )));
            }
            create_local(cache, sessions, req).await
        }
        WriteOp::Update => {
            // Validated by the store, as a local client's patch.
            let patch: SessionPatch = body::decode(&bytes)?;
            update_local(cache, sessions, session_id()?, patch).await
        }
        WriteOp::End => end_local(cache, sessions, session_id()?).await,
    }
}

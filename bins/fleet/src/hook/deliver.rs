//! Delivers one [`Op`] to the daemon's REST API, and says whether it is done, dropped
//! for good (the daemon refused it, or it is older than the session's state) or must
//! be retried later (no daemon, no answer in time, the store cannot write).
//!
//! Every write carries the op's time as `as_of`, so the daemon itself refuses a change
//! older than the session's `last_activity`: replaying a spool late never overwrites a
//! newer state.

use crate::client::http::HttpClient;
use crate::error::ClientError;
use crate::hook::op::{Change, Op, default_title};
use hyper::{Method, StatusCode};
use model::{Session, SessionStatus};
use serde_json::{Map, Value, json};

/// What became of an op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The daemon has it (or it changed nothing that needed writing).
    Done,
    /// Dropped for good; the reason is for stderr.
    Dropped(String),
    /// Not delivered; try again later (the reason is for stderr).
    Retry(String),
}

/// Delivers `op` through `client`.
pub async fn deliver(client: &HttpClient, op: &Op) -> Outcome {
    match apply(client, op).await {
        Ok(outcome) => outcome,
        Err(e) => classify(&e),
    }
}

/// Whether an error is worth retrying later.
fn classify(e: &ClientError) -> Outcome {
    match e {
        ClientError::NoDaemon { .. }
        | ClientError::Timeout { .. }
        | ClientError::Exchange { .. } => Outcome::Retry(e.to_string()),
        // Busy or full store, peer unreachable, our own failure: the write may work later.
        ClientError::Api { status, .. } if *status == 408 || *status >= 500 => {
            Outcome::Retry(e.to_string())
        }
        _ => Outcome::Dropped(format!("the daemon refused it: {e}")),
    }
}

fn path(id: &str) -> String {
    format!("/v1/sessions/{id}")
}

async fn apply(client: &HttpClient, op: &Op) -> Result<Outcome, ClientError> {
    match &op.change {
        Change::Start => {
            let (created, current) = create(client, op, SessionStatus::Active).await?;
            if !created && current.status != SessionStatus::Active {
                patch(client, op, json!({"status": "active"})).await?;
            }
            Ok(Outcome::Done)
        }
        Change::Update {
            status,
            only_if_changed,
            last_input,
            last_output,
            title_hint,
        } => {
            let current = match get(client, &op.session_id).await? {
                Some(s) => s,
                // A session whose start was never seen (hooks installed mid-session).
                None => {
                    create(client, op, status.unwrap_or(SessionStatus::Active))
                        .await?
                        .1
                }
            };
            if current.last_activity > op.at {
                return Ok(older(op));
            }
            let mut body = Map::new();
            if let Some(st) = status
                && (!*only_if_changed || current.status != *st)
            {
                body.insert("status".into(), json!(st));
            }
            if let Some(v) = last_input {
                body.insert("last_input".into(), json!(v));
            }
            if let Some(v) = last_output {
                body.insert("last_output".into(), json!(v));
            }
            if let Some(t) = title_hint {
                let default = default_title(current.project_path.as_deref(), &current.agent);
                if current.title == default && *t != current.title {
                    body.insert("title".into(), json!(t));
                }
            }
            if body.is_empty() {
                return Ok(Outcome::Done);
            }
            let after = patch(client, op, Value::Object(body)).await?;
            if after.last_activity > op.at {
                return Ok(older(op));
            }
            Ok(Outcome::Done)
        }
        Change::End => {
            match get(client, &op.session_id).await? {
                None => return Ok(Outcome::Done),
                Some(s) if s.last_activity > op.at => return Ok(older(op)),
                Some(_) => {}
            }
            match client
                .send(Method::DELETE, &path(&op.session_id), None)
                .await
            {
                Ok(_) | Err(ClientError::Api { status: 404, .. }) => Ok(Outcome::Done),
                Err(e) => Err(e),
            }
        }
    }
}

fn older(op: &Op) -> Outcome {
    Outcome::Dropped(format!(
        "{} of session {} is older than the session's current state",
        op.kind(),
        op.session_id
    ))
}

/// Creates the session (or finds it): whether it was created, and its state.
async fn create(
    client: &HttpClient,
    op: &Op,
    status: SessionStatus,
) -> Result<(bool, Session), ClientError> {
    let body = json!({
        "session_id": op.session_id,
        "title": default_title(op.cwd.as_deref(), &op.agent),
        "project_path": op.cwd,
        "agent": op.agent,
        "status": status,
        "as_of": op.at,
    });
    let answer = client
        .send(Method::POST, "/v1/sessions", Some(&body))
        .await?;
    Ok((answer.status == StatusCode::CREATED, answer.json()?))
}

async fn get(client: &HttpClient, id: &str) -> Result<Option<Session>, ClientError> {
    match client.get(&path(id)).await {
        Ok(answer) => answer.json().map(Some),
        Err(ClientError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn patch(client: &HttpClient, op: &Op, mut body: Value) -> Result<Session, ClientError> {
    if let Value::Object(map) = &mut body {
        map.insert("as_of".into(), json!(op.at));
    }
    client
        .send(Method::PATCH, &path(&op.session_id), Some(&body))
        .await?
        .json()
}

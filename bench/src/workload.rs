//! What the scenarios write: realistic session bodies, creating many
//! sessions over several kept-alive connections, and reading back the
//! `session_id` and `rev` of an answer.

use crate::client::{self, Conn};
use anyhow::Context as _;
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use tokio::task::JoinSet;

/// The body of `POST /v1/sessions` for the `i`-th session of `computer`:
/// about the size of a real agent session record (~450 bytes as JSON).
pub fn new_session_body(computer: &str, i: usize) -> Bytes {
    let body = serde_json::json!({
        "title": format!("refactor the {computer} parser, step {i}: split the tokenizer from the AST builder"),
        "project_path": format!("/home/dev/src/{computer}/project-{:03}", i % 50),
        "agent": "claude",
        "thinking_mode": "extended",
        "status": "active",
    });
    Bytes::from(body.to_string())
}

/// The body of `PATCH /v1/sessions/{id}` for change number `n`.
pub fn patch_body(n: u64) -> Bytes {
    Bytes::from(format!(
        r#"{{"title":"change {n}: rename the visitor methods","status":"active"}}"#
    ))
}

#[derive(Deserialize)]
struct Created {
    session_id: String,
    rev: u64,
}

/// `session_id` and `rev` of a session answer.
///
/// # Errors
/// When the body is not a session.
pub fn id_and_rev(body: &[u8]) -> anyhow::Result<(String, u64)> {
    let c: Created = serde_json::from_slice(body).context("answer is not a session")?;
    Ok((c.session_id, c.rev))
}

/// Creates `n` sessions on the daemon at `socket` over `connections`
/// kept-alive connections at once; returns their ids.
///
/// # Errors
/// When a request fails or is refused.
pub async fn create_sessions(
    socket: &Path,
    computer: &str,
    n: usize,
    connections: usize,
) -> anyhow::Result<Vec<String>> {
    let connections = connections.clamp(1, n.max(1));
    let mut tasks = JoinSet::new();
    for c in 0..connections {
        let socket: PathBuf = socket.to_owned();
        let computer = computer.to_owned();
        tasks.spawn(async move {
            let mut conn = Conn::connect(&socket).await?;
            let mut ids = Vec::new();
            for i in (c..n).step_by(connections) {
                let body = new_session_body(&computer, i);
                let (status, answer) = conn.send(Method::POST, "/v1/sessions", Some(body)).await?;
                client::expect(status, StatusCode::CREATED, "POST /v1/sessions", &answer)?;
                ids.push(id_and_rev(&answer)?.0);
            }
            anyhow::Ok(ids)
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(joined) = tasks.join_next().await {
        all.extend(joined.context("a session-creating task failed")??);
    }
    Ok(all)
}

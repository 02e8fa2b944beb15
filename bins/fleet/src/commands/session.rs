//! `fleet session new|update|end`: `POST /v1/sessions`, `PATCH /v1/sessions/{id}` and
//! `DELETE /v1/sessions/{id}`. Any session of the fleet can be changed: the daemon forwards
//! a write of another computer's session to its owner, which applies it only when it
//! accepts remote writes (else 403); an owner offline or silent is 503. The daemon's
//! message is printed as it is.

use crate::age::ago;
use crate::cli::SessionCommand;
use crate::client::http::{HttpClient, encode_query_value};
use crate::commands::{absolute, now, print, print_body};
use crate::error::FleetError;
use crate::text::one_line;
use hyper::Method;
use model::{Session, SessionStatus, Timestamp};
use serde_json::{Map, Value, json};

/// Runs the command.
///
/// # Errors
/// When the daemon cannot be asked, refuses (unknown id, another computer's session,
/// a bad value), or the output cannot be written.
pub async fn run(
    client: &HttpClient,
    json: bool,
    command: SessionCommand,
) -> Result<(), FleetError> {
    match command {
        SessionCommand::New {
            title,
            project,
            agent,
            status,
            computer,
        } => {
            let mut body = Map::new();
            body.insert("title".into(), json!(title));
            if let Some(p) = project {
                body.insert("project_path".into(), json!(absolute(&p)));
            }
            if let Some(a) = agent {
                body.insert("agent".into(), json!(a));
            }
            if let Some(s) = status {
                body.insert("status".into(), json!(SessionStatus::from(s).as_str()));
            }
            if let Some(c) = computer {
                body.insert("computer".into(), json!(c));
            }
            let answer = client
                .send(Method::POST, "/v1/sessions", Some(&Value::Object(body)))
                .await?;
            if json {
                return print_body(&answer.body);
            }
            let session: Session = answer.json()?;
            print(&format!(
                "Created session {}\n{}",
                session.session_id,
                details(&session, now())
            ))
        }
        SessionCommand::Update {
            id,
            status,
            title,
            input,
            output,
        } => {
            let mut body = Map::new();
            if let Some(s) = status {
                body.insert("status".into(), json!(SessionStatus::from(s).as_str()));
            }
            if let Some(t) = title {
                body.insert("title".into(), json!(t));
            }
            if let Some(i) = input {
                body.insert("last_input".into(), json!(i));
            }
            if let Some(o) = output {
                body.insert("last_output".into(), json!(o));
            }
            let answer = client
                .send(
                    Method::PATCH,
                    &session_path(&id),
                    Some(&Value::Object(body)),
                )
                .await?;
            if json {
                return print_body(&answer.body);
            }
            let session: Session = answer.json()?;
            print(&format!(
                "Updated session {}\n{}",
                session.session_id,
                details(&session, now())
            ))
        }
        SessionCommand::End { id } => {
            client
                .send(Method::DELETE, &session_path(&id), None)
                .await?;
            if json {
                // The API answers 204 without a body: there is no JSON to print.
                return Ok(());
            }
            print(&format!("Ended session {id}\n"))
        }
    }
}

fn session_path(id: &str) -> String {
    format!(
        "/v1/sessions/{}",
        encode_query_value(id).replace('/', "%2F")
    )
}

/// A session as `key  value` lines, for people.
pub fn details(s: &Session, now: Timestamp) -> String {
    let optional = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_owned(), one_line);
    let status = if s.stale {
        format!("{} (STALE: its computer is offline)", s.status.as_str())
    } else {
        s.status.as_str().to_owned()
    };
    let rows = [
        ("computer", s.computer.clone()),
        ("title", one_line(&s.title)),
        ("status", status),
        ("project", optional(&s.project_path)),
        ("agent", s.agent.clone()),
        ("last activity", ago(s.last_activity, now)),
        ("last input", optional(&s.last_input)),
        ("last output", optional(&s.last_output)),
    ];
    rows.iter()
        .map(|(k, v)| format!("  {k:<13}  {v}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_path_safe() {
        assert_eq!(session_path("a-b"), "/v1/sessions/a-b");
        assert_eq!(session_path("a/b c"), "/v1/sessions/a%2Fb%20c");
    }
}

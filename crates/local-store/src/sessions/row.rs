//! How a session is stored in a row of `sessions`, and read back with its
//! values checked.

use super::Inner;
use crate::Error;
use model::{Session, SessionStatus, Timestamp};
use rusqlite::{Connection, OptionalExtension};

/// The columns of `sessions`, in the order [`read_row`] expects them.
pub(super) const COLUMNS: &str = "session_id, title, project_path, agent, thinking_mode, status, \
                       created_at, last_activity, last_input, last_output, rev";

/// A row as SQLite holds it, before its values are checked.
pub(super) struct Row {
    session_id: String,
    title: String,
    project_path: Option<String>,
    agent: String,
    thinking_mode: Option<String>,
    status: String,
    created_at: i64,
    last_activity: i64,
    last_input: Option<String>,
    last_output: Option<String>,
    rev: i64,
}

pub(super) fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        session_id: r.get(0)?,
        title: r.get(1)?,
        project_path: r.get(2)?,
        agent: r.get(3)?,
        thinking_mode: r.get(4)?,
        status: r.get(5)?,
        created_at: r.get(6)?,
        last_activity: r.get(7)?,
        last_input: r.get(8)?,
        last_output: r.get(9)?,
        rev: r.get(10)?,
    })
}

impl Row {
    pub(super) fn into_session(self, inner: &Inner) -> Result<Session, Error> {
        let status = SessionStatus::parse(&self.status).ok_or_else(|| {
            inner.corrupt(
                &self.session_id,
                format!("unknown status {:?}", self.status),
            )
        })?;
        let rev = u64::try_from(self.rev)
            .ok()
            .filter(|r| *r >= 1)
            .ok_or_else(|| inner.corrupt(&self.session_id, format!("rev {} below 1", self.rev)))?;
        Ok(Session {
            session_id: self.session_id,
            computer: inner.computer.clone(),
            title: self.title,
            project_path: self.project_path,
            agent: self.agent,
            thinking_mode: self.thinking_mode,
            status,
            created_at: Timestamp::from_millis(self.created_at),
            last_activity: Timestamp::from_millis(self.last_activity),
            last_input: self.last_input,
            last_output: self.last_output,
            rev,
            stale: false,
        })
    }
}

pub(super) fn load(inner: &Inner, conn: &Connection, id: &str) -> Result<Option<Session>, Error> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM sessions WHERE session_id = ?1"
    ))
    .and_then(|mut select| select.query_row([id], read_row))
    .optional()
    .map_err(|e| inner.sqlite(e))?
    .map(|row| row.into_session(inner))
    .transpose()
}

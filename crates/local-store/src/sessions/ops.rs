//! The three session writes (create, update, end) as values, and what each
//! does inside a transaction it does not own: the group-commit writer
//! (`writer.rs`) runs several of them in one transaction and commits once.
//! None of them begins, commits or rolls back.
//!
//! Ends are remembered: `end` records the id and the revision of the end in
//! the `ended` table, in the transaction that deletes the session, and a
//! create with that id continues above it. Every cache (this daemon's and
//! each peer's) keeps an end for its stale retention and refuses the id at
//! a revision not above the end's, so a session that comes back (an agent
//! session resumed under its id) must come back at `rev` = end's + 1 to be
//! seen. Being in the store, this holds across a restart of the daemon.

use super::Inner;
use super::row::{COLUMNS, load};
use crate::Error;
use model::{NewSession, Session, SessionPatch, SessionStatus};
use rusqlite::{Connection, OptionalExtension, params};
use std::time::Duration;

/// How long an end is remembered: a session id that comes back later than
/// this starts again at `rev` 1. Far longer than any cache keeps an end
/// (the stale retention, 10 minutes), so a resumed session is never hidden,
/// and short enough that the table stays small (one row per session ended
/// in the last day).
pub(super) const ENDED_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// A session write waiting for the writer.
#[derive(Debug)]
pub(super) enum Op {
    /// [`super::SessionStore::create`].
    Create(NewSession),
    /// [`super::SessionStore::update`].
    Update {
        /// The session.
        id: String,
        /// The fields to change.
        patch: SessionPatch,
    },
    /// [`super::SessionStore::end`].
    End {
        /// The session.
        id: String,
    },
}

/// What an op did in its transaction.
pub(super) enum Applied {
    /// It wrote this new state (the commit hook is told after the commit).
    Wrote(Session),
    /// It wrote nothing and returns the session as stored.
    Unchanged(Session),
}

impl Applied {
    /// The session to answer with.
    pub(super) fn into_session(self) -> Session {
        match self {
            Self::Wrote(s) | Self::Unchanged(s) => s,
        }
    }
}

/// Whether a transaction is still good for other ops after one failed with
/// `e`: only errors found before anything was written, by a read that
/// succeeded (no such session, a bad request, a row holding an impossible
/// value). Any SQLite failure abandons the transaction.
pub(super) fn leaves_transaction_usable(e: &Error) -> bool {
    matches!(
        e,
        Error::NotFound { .. } | Error::Invalid(_) | Error::Corrupt { .. }
    )
}

/// Runs `op` on `conn`, inside a transaction the caller opened.
pub(super) fn apply(inner: &Inner, conn: &Connection, op: &Op) -> Result<Applied, Error> {
    match op {
        Op::Create(req) => create(inner, conn, req),
        Op::Update { id, patch } => update(inner, conn, id, patch),
        Op::End { id } => end(inner, conn, id),
    }
}

fn create(inner: &Inner, conn: &Connection, req: &NewSession) -> Result<Applied, Error> {
    if let Some(id) = &req.session_id
        && let Some(existing) = load(inner, conn, id)?
    {
        return Ok(Applied::Unchanged(existing));
    }
    let rev = match &req.session_id {
        Some(id) => resumed_rev(inner, conn, id)?,
        None => 1,
    };
    let now = inner.clock.now();
    let now = req.as_of.map_or(now, |at| at.min(now));
    let session = Session {
        session_id: req
            .session_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        computer: inner.computer.clone(),
        title: req.title.clone(),
        project_path: req.project_path.clone(),
        agent: req
            .agent
            .clone()
            .unwrap_or_else(|| super::DEFAULT_AGENT.to_owned()),
        thinking_mode: req.thinking_mode.clone(),
        status: req.status.unwrap_or(SessionStatus::Active),
        created_at: now,
        last_activity: now,
        last_input: None,
        last_output: None,
        rev,
        stale: false,
    };
    let rev = rev_to_sql(inner, &session)?;
    conn.prepare_cached(&format!(
        "INSERT INTO sessions ({COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))
    .and_then(|mut insert| {
        insert.execute(params![
            session.session_id,
            session.title,
            session.project_path,
            session.agent,
            session.thinking_mode,
            session.status.as_str(),
            session.created_at.as_millis(),
            session.last_activity.as_millis(),
            session.last_input,
            session.last_output,
            rev,
        ])
    })
    .map_err(|e| inner.write_failed(e))?;
    Ok(Applied::Wrote(session))
}

fn update(
    inner: &Inner,
    conn: &Connection,
    id: &str,
    patch: &SessionPatch,
) -> Result<Applied, Error> {
    let mut s = load(inner, conn, id)?.ok_or_else(|| super::not_found(id))?;
    if patch.is_empty() || patch.as_of.is_some_and(|at| at < s.last_activity) {
        return Ok(Applied::Unchanged(s));
    }
    let SessionPatch {
        title,
        status,
        last_input,
        last_output,
        agent,
        thinking_mode,
        as_of,
    } = patch;
    if let Some(v) = title {
        s.title.clone_from(v);
    }
    if let Some(v) = status {
        s.status = *v;
    }
    if let Some(v) = last_input {
        s.last_input.clone_from(v);
    }
    if let Some(v) = last_output {
        s.last_output.clone_from(v);
    }
    if let Some(v) = agent {
        s.agent.clone_from(v);
    }
    if let Some(v) = thinking_mode {
        s.thinking_mode.clone_from(v);
    }
    s.rev += 1;
    let now = inner.clock.now();
    s.last_activity = as_of.map_or(now, |at| at.min(now));
    let rev = rev_to_sql(inner, &s)?;
    conn.prepare_cached(
        "UPDATE sessions SET title = ?2, project_path = ?3, agent = ?4, \
         thinking_mode = ?5, status = ?6, last_activity = ?7, last_input = ?8, \
         last_output = ?9, rev = ?10 WHERE session_id = ?1",
    )
    .and_then(|mut update| {
        update.execute(params![
            s.session_id,
            s.title,
            s.project_path,
            s.agent,
            s.thinking_mode,
            s.status.as_str(),
            s.last_activity.as_millis(),
            s.last_input,
            s.last_output,
            rev,
        ])
    })
    .map_err(|e| inner.write_failed(e))?;
    Ok(Applied::Wrote(s))
}

fn end(inner: &Inner, conn: &Connection, id: &str) -> Result<Applied, Error> {
    let mut s = load(inner, conn, id)?.ok_or_else(|| super::not_found(id))?;
    s.status = SessionStatus::Closed;
    s.rev += 1;
    s.last_activity = inner.clock.now();
    let rev = rev_to_sql(inner, &s)?;
    let ended_at = s.last_activity.as_millis();
    let prune_before = ended_at.saturating_sub(retention_millis());
    conn.prepare_cached("DELETE FROM sessions WHERE session_id = ?1")
        .and_then(|mut delete| delete.execute([id]))
        .and_then(|_| {
            conn.prepare_cached(
                "INSERT INTO ended (session_id, rev, ended_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (session_id) DO UPDATE SET rev = ?2, ended_at = ?3",
            )
        })
        .and_then(|mut remember| remember.execute(params![id, rev, ended_at]))
        .and_then(|_| conn.prepare_cached("DELETE FROM ended WHERE ended_at < ?1"))
        .and_then(|mut prune| prune.execute([prune_before]))
        .map_err(|e| inner.write_failed(e))?;
    Ok(Applied::Wrote(s))
}

/// The revision a session created under `id` starts at: 1, or one above
/// its remembered end (whose row it deletes: the id is live again, and its
/// next end is remembered anew).
fn resumed_rev(inner: &Inner, conn: &Connection, id: &str) -> Result<u64, Error> {
    let ended: Option<i64> = conn
        .prepare_cached("SELECT rev FROM ended WHERE session_id = ?1")
        .and_then(|mut select| select.query_row([id], |r| r.get(0)).optional())
        .map_err(|e| inner.sqlite(e))?;
    let Some(ended) = ended else {
        return Ok(1);
    };
    let rev = u64::try_from(ended)
        .ok()
        .and_then(|r| r.checked_add(1))
        .ok_or_else(|| inner.corrupt(id, format!("remembered end at rev {ended}")))?;
    conn.prepare_cached("DELETE FROM ended WHERE session_id = ?1")
        .and_then(|mut forget| forget.execute([id]))
        .map_err(|e| inner.write_failed(e))?;
    tracing::debug!(session_id = %id, rev, "session comes back above its remembered end");
    Ok(rev)
}

/// [`ENDED_RETENTION`] in milliseconds, as stored timestamps are.
fn retention_millis() -> i64 {
    i64::try_from(ENDED_RETENTION.as_millis()).unwrap_or(i64::MAX)
}

/// SQLite integers are signed; a rev past `i64::MAX` would take longer than
/// the age of the universe to reach, but is refused rather than wrapped.
fn rev_to_sql(inner: &Inner, s: &Session) -> Result<i64, Error> {
    i64::try_from(s.rev)
        .map_err(|_| inner.corrupt(&s.session_id, format!("rev {} overflows", s.rev)))
}

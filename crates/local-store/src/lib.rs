//! This computer's own data, as the daemon owns it: its sessions, kept in
//! SQLite, and its projects and todos, read from disk and watched for
//! changes.
//!
//! Read in this order:
//! - [`sessions`]: [`SessionStore`], the durable record of this computer's
//!   sessions. Every write is committed before its method returns, which is
//!   what makes `PROTOCOL.md`'s "a session write is durable before it is
//!   answered" true. Its table layout and migrations live in `schema.rs`.
//! - [`projects`]: [`scan_projects`] turns a [`ProjectsConfig`] (the
//!   `--project` and `--projects-root` flags) into [`model::Project`]s.
//! - [`todos`]: [`parse_roadmap`], a pure parser of `todos/roadmap.md`, and
//!   [`read_todos`], which feeds it from disk.
//! - [`watch`]: [`PreparationWatcher`] watches the project directories and
//!   reports changed projects and todos as [`PreparationUpdate`]s; the
//!   daemon loads the first state with [`scan_all`] or
//!   [`PreparationWatcher::initial`].
//!
//! - [`Skips`]: what this crate skips on disk is logged (path and why) and
//!   counted where the daemon says (`ProjectsConfig::skips`).
//!
//! Absences: this crate knows nothing of Redis, HTTP, WebSockets or other
//! computers; it never changes a file of a project (it only reads them); it
//! reads time only through [`model::Clock`].

pub mod projects;
mod schema;
pub mod sessions;
mod skips;
pub mod todos;
pub mod watch;

use std::path::PathBuf;

pub use projects::{ProjectsConfig, scan_projects};
pub use sessions::{CommitHook, SessionStore};
pub use skips::Skips;
pub use todos::{parse_roadmap, read_todos};
pub use watch::{PreparationUpdate, PreparationWatcher, scan_all};

/// What can go wrong in the local store.
///
/// Each variant carries the context needed to act on it (the database or
/// file path, the session id); the display text includes the underlying
/// cause so that `error = %e` in a log says everything.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite refused an operation on the session store.
    #[error("session store {}: {source}", .path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The disk holding the session store is full: the write was rolled
    /// back, nothing of it is stored.
    #[error("session store {}: no space left on its disk: {source}", .path.display())]
    StorageFull {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The session store's file system refuses writes (read-only): the
    /// write was rolled back, nothing of it is stored.
    #[error("session store {}: its file system is read-only: {source}", .path.display())]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// No session with this id is stored on this computer.
    #[error("session {session_id} not found")]
    NotFound {
        /// The id asked for.
        session_id: String,
    },
    /// A file or directory could not be created, read or changed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A request or name breaks the contract (bad field, bad computer name).
    #[error(transparent)]
    Invalid(#[from] model::Error),
    /// The database was written by a newer daemon whose schema this one does
    /// not know; it is left untouched rather than misread.
    #[error(
        "session store {}: schema version {found} is newer than {supported}, the newest this daemon knows",
        .path.display()
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// Its `PRAGMA user_version`.
        found: i64,
        /// The newest version this build can migrate to.
        supported: i64,
    },
    /// A stored row holds a value the contract does not allow (only possible
    /// if something else wrote to the database).
    #[error("session store {}: bad row for session {session_id}: {reason}", .path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The row's session id.
        session_id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file watcher could not be created or refused a path.
    #[error("watching {}: {source}", .path.display())]
    Watch {
        /// The path being watched (empty when creating the watcher).
        path: PathBuf,
        /// What notify said.
        #[source]
        source: notify::Error,
    },
    /// A background task or blocking worker ended abnormally (panicked or
    /// was cancelled by the runtime shutting down).
    #[error("{task} failed: {reason}")]
    Task {
        /// Which task.
        task: &'static str,
        /// Why, as the runtime reported it.
        reason: String,
    },
    /// A function that spawns work was called outside a tokio runtime.
    #[error("{what} must be called from within a tokio runtime")]
    NoRuntime {
        /// The function called.
        what: &'static str,
    },
}

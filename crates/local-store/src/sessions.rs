//! [`SessionStore`]: this computer's sessions, kept in SQLite.
//!
//! Durability: the database runs in WAL mode with `synchronous=NORMAL`.
//! A committed write survives a crash or `SIGKILL` of the daemon; a power
//! loss or kernel crash may lose the last few commits (never corrupt the
//! file). Every write method returns only after its transaction committed.
//!
//! Concurrency: one connection behind a mutex. Writes go to one writer
//! thread (`sessions/writer.rs`) that commits the writes waiting together
//! in one transaction (group commit) and answers each after that commit;
//! reads run on tokio's blocking pool. Nothing stalls the runtime. A caller
//! that drops the future does not cancel the write: once queued, it
//! commits.
//!
//! A full disk or a file system that turned read-only fails the write with
//! [`Error::StorageFull`] or [`Error::ReadOnly`] (`sessions/write_failure.rs`):
//! its transaction is rolled back, the commit hook is not called, and the
//! next write tries again (and succeeds once there is space).

mod ops;
mod row;
mod write_failure;
mod writer;

use crate::{Error, Skips, schema};
use model::{Clock, NewSession, Session, SessionPatch};
use ops::Op;
use row::{COLUMNS, load, read_row};
use rusqlite::Connection;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;
use writer::{Job, Writer};

/// The agent of a session created without one.
pub const DEFAULT_AGENT: &str = "unknown";

/// How long a write waits for another process holding the database lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// This computer's sessions, durable in one SQLite file.
///
/// Cheap to clone: clones share the connection. The async methods must be
/// called from within a tokio runtime.
#[derive(Clone)]
pub struct SessionStore {
    inner: Arc<Inner>,
    writer: Arc<Writer>,
}

struct Inner {
    conn: Mutex<Connection>,
    path: PathBuf,
    computer: String,
    clock: Arc<dyn Clock>,
    on_commit: std::sync::OnceLock<CommitHook>,
}

/// Called with a session's new state right after each committed write
/// (`closed` for an ended one), while the store still holds its connection:
/// hooks see the writes in commit order, so a cache fed by one never gets
/// `rev` k+1 before `rev` k.
pub type CommitHook = Arc<dyn Fn(&Session) + Send + Sync>;

impl fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionStore")
            .field("path", &self.inner.path)
            .field("computer", &self.inner.computer)
            .finish_non_exhaustive()
    }
}

impl SessionStore {
    /// Opens the store at `db_path`, creating it (and its parent
    /// directories, mode 0700; the file itself mode 0600) if needed, and
    /// migrates it to the current schema. Sessions read from it belong to
    /// `computer`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad computer name, [`Error::Io`] when the
    /// directory or file cannot be created, [`Error::Sqlite`] when SQLite
    /// cannot open or set up the file, [`Error::SchemaTooNew`] when a newer
    /// daemon wrote it.
    pub fn open(db_path: &Path, computer: &str, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        model::validate_computer_name(computer)?;
        if let Some(parent) = db_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent)?;
        }
        create_private_file(db_path)?;
        let sqlite = |source| Error::Sqlite {
            path: db_path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(db_path).map_err(sqlite)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(sqlite)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                path = %db_path.display(),
                journal_mode = %mode,
                reason = "the file system does not support WAL",
                "session store not in WAL mode"
            );
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        schema::migrate(&mut conn, db_path)?;
        let inner = Arc::new(Inner {
            conn: Mutex::new(conn),
            path: db_path.to_path_buf(),
            computer: computer.to_owned(),
            clock,
            on_commit: std::sync::OnceLock::new(),
        });
        let writer = Writer::start(Arc::clone(&inner))?;
        Ok(Self {
            inner,
            writer: Arc::new(writer),
        })
    }

    /// Calls `hook` after every committed write from now on (see
    /// [`CommitHook`]). A store has at most one hook: `false` when one was
    /// set already (it stays).
    pub fn set_commit_hook(&self, hook: CommitHook) -> bool {
        self.inner.on_commit.set(hook).is_ok()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The computer every stored session belongs to.
    pub fn computer(&self) -> &str {
        &self.inner.computer
    }

    /// Creates a session of this computer: the client's `session_id` or a
    /// new UUID, agent `unknown` and status `active` unless given,
    /// `created_at = last_activity = now` (or `as_of` when earlier), `rev` 1.
    /// When a session with the
    /// client's id is stored already, it is returned as it is (nothing is
    /// written): creating with a chosen id is idempotent. When a session
    /// with that id ended here within the last day (an agent session
    /// resumed), the new one starts at `rev` = the end's + 1, so that every
    /// cache that remembers the end takes it (see `sessions/ops.rs`).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad request, [`Error::Sqlite`] when the
    /// write fails (nothing is stored then).
    pub async fn create(&self, req: NewSession) -> Result<Session, Error> {
        req.validate()?;
        self.write(Op::Create(req)).await
    }

    /// Applies the fields present in `patch` (`Some(None)` clears a
    /// nullable field), sets `last_activity` to now and adds 1 to `rev`, in
    /// one transaction. An empty patch changes nothing and returns the
    /// session as it is.
    ///
    /// With `as_of` (the writer's time of the change) the patch is
    /// conditional: older than the stored `last_activity`, it changes
    /// nothing and the session is returned as it is; else `last_activity`
    /// becomes `as_of` (capped at now) instead of now.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad patch, [`Error::NotFound`] when no such
    /// session is stored, [`Error::Sqlite`] when the write fails.
    pub async fn update(&self, id: &str, patch: SessionPatch) -> Result<Session, Error> {
        patch.validate()?;
        self.write(Op::Update {
            id: id.to_owned(),
            patch,
        })
        .await
    }

    /// Ends a session: returns it as closed (`rev` + 1, `last_activity`
    /// now) and removes it from the store, remembering the end's `rev` for
    /// a day (a create with the same id continues above it).
    ///
    /// # Errors
    /// [`Error::NotFound`] when no such session is stored,
    /// [`Error::Sqlite`] when the write fails (the session stays then).
    pub async fn end(&self, id: &str) -> Result<Session, Error> {
        self.write(Op::End { id: id.to_owned() }).await
    }

    /// The stored session with this id, if any.
    ///
    /// # Errors
    /// [`Error::Sqlite`] when the read fails, [`Error::Corrupt`] when the
    /// row holds an impossible value.
    pub async fn get(&self, id: &str) -> Result<Option<Session>, Error> {
        let id = id.to_owned();
        self.blocking(move |inner, conn| load(inner, conn, &id))
            .await
    }

    /// Every stored session, newest `last_activity` first. Blocking: meant
    /// for loading the state at startup. A row holding an impossible value
    /// is skipped with a warning rather than failing the whole load.
    ///
    /// # Errors
    /// [`Error::Sqlite`] when the read fails.
    pub fn list(&self) -> Result<Vec<Session>, Error> {
        self.list_counted(&Skips::default())
    }

    /// [`SessionStore::list`], counting each skipped row in `skips`.
    ///
    /// # Errors
    /// As [`SessionStore::list`].
    pub fn list_counted(&self, skips: &Skips) -> Result<Vec<Session>, Error> {
        let inner = &*self.inner;
        let conn = inner.lock();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM sessions ORDER BY last_activity DESC, session_id"
            ))
            .map_err(|e| inner.sqlite(e))?;
        let rows = stmt.query_map([], read_row).map_err(|e| inner.sqlite(e))?;
        let mut out = Vec::new();
        for row in rows {
            let row = row.map_err(|e| inner.sqlite(e))?;
            match row.into_session(inner) {
                Ok(s) => out.push(s),
                Err(e) => {
                    skips.skipped();
                    tracing::warn!(
                        path = %inner.path.display(),
                        error = %e,
                        reason = "impossible value in row",
                        "skipped stored session"
                    );
                }
            }
        }
        Ok(out)
    }

    /// Copies the write-ahead log into the main database file, so the file
    /// alone holds everything. Called at graceful shutdown; not needed for
    /// durability (committed writes are already safe in the log).
    ///
    /// # Errors
    /// [`Error::Sqlite`] when the checkpoint fails.
    pub async fn flush(&self) -> Result<(), Error> {
        self.blocking(|inner, conn| {
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(|e| inner.write_failed(e))
        })
        .await
    }

    /// Queues `op` for the writer thread and waits for its answer, which
    /// comes after the commit that holds it.
    async fn write(&self, op: Op) -> Result<Session, Error> {
        let (answer, answered) = oneshot::channel();
        if self.writer.submit(Job { op, answer }).is_err() {
            return Err(Error::Task {
                task: "session writer",
                reason: "the writer thread has stopped".into(),
            });
        }
        answered.await.map_err(|_| Error::Task {
            task: "session writer",
            reason: "the write was abandoned (the writer panicked)".into(),
        })?
    }

    /// Runs `f` with the connection on tokio's blocking pool.
    async fn blocking<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut Connection) -> Result<T, Error> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.lock();
            f(&inner, &mut conn)
        })
        .await
        .map_err(|e| Error::Task {
            task: "session store worker",
            reason: e.to_string(),
        })?
    }
}

impl Inner {
    /// Tells the hook, if any, about a committed write.
    fn committed(&self, session: &Session) {
        if let Some(hook) = self.on_commit.get() {
            hook(session);
        }
    }

    /// The connection. A panic while it was held leaves it usable (an open
    /// transaction rolls back when dropped), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The error of a failed write: [`Error::StorageFull`] or
    /// [`Error::ReadOnly`] when the disk refused it, else
    /// [`Error::Sqlite`]. SQLite has rolled the write back either way.
    fn write_failed(&self, source: rusqlite::Error) -> Error {
        write_failure::classify(&self.path, source)
    }

    fn sqlite(&self, source: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, session_id: &str, reason: String) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            session_id: session_id.to_owned(),
            reason,
        }
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        session_id: id.to_owned(),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// Creates the database file readable by its owner only, so that SQLite
/// (which gives its `-wal` and `-shm` files the same mode) never exposes
/// session contents to other users. An existing file is left as it is.
fn create_private_file(path: &Path) -> Result<(), Error> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path).map(drop).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
#[path = "tests/sessions.rs"]
mod tests;

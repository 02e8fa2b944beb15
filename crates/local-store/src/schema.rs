//! The session store's table layout and its migrations.
//!
//! The schema version is SQLite's `PRAGMA user_version`: the number of
//! entries of [`MIGRATIONS`] applied so far. Opening a store applies the
//! missing ones, in order, inside one transaction, so a crash mid-migration
//! leaves the previous version intact. Migrations are only ever appended:
//! an entry, once released, is never edited.

use crate::Error;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// Every migration, oldest first. Entry `i` takes the schema from version
/// `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // v1: one row per live session of this computer. Timestamps are
    // milliseconds since the Unix epoch; `status` is the contract's
    // spelling. The owning computer is not stored: every row belongs to
    // the computer that opened the store.
    "CREATE TABLE sessions (
        session_id    TEXT    NOT NULL PRIMARY KEY,
        title         TEXT    NOT NULL,
        project_path  TEXT,
        agent         TEXT    NOT NULL,
        thinking_mode TEXT,
        status        TEXT    NOT NULL
                      CHECK (status IN ('active', 'idle', 'waiting', 'closed')),
        created_at    INTEGER NOT NULL,
        last_activity INTEGER NOT NULL,
        last_input    TEXT,
        last_output   TEXT,
        rev           INTEGER NOT NULL CHECK (rev >= 1)
    ) STRICT;",
    // v2: the ends remembered, one row per session id that ended here and
    // has not come back: the revision of its end and when (milliseconds
    // since the Unix epoch). Written in the transaction that deletes the
    // session; read by a create with that id, which continues above `rev`
    // (every cache keeps the end and refuses the id at a revision not above
    // it) and deletes the row. Rows older than a day are pruned
    // (`sessions/ops.rs`, `ENDED_RETENTION`), hence the index.
    "CREATE TABLE ended (
        session_id TEXT    NOT NULL PRIMARY KEY,
        rev        INTEGER NOT NULL CHECK (rev >= 1),
        ended_at   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX ended_by_time ON ended (ended_at);",
];

/// Brings the database at `path` to the newest schema.
///
/// # Errors
/// [`Error::SchemaTooNew`] when the file is newer than this build;
/// [`Error::Sqlite`] when a migration fails (nothing is applied then).
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), Error> {
    migrate_with(conn, path, MIGRATIONS)
}

/// [`migrate`] with an explicit list, so tests can check a failing one.
pub(crate) fn migrate_with(
    conn: &mut Connection,
    path: &Path,
    migrations: &[&str],
) -> Result<(), Error> {
    let sqlite = |source| Error::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    // IMMEDIATE takes the write lock first, so two processes opening the
    // same file at once cannot both apply a migration.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite)?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sqlite)?;
    let supported = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    if found > supported {
        return Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported,
        });
    }
    if found == supported {
        return Ok(());
    }
    // `found` is in 0..supported here, so the conversion cannot fail; the
    // fallback only keeps the code free of a panic path.
    let start = usize::try_from(found).unwrap_or(0);
    for (i, sql) in migrations.iter().enumerate().skip(start) {
        tx.execute_batch(sql).map_err(sqlite)?;
        tracing::info!(path = %path.display(), version = i + 1, "session store migrated");
    }
    tx.pragma_update(None, "user_version", supported)
        .map_err(sqlite)?;
    tx.commit().map_err(sqlite)
}

/// The schema version of an open database.
#[cfg(test)]
pub(crate) fn version(conn: &Connection) -> i64 {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Connection {
        Connection::open_in_memory().unwrap()
    }

    #[test]
    fn applies_every_migration_once() {
        let mut conn = memory();
        let p = Path::new(":memory:");
        migrate(&mut conn, p).unwrap();
        assert_eq!(version(&conn), MIGRATIONS.len() as i64);
        // A second run finds nothing to do (CREATE TABLE would fail if it
        // ran again).
        migrate(&mut conn, p).unwrap();
        assert_eq!(version(&conn), MIGRATIONS.len() as i64);
    }

    #[test]
    fn resumes_from_the_stored_version() {
        let mut conn = memory();
        let p = Path::new(":memory:");
        let list = ["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y INTEGER)"];
        migrate_with(&mut conn, p, &list[..1]).unwrap();
        assert_eq!(version(&conn), 1);
        migrate_with(&mut conn, p, &list).unwrap();
        assert_eq!(version(&conn), 2);
        conn.execute("INSERT INTO b (y) VALUES (1)", []).unwrap();
    }

    #[test]
    fn a_failing_migration_applies_nothing() {
        let mut conn = memory();
        let p = Path::new(":memory:");
        let list = ["CREATE TABLE a (x INTEGER)", "NOT SQL AT ALL"];
        let err = migrate_with(&mut conn, p, &list).unwrap_err();
        assert!(matches!(err, Error::Sqlite { .. }), "{err}");
        assert_eq!(version(&conn), 0);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'a'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = memory();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = migrate(&mut conn, Path::new(":memory:")).unwrap_err();
        assert!(
            matches!(err, Error::SchemaTooNew { found: 99, .. }),
            "{err}"
        );
    }
}

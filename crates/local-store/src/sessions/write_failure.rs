//! Why a write of the session store failed, told apart so that the API
//! can answer "disk full" (507) and "read-only" (503) rather than a bare
//! failure.
//!
//! SQLite reports `ENOSPC` as `SQLITE_FULL` and a read-only database as
//! `SQLITE_READONLY`, but a file system that turns read-only under an open
//! database (`EROFS` on a write, e.g. ext4's `errors=remount-ro`) only as
//! `SQLITE_IOERR_*`. For those this module asks the file system itself,
//! by creating (and removing) a probe file beside the database.

use crate::Error;
use rusqlite::ErrorCode;
use std::io;
use std::path::Path;

/// The probe file's name, in the database's directory.
const PROBE_NAME: &str = ".fleetd-write-probe";

/// The error for a failed write of the database at `path`.
pub(super) fn classify(path: &Path, source: rusqlite::Error) -> Error {
    let path = path.to_path_buf();
    match source.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => Error::StorageFull { path, source },
        Some(ErrorCode::ReadOnly) => Error::ReadOnly { path, source },
        Some(ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) => match probe(&path) {
            Some(Refusal::ReadOnly) => Error::ReadOnly { path, source },
            Some(Refusal::Full) => Error::StorageFull { path, source },
            None => Error::Sqlite { path, source },
        },
        _ => Error::Sqlite { path, source },
    }
}

/// What the file system refuses.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    ReadOnly,
    Full,
}

/// Tries to create and write a small file beside `db_path`.
fn probe(db_path: &Path) -> Option<Refusal> {
    let dir = db_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file = dir.join(PROBE_NAME);
    let result = std::fs::write(&file, b"probe");
    // Best effort: a probe that could not be created needs no removal.
    let _ = std::fs::remove_file(&file);
    match result {
        Ok(()) => None,
        Err(e) => refusal_of(&e),
    }
}

fn refusal_of(e: &io::Error) -> Option<Refusal> {
    match e.kind() {
        io::ErrorKind::ReadOnlyFilesystem => Some(Refusal::ReadOnly),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Some(Refusal::Full),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::ffi;

    fn sqlite_error(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    #[test]
    fn sqlite_codes_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        assert!(matches!(
            classify(&db, sqlite_error(ffi::SQLITE_FULL)),
            Error::StorageFull { .. }
        ));
        assert!(matches!(
            classify(&db, sqlite_error(ffi::SQLITE_READONLY)),
            Error::ReadOnly { .. }
        ));
        // An I/O error on a writable directory stays an I/O error.
        assert!(matches!(
            classify(&db, sqlite_error(ffi::SQLITE_IOERR_WRITE)),
            Error::Sqlite { .. }
        ));
        assert!(!dir.path().join(PROBE_NAME).exists());
        assert!(matches!(
            classify(&db, sqlite_error(ffi::SQLITE_CONSTRAINT)),
            Error::Sqlite { .. }
        ));
    }

    #[test]
    fn os_errors_are_told_apart() {
        let erofs = io::Error::from(io::ErrorKind::ReadOnlyFilesystem);
        let enospc = io::Error::from(io::ErrorKind::StorageFull);
        let other = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(refusal_of(&erofs), Some(Refusal::ReadOnly));
        assert_eq!(refusal_of(&enospc), Some(Refusal::Full));
        assert_eq!(refusal_of(&other), None);
    }
}

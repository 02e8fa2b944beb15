//! The spool: events a hook could not deliver, one JSON file each ([`Op`]), named by
//! the time they were spooled so that a directory listing is their order.
//!
//! Where: `hook-spool/` in the daemon's data directory (`FLEET_DATA_DIR`, else
//! `$XDG_DATA_HOME/fleetcache`, else `~/.local/share/fleetcache`) when that directory
//! exists; else `$XDG_STATE_HOME/fleetcache/hook-spool` (else
//! `~/.local/state/fleetcache/hook-spool`). Both are read when delivering, so nothing
//! is stranded when the daemon creates its data directory later.
//!
//! A file is written whole (temporary name, fsync, rename) so a crash never leaves half
//! an event, and removed only after the daemon took it. Deliveries are serialised by an
//! exclusive `flock` on `deliver.lock`, so two hooks never replay the same events at
//! once; spooling itself needs no lock.

use crate::hook::op::Op;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The name of the spool directory.
pub const DIR_NAME: &str = "hook-spool";

/// The spool of this user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spool {
    /// Where new events are written, and the locks live.
    pub dir: PathBuf,
    /// Other directories that may hold events (read and emptied, never written).
    pub also: Vec<PathBuf>,
}

/// A spooled event: its file and its content (`None` when the file cannot be read as
/// an event).
#[derive(Debug)]
pub struct Entry {
    /// The file.
    pub path: PathBuf,
    /// The event, or why it is unusable.
    pub op: Result<Op, String>,
}

impl Spool {
    /// The spool for the environment `env` (a lookup of variables); `None` when neither
    /// a data directory nor a home is known.
    pub fn locate(env: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        let abs = |k: &str| env(k).map(PathBuf::from).filter(|p| p.is_absolute());
        let home = abs("HOME");
        let data = abs("FLEET_DATA_DIR").or_else(|| {
            abs("XDG_DATA_HOME")
                .or_else(|| home.as_ref().map(|h| h.join(".local/share")))
                .map(|d| d.join("fleetcache"))
        });
        let state = abs("XDG_STATE_HOME")
            .or_else(|| home.as_ref().map(|h| h.join(".local/state")))
            .map(|d| d.join("fleetcache").join(DIR_NAME));
        let data_spool = data.filter(|d| d.is_dir()).map(|d| d.join(DIR_NAME));
        match (data_spool, state) {
            (Some(dir), state) => Some(Self {
                dir,
                also: state.into_iter().collect(),
            }),
            (None, Some(dir)) => Some(Self {
                dir,
                also: Vec::new(),
            }),
            (None, None) => None,
        }
    }

    /// Writes `op` as a new file of the spool, durably.
    ///
    /// # Errors
    /// The I/O error, with the file it was about.
    pub fn put(&self, op: &Op) -> Result<PathBuf, String> {
        create_private_dir(&self.dir)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("{nanos:024}-{:010}.json", std::process::id());
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".tmp-{name}"));
        let bytes = serde_json::to_vec(op).map_err(|e| format!("cannot encode the event: {e}"))?;
        let write = || -> std::io::Result<()> {
            let mut f = private_file(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })?;
        Ok(path)
    }

    /// Every spooled event, oldest first (across all directories).
    pub fn entries(&self) -> Vec<Entry> {
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for dir in std::iter::once(&self.dir).chain(&self.also) {
            let Ok(read) = fs::read_dir(dir) else {
                continue;
            };
            for entry in read.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".json") && !name.starts_with('.') {
                    files.push((name, entry.path()));
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| {
                let op = fs::read(&path)
                    .map_err(|e| format!("cannot read it: {e}"))
                    .and_then(|b| {
                        serde_json::from_slice(&b).map_err(|e| format!("not a spooled event: {e}"))
                    });
                Entry { path, op }
            })
            .collect()
    }

    /// Whether any event is spooled.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// The delivery lock, when no one else holds it.
    pub fn try_lock(&self, name: &str) -> Option<File> {
        create_private_dir(&self.dir).ok()?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(name))
            .ok()?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).ok()?;
        Some(file)
    }
}

/// Removes a delivered (or unusable) event's file.
pub fn remove(path: &Path) {
    if let Err(e) = fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!(
            "fleet hook: cannot remove the delivered event {} ({e}): it may be delivered again, which changes nothing",
            path.display()
        );
    }
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn private_file(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{SessionStatus, Timestamp};

    fn env<'a>(pairs: &'a [(&'a str, String)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn the_data_dir_is_used_when_it_exists_else_the_state_dir() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path().to_string_lossy().into_owned();
        let vars = [("HOME", h.clone())];
        let spool = Spool::locate(&env(&vars)).unwrap();
        assert_eq!(
            spool.dir,
            home.path().join(".local/state/fleetcache/hook-spool")
        );
        fs::create_dir_all(home.path().join(".local/share/fleetcache")).unwrap();
        let spool = Spool::locate(&env(&vars)).unwrap();
        assert_eq!(
            spool.dir,
            home.path().join(".local/share/fleetcache/hook-spool")
        );
        assert_eq!(
            spool.also,
            [home.path().join(".local/state/fleetcache/hook-spool")]
        );
        assert_eq!(Spool::locate(&env(&[])), None);
    }

    #[test]
    fn events_come_back_in_the_order_they_were_spooled() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool {
            dir: dir.path().join("a"),
            also: vec![dir.path().join("b")],
        };
        let ops: Vec<Op> = (0..5)
            .map(|i| {
                Op::status(
                    Timestamp::from_millis(i),
                    "s",
                    "claude",
                    None,
                    SessionStatus::Idle,
                )
            })
            .collect();
        for op in &ops {
            spool.put(op).unwrap();
        }
        fs::write(spool.dir.join("zz-garbage.json"), "{").unwrap();
        let entries = spool.entries();
        assert_eq!(entries.len(), 6);
        let got: Vec<&Op> = entries.iter().filter_map(|e| e.op.as_ref().ok()).collect();
        assert_eq!(got, ops.iter().collect::<Vec<_>>());
        assert!(entries[5].op.is_err());
        let held = spool.try_lock("deliver.lock").unwrap();
        assert!(spool.try_lock("deliver.lock").is_none());
        drop(held);
        assert!(spool.try_lock("deliver.lock").is_some());
    }
}

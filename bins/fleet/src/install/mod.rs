//! `fleet hooks install|uninstall`: merges fleet's hook entries into an agent's
//! settings, or takes them out, keeping every other setting and hook.
//!
//! - [`json_hooks`]: Claude Code's and Gemini CLI's `settings.json` (`hooks` by event).
//! - [`codex`]: Codex CLI's `config.toml` (`notify`), edited as text and checked by
//!   parsing: everything but `notify` must read back the same.
//! - [`diff`]: the line diff shown under `--dry-run`.
//! - [`apply`] (this file): read, change, back up, write atomically.
//!
//! Idempotent: a second install (or uninstall) finds nothing to change and writes
//! nothing. A file that cannot be parsed is refused, untouched.

pub mod codex;
pub mod diff;
pub mod json_hooks;

use crate::hook::Agent;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Install or uninstall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Add fleet's entries.
    Install,
    /// Take them out.
    Uninstall,
}

/// Why the settings were not changed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct SettingsError {
    /// The settings file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The settings file.
    pub path: PathBuf,
    /// Its text before.
    pub before: String,
    /// Its text after (equal to `before`: nothing to do).
    pub after: String,
    /// The backup written, when the file existed and changed (not under dry run).
    pub backup: Option<PathBuf>,
}

/// The settings file of `agent` under `home`.
pub fn default_settings(agent: Agent, home: &Path) -> PathBuf {
    match agent {
        Agent::Claude => home.join(".claude/settings.json"),
        Agent::Codex => home.join(".codex/config.toml"),
        Agent::Gemini => home.join(".gemini/settings.json"),
    }
}

/// The program written into the settings: `program` quoted for a shell when needed.
pub fn shell_word(program: &str) -> String {
    if !program.is_empty()
        && program
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:@%,".contains(&b))
    {
        program.to_owned()
    } else {
        format!("'{}'", program.replace('\'', r"'\''"))
    }
}

/// Changes `path` for `agent`, running `program` as fleet; with `dry_run`, writes
/// nothing.
///
/// # Errors
/// [`SettingsError`] when the file cannot be read, parsed or written, or holds a
/// setting fleet must not replace.
pub fn apply(
    agent: Agent,
    direction: Direction,
    path: &Path,
    program: &str,
    dry_run: bool,
) -> Result<Applied, SettingsError> {
    let err = |reason: String| SettingsError {
        path: path.to_path_buf(),
        reason,
    };
    let existed = path.exists();
    let before = if existed {
        fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?
    } else {
        String::new()
    };
    let after = match (agent, direction) {
        (Agent::Codex, Direction::Install) => codex::install(&before, program),
        (Agent::Codex, Direction::Uninstall) => codex::uninstall(&before),
        (_, Direction::Install) => json_hooks::install(agent, &before, program),
        (_, Direction::Uninstall) => json_hooks::uninstall(agent, &before),
    }
    .map_err(err)?;
    let mut applied = Applied {
        path: path.to_path_buf(),
        before,
        after,
        backup: None,
    };
    if dry_run || applied.after == applied.before {
        return Ok(applied);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)
            .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
    }
    if existed {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let mut name = path.file_name().unwrap_or_default().to_owned();
        name.push(format!(".fleet-backup-{stamp}"));
        let backup = path.with_file_name(name);
        fs::copy(path, &backup)
            .map_err(|e| err(format!("cannot back it up to {}: {e}", backup.display())))?;
        applied.backup = Some(backup);
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".fleet-tmp");
    let tmp = path.with_file_name(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        if existed {
            f.set_permissions(fs::metadata(path)?.permissions())?;
        }
        f.write_all(applied.after.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        err(format!("cannot write it: {e}"))
    })?;
    Ok(applied)
}

//! `fleet hooks install|uninstall AGENT [--dry-run] [--settings PATH] [--program PATH]`:
//! see [`crate::install`]. Prints what changed (or the diff, under `--dry-run`).

use crate::cli::{HooksArgs, HooksCommand};
use crate::error::{ConfigError, FleetError};
use crate::install::{self, Direction, diff};
use std::path::PathBuf;

/// Runs `fleet hooks ...`.
///
/// # Errors
/// [`FleetError::Settings`] for a file refused or not written; [`FleetError::Config`]
/// when no home is known for the default settings path.
pub fn run(command: HooksCommand, _json: bool) -> Result<(), FleetError> {
    let (direction, args) = match command {
        HooksCommand::Install(args) => (Direction::Install, args),
        HooksCommand::Uninstall(args) => (Direction::Uninstall, args),
    };
    let HooksArgs {
        agent,
        dry_run,
        settings,
        program,
    } = args;
    let path = match settings {
        Some(path) => path,
        None => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|h| h.is_absolute())
                .ok_or_else(|| ConfigError::Settings {
                    reason: "HOME is not set to an absolute path: pass --settings PATH".into(),
                })?;
            install::default_settings(agent, &home)
        }
    };
    let program = match program {
        Some(p) => p,
        None => std::env::current_exe()
            .ok()
            .and_then(|p| p.canonicalize().ok())
            .map_or_else(|| "fleet".to_owned(), |p| p.to_string_lossy().into_owned()),
    };
    let applied = install::apply(agent, direction, &path, &program, dry_run)?;
    let shown = path.display().to_string();
    let verb = match direction {
        Direction::Install => "installed in",
        Direction::Uninstall => "removed from",
    };
    let mut out = String::new();
    if applied.after == applied.before {
        out.push_str(&format!(
            "unchanged: {shown} {} fleet's hooks for {}\n",
            if direction == Direction::Install {
                "already has"
            } else {
                "has none of"
            },
            agent.name()
        ));
    } else if dry_run {
        out.push_str(&diff::unified(&shown, &applied.before, &applied.after));
        out.push_str("dry run: nothing was written\n");
    } else {
        out.push_str(&format!(
            "fleet's hooks for {} {verb} {shown}\n",
            agent.name()
        ));
        if let Some(backup) = &applied.backup {
            out.push_str(&format!(
                "backup of the previous file: {}\n",
                backup.display()
            ));
        }
    }
    super::print(&out)
}

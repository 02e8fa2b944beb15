//! `fleet hooks install|uninstall`.

use crate::cli::HooksCommand;
use crate::error::FleetError;

/// Runs `fleet hooks ...`.
///
/// # Errors
/// A refused or unwritable settings file.
pub fn run(_command: HooksCommand, _json: bool) -> Result<(), FleetError> {
    Ok(())
}

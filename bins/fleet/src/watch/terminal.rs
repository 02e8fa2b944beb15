//! The real terminal for `fleet watch`: raw mode and the alternate screen on entry,
//! both undone when the guard drops, and by ratatui's panic hook on a panic.

use crate::error::FleetError;
use ratatui::DefaultTerminal;

/// Restores the terminal when dropped.
#[derive(Debug)]
pub struct Restore(());

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Switches the terminal to raw mode and the alternate screen.
///
/// # Errors
/// [`FleetError::Terminal`] when stdout is not a terminal that can be set up; what was
/// already changed is undone.
pub fn enter() -> Result<(DefaultTerminal, Restore), FleetError> {
    // Created first, so that a failure half-way restores what was changed.
    let restore = Restore(());
    let terminal = ratatui::try_init().map_err(FleetError::Terminal)?;
    Ok((terminal, restore))
}

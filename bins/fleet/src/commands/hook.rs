//! `fleet hook claude|codex|gemini|flush`: see [`crate::hook`]. Always succeeds.

use crate::cli::{ConnectionArgs, HookCommand};
use crate::error::FleetError;
use crate::hook::{self, Agent};

/// Runs a hook command.
///
/// # Errors
/// None: a hook never fails its agent; problems are said on stderr.
pub async fn run(command: HookCommand, conn: &ConnectionArgs) -> Result<(), FleetError> {
    match command {
        HookCommand::Claude => hook::run(Agent::Claude, hook::read_stdin(), conn).await,
        HookCommand::Codex { args } => {
            let input = match args.last() {
                Some(json) => Ok(json.clone().into_bytes()),
                None => hook::read_stdin(),
            };
            hook::run(Agent::Codex, input, conn).await;
        }
        HookCommand::Gemini => {
            hook::run(Agent::Gemini, hook::read_stdin(), conn).await;
            // Gemini CLI reads a hook's stdout as JSON.
            let _ = super::print("{}\n");
        }
        HookCommand::Flush { wait } => {
            let left = hook::drain::flush(conn, wait).await;
            if left > 0 {
                eprintln!("fleet hook flush: {left} event(s) still spooled");
            }
        }
    }
    Ok(())
}

//! The commands, one file each, all of the same shape: ask the daemon, then print
//! either its JSON exactly as answered (`--json`) or a table for people. [`run`] only
//! dispatches.

pub mod completions;
pub mod computers;
pub mod events;
pub mod hook;
pub mod hooks;
pub mod man;
pub mod notify;
pub mod projects;
pub mod refresh;
pub mod session;
pub mod sessions;
pub mod todos;
pub mod watch;

use crate::cli::{Cli, Command};
use crate::client::http::HttpClient;
use crate::endpoint::Endpoint;
use crate::error::FleetError;
use bytes::Bytes;
use model::{Clock as _, SystemClock, Timestamp};
use std::io::{self, Write as _};
use std::path::{Component, PathBuf};

/// Runs the command of `cli`.
///
/// # Errors
/// A [`FleetError`] whose [`exit_code`](FleetError::exit_code) the process exits with.
pub async fn run(cli: Cli) -> Result<(), FleetError> {
    // The hooks never fail and need no daemon to start; completions and man pages
    // need no daemon either.
    let command = match cli.command {
        Command::Hook(command) => return hook::run(command, &cli.connection).await,
        Command::Hooks(command) => return hooks::run(command, cli.json),
        Command::Completions { shell, program } => return completions::run(shell, program),
        Command::Man { dir } => return man::run(&dir),
        other => other,
    };
    let endpoint = Endpoint::from_env(&cli.connection)?;
    let client = HttpClient::new(endpoint);
    let json = cli.json;
    match command {
        Command::Computers => computers::run(&client, json).await,
        Command::Sessions { computer } => sessions::run(&client, json, computer.as_deref()).await,
        Command::Projects { computer } => projects::run(&client, json, computer.as_deref()).await,
        Command::Todos { computer, project } => {
            todos::run(&client, json, computer.as_deref(), project.as_deref()).await
        }
        Command::Session(command) => session::run(&client, json, command).await,
        Command::Refresh { computer, topics } => {
            refresh::run(&client, json, computer.as_deref(), &topics).await
        }
        Command::Events { topics, computers } => {
            events::run(client.endpoint(), &topics, &computers).await
        }
        Command::Watch => watch::run(&client).await,
        Command::Notify {
            exec,
            computers,
            existing,
        } => notify::run(client.endpoint(), exec.as_deref(), &computers, existing).await,
        Command::Hook(_)
        | Command::Hooks(_)
        | Command::Completions { .. }
        | Command::Man { .. } => Ok(()),
    }
}

/// The wall-clock time that ages in tables are counted to.
fn now() -> Timestamp {
    SystemClock.now()
}

/// Writes `text` to stdout. A closed pipe (`fleet sessions | head -1`) is not an error.
///
/// # Errors
/// [`FleetError::Output`] when stdout cannot be written for another reason.
pub fn print(text: &str) -> Result<(), FleetError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(FleetError::Output(e)),
        _ => Ok(()),
    }
}

/// Prints an API answer's body exactly as sent, with a final newline.
///
/// # Errors
/// As [`print()`].
pub fn print_body(body: &Bytes) -> Result<(), FleetError> {
    let mut text = String::from_utf8_lossy(body).into_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    print(&text)
}

/// Makes a relative path absolute against the working directory, as the API wants
/// absolute project paths; `.` and `..` are resolved by name (links are not followed).
/// An absolute path is kept as given.
pub fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        return path.to_owned();
    }
    let Ok(dir) = std::env::current_dir() else {
        return path.to_owned();
    };
    let mut out = PathBuf::new();
    for part in dir.join(path).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_become_absolute() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(absolute("/a/./b"), "/a/./b");
        assert_eq!(absolute("."), cwd.to_string_lossy());
        assert_eq!(absolute("./x/../y"), cwd.join("y").to_string_lossy());
    }
}

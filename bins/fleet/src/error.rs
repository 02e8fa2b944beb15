//! What can go wrong, and the exit code of each: 2 when there is no daemon to talk to or
//! the options are bad (as `fleetd` exits 2 on bad configuration), 1 for everything else
//! (the daemon refused a request, the connection broke, the terminal failed).

use std::io;
use std::path::PathBuf;

/// The exit code when no daemon answers, or an option is bad.
pub const EXIT_NO_DAEMON: u8 = 2;
/// The exit code of every other failure, such as an API error.
pub const EXIT_FAILURE: u8 = 1;

/// A bad option, found before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--url` is not `http://host:port`.
    #[error("--url {url:?}: {reason}")]
    Url {
        /// The value given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--token-file` cannot be used.
    #[error("--token-file {}: {reason}", path.display())]
    TokenFile {
        /// The file given.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// `--settings` has no default.
    #[error("--settings: {reason}")]
    Settings {
        /// Why.
        reason: String,
    },
}

/// A failure talking to the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens where the daemon should be.
    #[error("no fleetd daemon is answering at {endpoint} ({source})")]
    NoDaemon {
        /// Where it was looked for.
        endpoint: String,
        /// Why connecting failed.
        #[source]
        source: io::Error,
    },
    /// The daemon answered with an error (`{"error":{"code","message"}}`).
    #[error("{message} ({status} {code})")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error's code, e.g. `not_found`.
        code: String,
        /// The error's message, for a person.
        message: String,
    },
    /// The daemon did not answer in time.
    #[error("the daemon at {endpoint} did not answer within {seconds} s")]
    Timeout {
        /// Where it was asked.
        endpoint: String,
        /// How long fleet waited.
        seconds: u64,
    },
    /// The connection broke or the exchange failed.
    #[error("talking to the daemon at {endpoint} failed: {reason}")]
    Exchange {
        /// Where it was asked.
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// The daemon refused a WebSocket op with an `error` frame.
    #[error("the daemon refused: {message} ({code})")]
    Refused {
        /// The frame's code, e.g. `bad_field`.
        code: String,
        /// The frame's message.
        message: String,
    },
    /// The answer is not what the contract says.
    #[error("the daemon sent an answer fleet cannot read: {reason}")]
    BadAnswer {
        /// What is wrong with it.
        reason: String,
    },
}

/// Any failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A bad option.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Talking to the daemon failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The terminal could not be set up or drawn on.
    #[error("terminal: {0}")]
    Terminal(#[source] io::Error),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[source] io::Error),
    /// An agent's settings file was refused or could not be written.
    #[error(transparent)]
    Settings(#[from] crate::install::SettingsError),
}

impl FleetError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Client(ClientError::NoDaemon { .. }) => EXIT_NO_DAEMON,
            Self::Client(_) | Self::Terminal(_) | Self::Output(_) | Self::Settings(_) => {
                EXIT_FAILURE
            }
        }
    }

    /// What a person can do about it, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Client(ClientError::NoDaemon { .. }) => Some(
                "start one with `fleetd` (or `cargo run -p daemon` in the fleetcache \
                 repository), or point fleet at a running one with --socket PATH \
                 (FLEET_SOCKET) or --url http://HOST:PORT",
            ),
            Self::Client(ClientError::Api { status: 401, .. }) => {
                Some("the TCP listener wants its token: pass --token-file PATH")
            }
            _ => None,
        }
    }
}

/// Prints `e` (and its hint) to stderr, as `fleet: ...`.
pub fn report(e: &FleetError) {
    eprintln!("fleet: {e}");
    if let Some(hint) = e.hint() {
        eprintln!("hint: {hint}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let no_daemon = FleetError::Client(ClientError::NoDaemon {
            endpoint: "the socket /x".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        });
        assert_eq!(no_daemon.exit_code(), 2);
        assert!(no_daemon.hint().is_some_and(|h| h.contains("fleetd")));
        let api = FleetError::Client(ClientError::Api {
            status: 404,
            code: "not_found".into(),
            message: "no session \"x\"".into(),
        });
        assert_eq!(api.exit_code(), 1);
        assert_eq!(api.to_string(), "no session \"x\" (404 not_found)");
    }
}

//! The errors of the configuration: [`ConfigError`] for one bad setting,
//! [`ConfigErrors`] for all of them, and [`Origin`], where a value came from.

use std::fmt;
use std::path::PathBuf;

/// Where a setting's value came from, so a message can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The command line.
    CommandLine,
    /// The named environment variable.
    Env(&'static str),
    /// A key of the `--config` file.
    File {
        /// The key as spelled in the file.
        key: String,
        /// The file.
        path: PathBuf,
    },
    /// The built-in default (e.g. the host name for `--computer`).
    Default,
}

/// One bad setting.
#[derive(Debug)]
pub enum ConfigError {
    /// A setting's value is refused.
    Invalid {
        /// The flag the setting belongs to, e.g. `--heartbeat`.
        flag: &'static str,
        /// Where the refused value came from.
        origin: Origin,
        /// Why it is refused.
        message: String,
    },
    /// The command line could not be parsed; also carries clap's `--help` and
    /// `--version` answers (see [`clap::Error::kind`]).
    CommandLine(clap::Error),
}

/// Every bad setting found: the `--config` file's own errors first, then the
/// others in the order of the flag table. `Display` prints one a line.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid {
                flag,
                origin: Origin::Env(name),
                message,
            } => write!(f, "{flag} (from {name}): {message}"),
            ConfigError::Invalid {
                flag,
                origin: Origin::File { key, path },
                message,
            } => write!(
                f,
                "{flag} (from key {key:?} in {}): {message}",
                path.display()
            ),
            ConfigError::Invalid { flag, message, .. } => write!(f, "{flag}: {message}"),
            ConfigError::CommandLine(e) => write!(f, "{}", e.to_string().trim_end()),
        }
    }
}

impl std::error::Error for ConfigError {}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

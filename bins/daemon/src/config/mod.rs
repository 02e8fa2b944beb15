//! fleetd's configuration: command-line flags, environment and TOML file,
//! merged and checked (PROTOCOL.md section 1).
//!
//! Read [`Config::from_sources`] first: it parses the flags, reads the
//! `--config` file, picks each setting by precedence (flag, then environment
//! variable, then file, then default), checks every value and reads the token
//! and secret files. [`Config::load`] is the same on the process's own
//! arguments and environment.
//!
//! Decisions the contract leaves open:
//! - every bad setting is reported at once in [`ConfigErrors`], each message
//!   starting with its flag and saying where a value came from when it was not
//!   the command line; only a malformed command line (unknown flag, missing
//!   value) stops at clap's first complaint;
//! - an environment variable set to the empty string counts as unset;
//! - file keys are spelled like the flags, with `-` or `_`; an unknown key, a
//!   key given twice, or a value of the wrong type is an error even when a flag
//!   overrides it;
//! - every path in [`Config`] is absolute: relative paths from flags and
//!   environment are taken from the working directory, relative paths in the
//!   file from the file's directory;
//! - `--http localhost:PORT` means `127.0.0.1:PORT`; `--http` on an IPv4-mapped
//!   loopback address counts as loopback;
//! - the namespace may not hold `{` or `}`, which would change the Redis
//!   Cluster hash tags of section 5;
//! - the token must be printable ASCII without spaces (it travels in an HTTP
//!   header); token and secret files are trimmed and may hold at most 64 KiB;
//! - the Redis URL is never echoed in messages or `Debug` output (it may hold a
//!   password): only its scheme is;
//! - `rediss-cluster://` and `rediss-sentinel://` (TLS to a cluster or to
//!   sentinels and their master) are accepted beside the four schemes of the
//!   contract;
//! - the `--redis-*-file` TLS files are read and checked at start (a file
//!   that cannot be read or parsed, a certificate without its key or the
//!   reverse, a key that is not the certificate's); they need a TLS URL
//!   (`rediss...://`): with a plain one, or none, they are refused rather
//!   than ignored.
//!
//! This module does no logging: it runs before logging is set up, since the log
//! format is one of its settings.

//!
//! The parts, one job each:
//! - this file: [`Config`], [`LogFormat`], [`Config::load`] and
//!   [`Config::from_sources`], and the redacted `Debug` of [`Config`];
//! - `flags.rs`: the command line (clap) and the table of settings, each with
//!   its flag, environment variable and file key;
//! - `merge.rs`: picks each setting by precedence and builds the [`Config`];
//! - `file.rs`: reads the `--config` TOML file;
//! - `checks.rs`: checks and converts each value, and reads the token and
//!   secret files;
//! - `tls.rs`: the `--redis-*-file` TLS files, checked by the transport;
//! - `defaults.rs`: default paths, the host name and the user id;
//! - `errors.rs`: [`ConfigError`], [`ConfigErrors`] and [`Origin`];
//! - `tests/`: the unit tests.

mod checks;
mod defaults;
mod errors;
mod file;
mod flags;
mod merge;
#[cfg(test)]
mod tests;
mod tls;

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use peer_transport_redis::RedisTls;

pub use defaults::{current_uid, default_socket_path, system_host_name};
pub use errors::{ConfigError, ConfigErrors, Origin};

use flags::SETTINGS;

/// The namespace used when none is configured.
pub const DEFAULT_NAMESPACE: &str = "fleet";
/// The heartbeat period used when none is configured, in milliseconds.
pub const DEFAULT_HEARTBEAT_MS: u64 = 2_000;
/// The shortest heartbeat period accepted, in milliseconds.
pub const MIN_HEARTBEAT_MS: u64 = 50;
/// The longest heartbeat period accepted, in milliseconds.
pub const MAX_HEARTBEAT_MS: u64 = 600_000;

/// fleetd's settings, merged from flags, environment, file and defaults, and
/// checked: holding one means the configuration is valid.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// This computer's name; matches `^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`.
    pub computer: String,
    /// Redis URL (`redis`, `rediss`, `redis-cluster` or `redis-sentinel`);
    /// `None` is standalone mode. May hold a password: never log it as is.
    pub redis: Option<String>,
    /// Prefix of every Redis key: not empty, no whitespace, no braces.
    pub namespace: String,
    /// Path of the Unix socket for REST and WebSocket (absolute).
    pub socket: PathBuf,
    /// Optional TCP listener. When it is not loopback, `token` is set.
    pub http: Option<SocketAddr>,
    /// Bearer token required on the TCP listener: the token file's trimmed
    /// content, printable ASCII without spaces.
    pub token: Option<String>,
    /// Directory of the local session store (absolute).
    pub data_dir: PathBuf,
    /// Project directories (absolute, without duplicates, in the given order).
    pub projects: Vec<PathBuf>,
    /// Directories whose immediate subdirectories holding `.git` or `todos/`
    /// are projects (absolute, without duplicates, in the given order).
    pub projects_roots: Vec<PathBuf>,
    /// Heartbeat period, between [`MIN_HEARTBEAT_MS`] and [`MAX_HEARTBEAT_MS`].
    pub heartbeat: Duration,
    /// Fleet secret for signing Redis entries: the secret file's trimmed
    /// content, not empty.
    pub secret: Option<Vec<u8>>,
    /// Whether session writes other computers forward are applied
    /// (`--allow-remote-writes`); otherwise they are answered 403.
    pub allow_remote_writes: bool,
    /// CA, client certificate and key files for TLS to Redis (absolute
    /// paths, read and checked); all `None` without `--redis-*-file`. Set
    /// only with a TLS `redis` URL.
    pub redis_tls: RedisTls,
    /// Format of the logs on stderr.
    pub log_format: LogFormat,
}

/// The format of the logs written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

impl Config {
    /// Reads the configuration from the process's arguments and environment.
    ///
    /// On `--help` or `--version`, prints clap's answer to stdout and exits
    /// the process with code 0.
    ///
    /// # Errors
    /// Every bad setting, as in [`Config::from_sources`]; a `FLEET_*`
    /// variable that is not UTF-8 is one too. The caller prints them and exits
    /// with code 2.
    pub fn load() -> Result<Config, ConfigErrors> {
        let env = |name: &str| std::env::var(name).ok();
        let result = Self::from_sources(std::env::args_os(), &env);
        if let Err(ConfigErrors(errors)) = &result
            && let [ConfigError::CommandLine(e)] = errors.as_slice()
            && matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            )
        {
            // Printing to stdout may fail (closed pipe); there is nothing
            // better to do than exit anyway.
            let _ = e.print();
            std::process::exit(0);
        }
        let mut not_unicode: Vec<ConfigError> = SETTINGS
            .iter()
            .filter_map(|s| s.env.map(|name| (s.flag, name)))
            .filter(|(_, name)| {
                std::env::var_os(name).is_some_and(|value| value.to_str().is_none())
            })
            .map(|(flag, name)| ConfigError::Invalid {
                flag,
                origin: Origin::Env(name),
                message: "the value is not valid UTF-8".to_owned(),
            })
            .collect();
        match result {
            Ok(config) if not_unicode.is_empty() => Ok(config),
            Ok(_) => Err(ConfigErrors(not_unicode)),
            Err(ConfigErrors(mut errors)) => {
                errors.append(&mut not_unicode);
                Err(ConfigErrors(errors))
            }
        }
    }

    /// Reads the configuration from the given arguments (the first one is the
    /// program name, as in `std::env::args_os`) and environment lookup
    /// (`env(name)` is the variable's value, if set).
    ///
    /// Precedence, highest first: flag, environment variable, `--config`
    /// file, default. Reads the config, token and secret files; touches
    /// nothing else but the host name (the default of `--computer`) and the
    /// working directory (to make relative paths absolute).
    ///
    /// # Errors
    /// Every bad setting found, each naming its flag; or the one
    /// [`ConfigError::CommandLine`] when the command line itself is
    /// malformed, or asked for `--help` or `--version`.
    pub fn from_sources<I, T>(
        args: I,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigErrors>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        merge::build(args, env, &defaults::system_host_name)
    }
}

/// Shows the userinfo of a URL as `***`, since it may hold a password.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // Both indexes come from finding ASCII characters: slicing cannot panic.
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

impl fmt::Debug for Config {
    /// Like a derived `Debug`, with the token, the secret and any password in
    /// the Redis URL hidden, so the configuration can be logged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |set: bool| if set { Some("***") } else { None };
        f.debug_struct("Config")
            .field("computer", &self.computer)
            .field("redis", &self.redis.as_deref().map(redact_url))
            .field("namespace", &self.namespace)
            .field("socket", &self.socket)
            .field("http", &self.http)
            .field("token", &hidden(self.token.is_some()))
            .field("data_dir", &self.data_dir)
            .field("projects", &self.projects)
            .field("projects_roots", &self.projects_roots)
            .field("heartbeat", &self.heartbeat)
            .field("secret", &hidden(self.secret.is_some()))
            .field("allow_remote_writes", &self.allow_remote_writes)
            .field("redis_tls", &self.redis_tls)
            .field("log_format", &self.log_format)
            .finish()
    }
}

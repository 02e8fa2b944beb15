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
//!   password): only its scheme is.
//!
//! This module does no logging: it runs before logging is set up, since the log
//! format is one of its settings.

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

/// The namespace used when none is configured.
pub const DEFAULT_NAMESPACE: &str = "fleet";
/// The heartbeat period used when none is configured, in milliseconds.
pub const DEFAULT_HEARTBEAT_MS: u64 = 2_000;
/// The shortest heartbeat period accepted, in milliseconds.
pub const MIN_HEARTBEAT_MS: u64 = 50;
/// The longest heartbeat period accepted, in milliseconds.
pub const MAX_HEARTBEAT_MS: u64 = 600_000;

/// Redis URL schemes the transport understands.
const REDIS_SCHEMES: [&str; 4] = ["redis", "rediss", "redis-cluster", "redis-sentinel"];
/// The largest token or secret file read.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// The longest Unix socket path: `sun_path` holds it and its final NUL.
#[cfg(target_os = "linux")]
const MAX_SOCKET_PATH_BYTES: usize = 107;
#[cfg(not(target_os = "linux"))]
const MAX_SOCKET_PATH_BYTES: usize = 103;

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
        build(args, env, &system_host_name)
    }
}

/// The default Unix socket path: `$XDG_RUNTIME_DIR/fleetcache/fleetd.sock`
/// when `XDG_RUNTIME_DIR` is set to an absolute path, else
/// `/tmp/fleetcache-$UID/fleetd.sock`. The `fleet` client uses the same
/// default to find the daemon.
pub fn default_socket_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match env_dir(env, "XDG_RUNTIME_DIR") {
        Some(dir) => dir.join("fleetcache").join("fleetd.sock"),
        None => PathBuf::from(format!("/tmp/fleetcache-{}", current_uid())).join("fleetd.sock"),
    }
}

/// The default data directory: `$XDG_DATA_HOME/fleetcache` when
/// `XDG_DATA_HOME` is an absolute path, else `$HOME/.local/share/fleetcache`.
fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = env_dir(env, "XDG_DATA_HOME") {
        return Some(dir.join("fleetcache"));
    }
    env_dir(env, "HOME").map(|home| home.join(".local/share/fleetcache"))
}

/// An environment variable naming a directory; the XDG rules ignore relative
/// paths.
fn env_dir(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<PathBuf> {
    env(name).map(PathBuf::from).filter(|dir| dir.is_absolute())
}

/// The command line. Parsed values stay strings so that bad values are
/// checked, and reported all together, by this module rather than by clap.
#[derive(Debug, Parser)]
#[command(
    name = "fleetd",
    version,
    about = "fleetcache daemon: shares agent sessions, projects and todos across a fleet of computers",
    after_help = "Flags win over environment variables, which win over the --config file."
)]
struct Cli {
    /// This computer's name [env: FLEET_COMPUTER] [default: host name]
    #[arg(long, value_name = "NAME")]
    computer: Option<String>,
    /// Redis URL: redis://, rediss://, redis-cluster:// or redis-sentinel://; absent = standalone [env: FLEET_REDIS_URL]
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Prefix of every Redis key [env: FLEET_NAMESPACE] [default: fleet]
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// Unix socket for REST and WebSocket [env: FLEET_SOCKET] [default: $XDG_RUNTIME_DIR/fleetcache/fleetd.sock, else /tmp/fleetcache-$UID/fleetd.sock]
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Optional TCP listener, e.g. 127.0.0.1:7070; needs --token-file unless loopback [env: FLEET_HTTP]
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// File holding the bearer token of the TCP listener [env: FLEET_TOKEN_FILE]
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// Directory of the local session store [env: FLEET_DATA_DIR] [default: $XDG_DATA_HOME/fleetcache, else ~/.local/share/fleetcache]
    #[arg(long, value_name = "PATH")]
    data_dir: Option<PathBuf>,
    /// A project directory; repeatable [env: FLEET_PROJECTS, ':'-separated]
    #[arg(long = "project", value_name = "PATH")]
    project: Vec<PathBuf>,
    /// A directory whose subdirectories holding .git or todos/ are projects; repeatable
    #[arg(long = "projects-root", value_name = "PATH")]
    projects_root: Vec<PathBuf>,
    /// Heartbeat period in milliseconds, 50 to 600000 [default: 2000]
    #[arg(long, value_name = "MS")]
    heartbeat: Option<String>,
    /// File holding the fleet secret that signs every Redis entry [env: FLEET_SECRET_FILE]
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// TOML file with the same keys as the flags (e.g. data-dir or data_dir)
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Log format on stderr: text or json; the level comes from RUST_LOG [default: text]
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
}

/// One setting: its flag, environment variable and file key.
struct Setting {
    flag: &'static str,
    env: Option<&'static str>,
}

impl Setting {
    const fn new(flag: &'static str, env: Option<&'static str>) -> Setting {
        Setting { flag, env }
    }

    /// The file key, in its `-` spelling.
    fn key(&self) -> &'static str {
        self.flag.trim_start_matches("--")
    }
}

const COMPUTER: Setting = Setting::new("--computer", Some("FLEET_COMPUTER"));
const REDIS: Setting = Setting::new("--redis", Some("FLEET_REDIS_URL"));
const NAMESPACE: Setting = Setting::new("--namespace", Some("FLEET_NAMESPACE"));
const SOCKET: Setting = Setting::new("--socket", Some("FLEET_SOCKET"));
const HTTP: Setting = Setting::new("--http", Some("FLEET_HTTP"));
const TOKEN_FILE: Setting = Setting::new("--token-file", Some("FLEET_TOKEN_FILE"));
const DATA_DIR: Setting = Setting::new("--data-dir", Some("FLEET_DATA_DIR"));
const PROJECT: Setting = Setting::new("--project", Some("FLEET_PROJECTS"));
const PROJECTS_ROOT: Setting = Setting::new("--projects-root", None);
const HEARTBEAT: Setting = Setting::new("--heartbeat", None);
const SECRET_FILE: Setting = Setting::new("--secret-file", Some("FLEET_SECRET_FILE"));
const CONFIG: Setting = Setting::new("--config", None);
const LOG_FORMAT: Setting = Setting::new("--log-format", None);

/// The settings a file may hold (all but `--config`).
const SETTINGS: [&Setting; 12] = [
    &COMPUTER,
    &REDIS,
    &NAMESPACE,
    &SOCKET,
    &HTTP,
    &TOKEN_FILE,
    &DATA_DIR,
    &PROJECT,
    &PROJECTS_ROOT,
    &HEARTBEAT,
    &SECRET_FILE,
    &LOG_FORMAT,
];

/// A value and where it came from.
struct Sourced<T> {
    value: T,
    origin: Origin,
}

/// The sources being merged, and the errors found so far.
struct Sources<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    /// The file's settings by key in `-` spelling: (key as written, value).
    file: std::collections::BTreeMap<String, (String, toml::Value)>,
    file_path: PathBuf,
    errors: Vec<ConfigError>,
}

/// Parses, merges and checks; `host_name` gives the default `--computer`.
fn build<I, T>(
    args: I,
    env: &dyn Fn(&str) -> Option<String>,
    host_name: &dyn Fn() -> std::io::Result<String>,
) -> Result<Config, ConfigErrors>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli =
        Cli::try_parse_from(args).map_err(|e| ConfigErrors(vec![ConfigError::CommandLine(e)]))?;
    let mut s = Sources {
        env,
        file: Default::default(),
        file_path: PathBuf::new(),
        errors: Vec::new(),
    };
    if let Some(path) = &cli.config {
        s.read_file(path);
    }

    let computer = match s.string(&COMPUTER, cli.computer) {
        Some(v) => s.check(&COMPUTER, v, check_computer),
        None => s.default_computer(host_name),
    };
    let redis = s
        .string(&REDIS, cli.redis)
        .and_then(|v| s.check(&REDIS, v, check_redis));
    let namespace = match s.string(&NAMESPACE, cli.namespace) {
        Some(v) => s.check(&NAMESPACE, v, check_namespace),
        None => Some(DEFAULT_NAMESPACE.to_owned()),
    };
    let socket = match s.path(&SOCKET, cli.socket) {
        Some(v) => s.check(&SOCKET, v, check_socket),
        None => {
            let v = Sourced {
                value: default_socket_path(env),
                origin: Origin::Default,
            };
            s.check(&SOCKET, v, check_socket)
        }
    };
    let http = s.string(&HTTP, cli.http).map(|v| {
        let origin = v.origin.clone();
        (s.check(&HTTP, v, parse_http), origin)
    });
    let token_file = s.path(&TOKEN_FILE, cli.token_file);
    let token_given = token_file.is_some();
    let token = token_file.and_then(|v| s.check(&TOKEN_FILE, v, read_token));
    let http = match http {
        Some((Some(addr), origin)) => {
            // A token file that failed to read is reported already.
            if !token_given && !addr.ip().to_canonical().is_loopback() {
                s.error(
                    &HTTP,
                    origin,
                    format!(
                        "{addr} is not a loopback address, so a bearer token is required: \
                         add --token-file PATH (or FLEET_TOKEN_FILE)"
                    ),
                );
            }
            Some(addr)
        }
        _ => None,
    };

    let data_dir = match s.path(&DATA_DIR, cli.data_dir) {
        Some(v) => s.check(&DATA_DIR, v, absolute),
        None => match default_data_dir(env) {
            Some(dir) => s.check(
                &DATA_DIR,
                Sourced {
                    value: dir,
                    origin: Origin::Default,
                },
                absolute,
            ),
            None => {
                s.error(
                    &DATA_DIR,
                    Origin::Default,
                    "neither XDG_DATA_HOME nor HOME is set to an absolute path; \
                     choose a directory with --data-dir PATH or FLEET_DATA_DIR",
                );
                None
            }
        },
    };
    let projects = s
        .paths(&PROJECT, cli.project)
        .and_then(|v| s.check(&PROJECT, v, check_dirs));
    let projects_roots = s
        .paths(&PROJECTS_ROOT, cli.projects_root)
        .and_then(|v| s.check(&PROJECTS_ROOT, v, check_dirs));
    let heartbeat = match s.string(&HEARTBEAT, cli.heartbeat) {
        Some(v) => s.check(&HEARTBEAT, v, parse_heartbeat),
        None => Some(Duration::from_millis(DEFAULT_HEARTBEAT_MS)),
    };
    let secret = s
        .path(&SECRET_FILE, cli.secret_file)
        .and_then(|v| s.check(&SECRET_FILE, v, read_secret));
    let log_format = match s.string(&LOG_FORMAT, cli.log_format) {
        Some(v) => s.check(&LOG_FORMAT, v, parse_log_format),
        None => Some(LogFormat::Text),
    };

    if !s.errors.is_empty() {
        return Err(ConfigErrors(s.errors));
    }
    // Every setting without a value pushed an error, so with no error they
    // all have one; the fallback only guards against a bug in this function.
    match (computer, namespace, socket, data_dir, heartbeat, log_format) {
        (
            Some(computer),
            Some(namespace),
            Some(socket),
            Some(data_dir),
            Some(heartbeat),
            Some(log_format),
        ) => Ok(Config {
            computer,
            redis,
            namespace,
            socket,
            http,
            token,
            data_dir,
            projects: projects.unwrap_or_default(),
            projects_roots: projects_roots.unwrap_or_default(),
            heartbeat,
            secret,
            log_format,
        }),
        _ => Err(ConfigErrors(vec![ConfigError::Invalid {
            flag: CONFIG.flag,
            origin: Origin::Default,
            message: "internal error: a setting has no value".to_owned(),
        }])),
    }
}

impl Sources<'_> {
    fn error(&mut self, setting: &Setting, origin: Origin, message: impl Into<String>) {
        self.errors.push(ConfigError::Invalid {
            flag: setting.flag,
            origin,
            message: message.into(),
        });
    }

    /// Applies `check` to the value; on failure records the error.
    fn check<T, U>(
        &mut self,
        setting: &Setting,
        value: Sourced<T>,
        check: impl FnOnce(T) -> Result<U, String>,
    ) -> Option<U> {
        match check(value.value) {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(setting, value.origin, message);
                None
            }
        }
    }

    /// Reads the `--config` file into `self.file`, recording its errors.
    fn read_file(&mut self, path: &Path) {
        self.file_path = path.to_path_buf();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                self.error(
                    &CONFIG,
                    Origin::CommandLine,
                    format!("cannot read {}: {e}", path.display()),
                );
                return;
            }
        };
        let table: toml::Table = match toml::from_str(&text) {
            Ok(table) => table,
            Err(e) => {
                let place = e.span().map_or_else(String::new, |span| {
                    let before = text.get(..span.start).unwrap_or(&text);
                    let line = before.matches('\n').count() + 1;
                    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
                    format!(" (line {line}, column {column})")
                });
                self.error(
                    &CONFIG,
                    Origin::CommandLine,
                    format!(
                        "{} is not valid TOML: {}{place}",
                        path.display(),
                        e.message().trim_end()
                    ),
                );
                return;
            }
        };
        for (key, value) in table {
            let normal = key.replace('_', "-");
            if !SETTINGS.iter().any(|s| s.key() == normal) {
                let known: Vec<&str> = SETTINGS.iter().map(|s| s.key()).collect();
                self.error(
                    &CONFIG,
                    Origin::CommandLine,
                    format!(
                        "unknown key {key:?} in {}; known keys: {}",
                        path.display(),
                        known.join(", ")
                    ),
                );
            } else if let Some((first, _)) = self.file.get(&normal) {
                let message = format!(
                    "keys {first:?} and {key:?} in {} are the same setting; keep one",
                    path.display()
                );
                self.error(&CONFIG, Origin::CommandLine, message);
            } else {
                self.file.insert(normal, (key, value));
            }
        }
    }

    fn file_origin(&self, key: String) -> Origin {
        Origin::File {
            key,
            path: self.file_path.clone(),
        }
    }

    /// The file's string value for `setting`; an integer is taken too for
    /// `--heartbeat`.
    fn file_string(&mut self, setting: &Setting) -> Option<Sourced<String>> {
        let (key, value) = self.file.remove(setting.key())?;
        let origin = self.file_origin(key);
        match value {
            toml::Value::String(value) => Some(Sourced { value, origin }),
            toml::Value::Integer(n) if setting.flag == HEARTBEAT.flag => Some(Sourced {
                value: n.to_string(),
                origin,
            }),
            other => {
                let expected = if setting.flag == HEARTBEAT.flag {
                    "an integer (milliseconds)"
                } else {
                    "a string"
                };
                self.error(
                    setting,
                    origin,
                    format!("expected {expected}, found {}", other.type_str()),
                );
                None
            }
        }
    }

    /// The value of an environment variable, empty counting as unset.
    fn env_string(&self, setting: &Setting) -> Option<Sourced<String>> {
        let name = setting.env?;
        let value = (self.env)(name).filter(|v| !v.is_empty())?;
        Some(Sourced {
            value,
            origin: Origin::Env(name),
        })
    }

    /// A string setting by precedence. The file is looked at even when a
    /// flag wins, so that its type errors are reported.
    fn string(&mut self, setting: &Setting, flag: Option<String>) -> Option<Sourced<String>> {
        let file = self.file_string(setting);
        if let Some(value) = flag {
            return Some(Sourced {
                value,
                origin: Origin::CommandLine,
            });
        }
        self.env_string(setting).or(file)
    }

    /// A path setting by precedence; a relative path from the file is taken
    /// from the file's directory.
    fn path(&mut self, setting: &Setting, flag: Option<PathBuf>) -> Option<Sourced<PathBuf>> {
        let file = self.file_string(setting).map(|v| Sourced {
            value: self.in_file_dir(&v.value),
            origin: v.origin,
        });
        if let Some(value) = flag {
            return Some(Sourced {
                value,
                origin: Origin::CommandLine,
            });
        }
        self.env_string(setting)
            .map(|v| Sourced {
                value: PathBuf::from(v.value),
                origin: v.origin,
            })
            .or(file)
    }

    /// A repeatable path setting by precedence: the first source that gives
    /// any path gives them all. The environment variable is `:`-separated,
    /// empty parts skipped; the file holds an array of strings (or a string).
    fn paths(&mut self, setting: &Setting, flag: Vec<PathBuf>) -> Option<Sourced<Vec<PathBuf>>> {
        let file = self.file_paths(setting);
        if !flag.is_empty() {
            return Some(Sourced {
                value: flag,
                origin: Origin::CommandLine,
            });
        }
        if let Some(v) = self.env_string(setting) {
            let value = v
                .value
                .split(':')
                .filter(|part| !part.is_empty())
                .map(PathBuf::from)
                .collect();
            return Some(Sourced {
                value,
                origin: v.origin,
            });
        }
        file
    }

    fn file_paths(&mut self, setting: &Setting) -> Option<Sourced<Vec<PathBuf>>> {
        let (key, value) = self.file.remove(setting.key())?;
        let origin = self.file_origin(key);
        let items = match value {
            toml::Value::String(one) => vec![toml::Value::String(one)],
            toml::Value::Array(items) => items,
            other => {
                let message = format!("expected an array of strings, found {}", other.type_str());
                self.error(setting, origin, message);
                return None;
            }
        };
        let mut paths = Vec::with_capacity(items.len());
        for item in items {
            match item {
                toml::Value::String(path) => paths.push(self.in_file_dir(&path)),
                other => {
                    let message = format!(
                        "expected an array of strings, found {} in it",
                        other.type_str()
                    );
                    self.error(setting, origin, message);
                    return None;
                }
            }
        }
        Some(Sourced {
            value: paths,
            origin,
        })
    }

    /// A path written in the file, taken from the file's directory when
    /// relative. An empty path stays empty so that it is refused as such.
    fn in_file_dir(&self, path: &str) -> PathBuf {
        if path.is_empty() {
            return PathBuf::new();
        }
        match self.file_path.parent() {
            Some(dir) => dir.join(path),
            None => PathBuf::from(path),
        }
    }

    /// The host name as computer name, when it is a valid one.
    fn default_computer(
        &mut self,
        host_name: &dyn Fn() -> std::io::Result<String>,
    ) -> Option<String> {
        let message = match host_name() {
            Ok(name) if model::validate_computer_name(&name).is_ok() => return Some(name),
            Ok(name) => format!(
                "the host name {name:?} is not a valid computer name \
                 (^[A-Za-z0-9][A-Za-z0-9._-]{{0,62}}$); choose one with --computer NAME or FLEET_COMPUTER"
            ),
            Err(e) => format!(
                "cannot read the host name ({e}); choose a computer name with --computer NAME or FLEET_COMPUTER"
            ),
        };
        self.error(&COMPUTER, Origin::Default, message);
        None
    }
}

fn check_computer(name: String) -> Result<String, String> {
    match model::validate_computer_name(&name) {
        Ok(()) => Ok(name),
        Err(model::Error::InvalidField { reason, .. }) => Err(reason),
        Err(e) => Err(e.to_string()),
    }
}

/// Checks the scheme and that there is a host, without ever echoing the URL
/// (it may hold a password).
fn check_redis(url: String) -> Result<String, String> {
    let expected = "redis://, rediss://, redis-cluster:// or redis-sentinel://";
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("not a URL: expected one starting with {expected}"));
    };
    if !REDIS_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        let shown = if scheme.len() <= 32
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            format!("scheme {scheme:?}")
        } else {
            "the scheme".to_owned()
        };
        return Err(format!("{shown} is not supported: expected {expected}"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL must not contain whitespace".to_owned());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() {
        return Err("the URL names no host".to_owned());
    }
    Ok(url)
}

fn check_namespace(ns: String) -> Result<String, String> {
    if ns.is_empty() {
        Err("must not be empty".to_owned())
    } else if ns.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(format!("{ns:?} must not contain whitespace"))
    } else if ns.contains(['{', '}']) {
        Err(format!(
            "{ns:?} must not contain braces: they would change the Redis Cluster hash tags"
        ))
    } else {
        Ok(ns)
    }
}

/// Makes a path absolute (from the working directory), refusing empty ones.
fn absolute(path: PathBuf) -> Result<PathBuf, String> {
    if path.as_os_str().is_empty() {
        return Err("the path must not be empty".to_owned());
    }
    std::path::absolute(&path).map_err(|e| format!("cannot make {} absolute: {e}", path.display()))
}

fn check_socket(path: PathBuf) -> Result<PathBuf, String> {
    let path = absolute(path)?;
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH_BYTES {
        return Err(format!(
            "{} is {len} bytes long, over the {MAX_SOCKET_PATH_BYTES}-byte limit of Unix socket paths",
            path.display()
        ));
    }
    Ok(path)
}

fn check_dirs(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = Vec::with_capacity(paths.len());
    for path in paths {
        let path = absolute(path)?;
        if !out.contains(&path) {
            out.push(path);
        }
    }
    Ok(out)
}

fn parse_http(addr: String) -> Result<SocketAddr, String> {
    if let Ok(parsed) = addr.parse::<SocketAddr>() {
        return Ok(parsed);
    }
    if let Some(port) = addr.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    Err(format!(
        "{addr:?} is not an address and port such as 127.0.0.1:7070 or [::1]:7070"
    ))
}

fn parse_heartbeat(ms: String) -> Result<Duration, String> {
    let n: u64 = ms
        .trim()
        .parse()
        .map_err(|_| format!("{ms:?} is not a whole number of milliseconds"))?;
    if n < MIN_HEARTBEAT_MS {
        Err(format!("{n} is below the minimum of {MIN_HEARTBEAT_MS} ms"))
    } else if n > MAX_HEARTBEAT_MS {
        Err(format!("{n} is above the maximum of {MAX_HEARTBEAT_MS} ms"))
    } else {
        Ok(Duration::from_millis(n))
    }
}

fn parse_log_format(format: String) -> Result<LogFormat, String> {
    match format.as_str() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!(
            "{format:?} is not a log format: expected text or json"
        )),
    }
}

/// Reads a token or secret file: at most 64 KiB, trimmed, not empty.
fn read_key_file(path: PathBuf) -> Result<(PathBuf, Vec<u8>), String> {
    let path = absolute(path)?;
    let cannot_read = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let file = std::fs::File::open(&path).map_err(cannot_read)?;
    let mut content = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut content)
        .map_err(cannot_read)?;
    if content.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(format!(
            "{} is larger than {} KiB",
            path.display(),
            MAX_KEY_FILE_BYTES / 1024
        ));
    }
    let trimmed = content.trim_ascii().to_vec();
    if trimmed.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok((path, trimmed))
}

fn read_token(path: PathBuf) -> Result<String, String> {
    let (path, token) = read_key_file(path)?;
    let printable = format!(
        "the token in {} must be printable ASCII without spaces (it is sent in an HTTP header)",
        path.display()
    );
    if !token.iter().all(u8::is_ascii_graphic) {
        return Err(printable);
    }
    String::from_utf8(token).map_err(|_| printable)
}

fn read_secret(path: PathBuf) -> Result<Vec<u8>, String> {
    read_key_file(path).map(|(_, secret)| secret)
}

/// The system's host name (`uname`), else `/etc/hostname`.
fn system_host_name() -> std::io::Result<String> {
    let uname = rustix::system::uname();
    match uname.nodename().to_str() {
        Ok(name) if !name.trim().is_empty() => Ok(name.trim().to_owned()),
        _ => Ok(std::fs::read_to_string("/etc/hostname")?.trim().to_owned()),
    }
}

/// The real user id of this process.
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
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
            .field("log_format", &self.log_format)
            .finish()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The environment of most tests: HOME and XDG_RUNTIME_DIR set.
    const BASE_ENV: [(&str, &str); 2] =
        [("HOME", "/home/u"), ("XDG_RUNTIME_DIR", "/run/user/1000")];

    /// Loads from `args` (without the program name) and exactly `env`, with
    /// the host name `testhost`.
    fn load_with(args: &[&str], env: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        load_host(args, env, "testhost")
    }

    fn load_host(args: &[&str], env: &[(&str, &str)], host: &str) -> Result<Config, ConfigErrors> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = move |name: &str| env.get(name).cloned();
        let host = host.to_owned();
        let host_name = move || Ok(host.clone());
        build(
            std::iter::once("fleetd").chain(args.iter().copied()),
            &lookup,
            &host_name,
        )
    }

    /// Loads with [`BASE_ENV`] plus `env`, expecting success.
    fn ok(args: &[&str], env: &[(&str, &str)]) -> Config {
        let mut all = BASE_ENV.to_vec();
        all.extend_from_slice(env);
        match load_with(args, &all) {
            Ok(config) => config,
            Err(e) => panic!("expected a valid configuration, got:\n{e}"),
        }
    }

    /// Loads with [`BASE_ENV`] plus `env`, expecting errors; returns their
    /// messages.
    fn errors(args: &[&str], env: &[(&str, &str)]) -> Vec<String> {
        let mut all = BASE_ENV.to_vec();
        all.extend_from_slice(env);
        match load_with(args, &all) {
            Ok(config) => panic!("expected errors, got {config:?}"),
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    /// Expects exactly one error, starting with `prefix`; returns it.
    fn one_error(args: &[&str], env: &[(&str, &str)], prefix: &str) -> String {
        let errors = errors(args, env);
        assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
        assert!(
            errors[0].starts_with(prefix),
            "expected an error starting with {prefix:?}, got {:?}",
            errors[0]
        );
        errors[0].clone()
    }

    /// A directory removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("fleetd-config-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn file(&self, name: &str, content: &str) -> String {
            let path = self.0.join(name);
            std::fs::write(&path, content).unwrap();
            path.to_str().unwrap().to_owned()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn defaults() {
        let config = ok(&[], &[]);
        assert_eq!(
            config,
            Config {
                computer: "testhost".into(),
                redis: None,
                namespace: "fleet".into(),
                socket: "/run/user/1000/fleetcache/fleetd.sock".into(),
                http: None,
                token: None,
                data_dir: "/home/u/.local/share/fleetcache".into(),
                projects: vec![],
                projects_roots: vec![],
                heartbeat: Duration::from_millis(2000),
                secret: None,
                log_format: LogFormat::Text,
            }
        );
    }

    #[test]
    fn default_paths_follow_xdg_then_fallbacks() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let fallback = PathBuf::from(format!("/tmp/fleetcache-{}/fleetd.sock", current_uid()));
        assert_eq!(default_socket_path(&env(&[])), fallback);
        // The XDG rules ignore relative paths.
        assert_eq!(
            default_socket_path(&env(&[("XDG_RUNTIME_DIR", "run")])),
            fallback
        );
        assert_eq!(
            default_socket_path(&env(&[("XDG_RUNTIME_DIR", "/run/user/7")])),
            PathBuf::from("/run/user/7/fleetcache/fleetd.sock")
        );
        let config = ok(&[], &[("XDG_DATA_HOME", "/data")]);
        assert_eq!(config.data_dir, PathBuf::from("/data/fleetcache"));
        let config = load_with(&[], &[("HOME", "/h")]).unwrap();
        assert_eq!(config.socket, fallback);
    }

    #[test]
    fn data_dir_without_home_asks_for_the_flag() {
        let errors: Vec<String> = load_with(&[], &[])
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].starts_with("--data-dir: neither XDG_DATA_HOME nor HOME"),
            "{errors:#?}"
        );
        assert!(load_with(&["--data-dir", "/d"], &[]).is_ok());
    }

    #[test]
    fn precedence_flag_over_env_over_file_over_default() {
        let dir = TempDir::new();
        let file = dir.file(
            "fleet.toml",
            "computer = \"file-host\"\nnamespace = \"file-ns\"\nredis = \"redis://file:6379\"\n\
             heartbeat = 3000\nlog_format = \"json\"\nproject = [\"/p/file\"]\n\
             data-dir = \"/d/file\"\nsocket = \"/s/file.sock\"\nhttp = \"127.0.0.1:1\"\n",
        );
        // File over defaults.
        let config = ok(&["--config", &file], &[]);
        assert_eq!(config.computer, "file-host");
        assert_eq!(config.namespace, "file-ns");
        assert_eq!(config.redis.as_deref(), Some("redis://file:6379"));
        assert_eq!(config.heartbeat, Duration::from_millis(3000));
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.projects, vec![PathBuf::from("/p/file")]);
        assert_eq!(config.data_dir, PathBuf::from("/d/file"));
        assert_eq!(config.socket, PathBuf::from("/s/file.sock"));
        assert_eq!(config.http, Some("127.0.0.1:1".parse().unwrap()));

        // Env over file.
        let env = [
            ("FLEET_COMPUTER", "env-host"),
            ("FLEET_NAMESPACE", "env-ns"),
            ("FLEET_REDIS_URL", "redis://env:6379"),
            ("FLEET_PROJECTS", "/p/env"),
            ("FLEET_DATA_DIR", "/d/env"),
            ("FLEET_SOCKET", "/s/env.sock"),
            ("FLEET_HTTP", "127.0.0.1:2"),
        ];
        let config = ok(&["--config", &file], &env);
        assert_eq!(config.computer, "env-host");
        assert_eq!(config.namespace, "env-ns");
        assert_eq!(config.redis.as_deref(), Some("redis://env:6379"));
        assert_eq!(config.projects, vec![PathBuf::from("/p/env")]);
        assert_eq!(config.data_dir, PathBuf::from("/d/env"));
        assert_eq!(config.socket, PathBuf::from("/s/env.sock"));
        assert_eq!(config.http, Some("127.0.0.1:2".parse().unwrap()));

        // Flags over env.
        let args = [
            "--config",
            &file,
            "--computer",
            "flag-host",
            "--namespace",
            "flag-ns",
            "--redis",
            "rediss://flag:6380",
            "--heartbeat",
            "4000",
            "--log-format",
            "text",
            "--project",
            "/p/flag",
            "--data-dir",
            "/d/flag",
            "--socket",
            "/s/flag.sock",
            "--http",
            "127.0.0.1:3",
        ];
        let config = ok(&args, &env);
        assert_eq!(config.computer, "flag-host");
        assert_eq!(config.namespace, "flag-ns");
        assert_eq!(config.redis.as_deref(), Some("rediss://flag:6380"));
        assert_eq!(config.heartbeat, Duration::from_millis(4000));
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.projects, vec![PathBuf::from("/p/flag")]);
        assert_eq!(config.data_dir, PathBuf::from("/d/flag"));
        assert_eq!(config.socket, PathBuf::from("/s/flag.sock"));
        assert_eq!(config.http, Some("127.0.0.1:3".parse().unwrap()));
    }

    #[test]
    fn empty_env_counts_as_unset() {
        let config = ok(&[], &[("FLEET_NAMESPACE", ""), ("FLEET_REDIS_URL", "")]);
        assert_eq!(config.namespace, "fleet");
        assert_eq!(config.redis, None);
    }

    #[test]
    fn file_keys_take_dash_or_underscore_and_paths_are_relative_to_the_file() {
        let dir = TempDir::new();
        let token = dir.file("token", "tok\n");
        let file = dir.file(
            "fleet.toml",
            "data_dir = \"store\"\nprojects-root = [\"src\", \"/abs\"]\n\
             http = \"0.0.0.0:7070\"\ntoken-file = \"token\"\nsecret_file = \"token\"\n\
             project = \"one\"\n",
        );
        let config = ok(&["--config", &file], &[]);
        assert_eq!(config.data_dir, dir.0.join("store"));
        assert_eq!(
            config.projects_roots,
            vec![dir.0.join("src"), PathBuf::from("/abs")]
        );
        assert_eq!(config.projects, vec![dir.0.join("one")]);
        assert_eq!(config.token.as_deref(), Some("tok"));
        assert_eq!(config.secret.as_deref(), Some(&b"tok"[..]));
        assert!(token.ends_with("token"));
    }

    #[test]
    fn file_errors_name_the_config_flag_or_the_setting() {
        let dir = TempDir::new();
        let file = dir.file(
            "fleet.toml",
            "namespce = \"x\"\nheartbeat = \"abc\"\nproject = [\"a\", 1]\n\
             data_dir = \"d\"\ndata-dir = \"e\"\nredis = 5\n",
        );
        let errors = errors(&["--config", &file, "--redis", "redis://h"], &[]);
        assert_eq!(errors.len(), 5, "{errors:#?}");
        let has = |prefix: &str| errors.iter().any(|e| e.starts_with(prefix));
        assert!(has("--config: unknown key \"namespce\""), "{errors:#?}");
        assert!(
            has("--config: keys \"data-dir\" and \"data_dir\""),
            "{errors:#?}"
        );
        // A type error is reported even when a flag overrides the key.
        assert!(has("--redis (from key \"redis\" in "), "{errors:#?}");
        assert!(has("--project (from key \"project\" in "), "{errors:#?}");
        assert!(
            has("--heartbeat (from key \"heartbeat\" in "),
            "{errors:#?}"
        );

        let missing = dir.0.join("missing.toml");
        one_error(
            &["--config", missing.to_str().unwrap()],
            &[],
            "--config: cannot read",
        );
        let bad = dir.file("bad.toml", "a = = 1");
        let e = one_error(&["--config", &bad], &[], "--config: ");
        assert!(
            e.contains("is not valid TOML") && e.contains("line 1"),
            "{e}"
        );
    }

    #[test]
    fn every_validation_error_names_its_flag() {
        let dir = TempDir::new();
        let empty = dir.file("empty", " \n");
        let spaced = dir.file("spaced", "a b");
        let missing = dir.0.join("missing").to_str().unwrap().to_owned();
        let long = format!("/tmp/{}", "x".repeat(120));
        // Arguments separated by `|`; $E, $S, $M, $L stand for the files above.
        let from_flags = [
            ("--computer=-x", "--computer: \"-x\" must match"),
            ("--computer|a b", "--computer: \"a b\" must match"),
            (
                "--redis|http://h",
                "--redis: scheme \"http\" is not supported",
            ),
            ("--redis|localhost:6379", "--redis: not a URL"),
            ("--redis|redis://", "--redis: the URL names no host"),
            ("--redis|redis://:pw@/0", "--redis: the URL names no host"),
            (
                "--redis|redis://h x",
                "--redis: the URL must not contain whitespace",
            ),
            ("--namespace=", "--namespace: must not be empty"),
            (
                "--namespace|a b",
                "--namespace: \"a b\" must not contain whitespace",
            ),
            (
                "--namespace|a{b}",
                "--namespace: \"a{b}\" must not contain braces",
            ),
            ("--socket|$L", "--socket: /tmp/xxx"),
            ("--http|nowhere", "--http: \"nowhere\" is not an address"),
            (
                "--http|127.0.0.1",
                "--http: \"127.0.0.1\" is not an address",
            ),
            ("--token-file|$M", "--token-file: cannot read"),
            ("--token-file|$E", "--token-file: "),
            ("--token-file|$S", "--token-file: the token in"),
            (
                "--heartbeat|10",
                "--heartbeat: 10 is below the minimum of 50 ms",
            ),
            (
                "--heartbeat|600001",
                "--heartbeat: 600001 is above the maximum of 600000 ms",
            ),
            (
                "--heartbeat|2s",
                "--heartbeat: \"2s\" is not a whole number of milliseconds",
            ),
            ("--secret-file|$M", "--secret-file: cannot read"),
            ("--secret-file|$E", "--secret-file: "),
            (
                "--log-format|xml",
                "--log-format: \"xml\" is not a log format",
            ),
            ("--config|$M", "--config: cannot read"),
        ];
        for (args, prefix) in from_flags {
            let args: Vec<String> = args
                .split('|')
                .map(|a| {
                    a.replace("$E", &empty)
                        .replace("$S", &spaced)
                        .replace("$M", &missing)
                        .replace("$L", &long)
                })
                .collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            one_error(&args, &[], prefix);
        }
        // From the environment, the message also names the variable.
        let from_env = [
            (
                "FLEET_COMPUTER",
                "a/b",
                "--computer (from FLEET_COMPUTER): ",
            ),
            (
                "FLEET_REDIS_URL",
                "http://h",
                "--redis (from FLEET_REDIS_URL): ",
            ),
            (
                "FLEET_NAMESPACE",
                "a b",
                "--namespace (from FLEET_NAMESPACE): ",
            ),
            ("FLEET_SOCKET", &long, "--socket (from FLEET_SOCKET): "),
            ("FLEET_HTTP", "x", "--http (from FLEET_HTTP): "),
            (
                "FLEET_TOKEN_FILE",
                &empty,
                "--token-file (from FLEET_TOKEN_FILE): ",
            ),
            (
                "FLEET_SECRET_FILE",
                &missing,
                "--secret-file (from FLEET_SECRET_FILE): ",
            ),
        ];
        for (name, value, prefix) in from_env {
            one_error(&[], &[(name, value)], prefix);
        }
        // Empty paths can only come from the file (clap refuses empty path
        // flags, and an empty variable is unset).
        for key in ["socket", "data-dir", "token-file", "secret-file"] {
            let file = dir.file("empty-path.toml", &format!("{key} = \"\"\n"));
            let prefix =
                format!("--{key} (from key \"{key}\" in {file}): the path must not be empty");
            one_error(&["--config", &file], &[], &prefix);
        }
        for key in ["project", "projects-root"] {
            let file = dir.file("empty-path.toml", &format!("{key} = [\"/a\", \"\"]\n"));
            let prefix =
                format!("--{key} (from key \"{key}\" in {file}): the path must not be empty");
            one_error(&["--config", &file], &[], &prefix);
        }
    }

    #[test]
    fn several_errors_are_reported_at_once() {
        let errors = errors(
            &[
                "--heartbeat",
                "10",
                "--namespace",
                "a b",
                "--log-format",
                "xml",
                "--redis",
                "http://u:pw@h",
                "--computer=-x",
                "--http",
                "0.0.0.0:80",
            ],
            &[],
        );
        let flags: Vec<&str> = errors
            .iter()
            .map(|e| e.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            flags,
            [
                "--computer",
                "--redis",
                "--namespace",
                "--http",
                "--heartbeat",
                "--log-format"
            ],
            "{errors:#?}"
        );
        let all = ConfigErrors(vec![
            ConfigError::Invalid {
                flag: "--a",
                origin: Origin::CommandLine,
                message: "one".into(),
            },
            ConfigError::Invalid {
                flag: "--b",
                origin: Origin::Default,
                message: "two".into(),
            },
        ]);
        assert_eq!(all.to_string(), "--a: one\n--b: two");
    }

    #[test]
    fn non_loopback_http_needs_a_token_and_loopback_does_not() {
        let e = one_error(
            &["--http", "0.0.0.0:7070"],
            &[],
            "--http: 0.0.0.0:7070 is not a loopback",
        );
        assert!(e.contains("--token-file"), "{e}");
        one_error(&["--http", "[::]:7070"], &[], "--http: ");
        one_error(
            &[],
            &[("FLEET_HTTP", "192.168.1.2:7070")],
            "--http (from FLEET_HTTP): ",
        );
        for addr in [
            "127.0.0.1:7070",
            "127.1.2.3:0",
            "[::1]:7070",
            "[::ffff:127.0.0.1]:7070",
        ] {
            let config = ok(&["--http", addr], &[]);
            assert_eq!(config.http, Some(addr.parse().unwrap()));
            assert_eq!(config.token, None);
        }
        let config = ok(&["--http", "localhost:7070"], &[]);
        assert_eq!(config.http, Some("127.0.0.1:7070".parse().unwrap()));

        let dir = TempDir::new();
        let token = dir.file("token", "  s3cret-token\n");
        let config = ok(&["--http", "0.0.0.0:7070", "--token-file", &token], &[]);
        assert_eq!(config.token.as_deref(), Some("s3cret-token"));
        // A token file that fails is reported once, not also as a missing token.
        let empty = dir.file("empty", "");
        one_error(
            &["--http", "0.0.0.0:7070", "--token-file", &empty],
            &[],
            "--token-file: ",
        );
    }

    #[test]
    fn fleet_projects_is_colon_separated_and_flags_replace_it() {
        let config = ok(&[], &[("FLEET_PROJECTS", "/a:/b::/c:/a:")]);
        assert_eq!(
            config.projects,
            vec![
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from("/c")
            ]
        );
        let config = ok(
            &["--project", "/x", "--project", "/y"],
            &[("FLEET_PROJECTS", "/a")],
        );
        assert_eq!(
            config.projects,
            vec![PathBuf::from("/x"), PathBuf::from("/y")]
        );
        let config = ok(&["--projects-root", "/r1", "--projects-root", "/r2"], &[]);
        assert_eq!(
            config.projects_roots,
            vec![PathBuf::from("/r1"), PathBuf::from("/r2")]
        );
        let config = ok(&["--project", "rel"], &[]);
        assert_eq!(
            config.projects,
            vec![std::env::current_dir().unwrap().join("rel")]
        );
    }

    #[test]
    fn bad_computer_names() {
        one_error(&["--computer", &"x".repeat(64)], &[], "--computer: ");
        one_error(&["--computer", "ä"], &[], "--computer: ");
        assert_eq!(ok(&["--computer", "A-1.b_c"], &[]).computer, "A-1.b_c");
        // A host name that is no valid computer name asks for --computer.
        let env = BASE_ENV.to_vec();
        let e = load_host(&[], &env, "my host").unwrap_err().to_string();
        assert!(
            e.starts_with("--computer: the host name \"my host\" is not a valid computer name"),
            "{e}"
        );
        assert!(e.contains("--computer NAME"), "{e}");
        assert!(load_host(&["--computer", "ok"], &env, "my host").is_ok());
        let failing = || Err(std::io::Error::other("no name"));
        let home = |name: &str| (name == "HOME").then(|| "/h".to_owned());
        let e = build(["fleetd"], &home, &failing).unwrap_err().to_string();
        assert!(
            e.starts_with("--computer: cannot read the host name"),
            "{e}"
        );
    }

    #[test]
    fn help_version_and_unknown_flags_are_command_line_errors() {
        let kind = |args: &[&str]| match load_with(args, &BASE_ENV).unwrap_err().0.as_slice() {
            [ConfigError::CommandLine(e)] => e.kind(),
            other => panic!("{other:?}"),
        };
        assert_eq!(kind(&["--help"]), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(kind(&["--version"]), clap::error::ErrorKind::DisplayVersion);
        assert_eq!(kind(&["--bogus"]), clap::error::ErrorKind::UnknownArgument);
        assert_eq!(kind(&["--heartbeat"]), clap::error::ErrorKind::InvalidValue);
    }

    #[test]
    fn debug_hides_secrets() {
        let dir = TempDir::new();
        let token = dir.file("token", "tok-value");
        let config = ok(
            &[
                "--redis",
                "redis://user:hunter2@h:6379/0",
                "--token-file",
                &token,
                "--secret-file",
                &token,
            ],
            &[],
        );
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok-value"),
            "{shown}"
        );
        assert!(shown.contains("redis://***@h:6379/0"), "{shown}");
        // Error messages do not echo the URL either.
        let e = one_error(&["--redis", "http://user:hunter2@h"], &[], "--redis: ");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn system_host_name_is_readable() {
        // Whatever the machine's name, reading it must not fail or panic.
        assert!(system_host_name().is_ok());
    }
}

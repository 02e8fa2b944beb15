//! Merging: picks each setting by precedence (flag, then environment
//! variable, then `--config` file, then default), checks it, and builds the
//! [`Config`], collecting every error on the way.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::checks::{
    absolute, check_computer, check_dirs, check_namespace, check_redis, check_socket,
    parse_heartbeat, parse_http, parse_log_format, read_secret, read_token,
};
use super::defaults::default_data_dir;
use super::flags::{
    ALLOW_REMOTE_WRITES, COMPUTER, CONFIG, Cli, DATA_DIR, HEARTBEAT, HTTP, LOG_FORMAT, NAMESPACE,
    PROJECT, PROJECTS_ROOT, REDIS, SECRET_FILE, SOCKET, Setting, TOKEN_FILE,
};
use super::tls::redis_tls;
use super::{
    Config, ConfigError, ConfigErrors, DEFAULT_HEARTBEAT_MS, DEFAULT_NAMESPACE, LogFormat, Origin,
    default_socket_path,
};

/// A value and where it came from.
pub(super) struct Sourced<T> {
    pub(super) value: T,
    pub(super) origin: Origin,
}

/// The sources being merged, and the errors found so far.
pub(super) struct Sources<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    /// The file's settings by key in `-` spelling: (key as written, value).
    pub(super) file: std::collections::BTreeMap<String, (String, toml::Value)>,
    pub(super) file_path: PathBuf,
    errors: Vec<ConfigError>,
}

/// Parses, merges and checks; `host_name` gives the default `--computer`.
pub(super) fn build<I, T>(
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
    let redis = s.string(&REDIS, cli.redis);
    let redis_given = redis.is_some();
    let redis = redis.and_then(|v| s.check(&REDIS, v, check_redis));
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
    let allow_remote_writes = s.bool(&ALLOW_REMOTE_WRITES, cli.allow_remote_writes);
    let redis_tls = redis_tls(
        &mut s,
        [cli.redis_ca_file, cli.redis_cert_file, cli.redis_key_file],
        redis.as_deref(),
        redis_given,
    );
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
            allow_remote_writes,
            redis_tls,
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
    pub(super) fn error(&mut self, setting: &Setting, origin: Origin, message: impl Into<String>) {
        self.errors.push(ConfigError::Invalid {
            flag: setting.flag,
            origin,
            message: message.into(),
        });
    }

    /// Applies `check` to the value; on failure records the error.
    pub(super) fn check<T, U>(
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

    /// A switch by precedence: the flag turns it on; else the environment
    /// (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`), else the file
    /// (`true`/`false`), else off.
    fn bool(&mut self, setting: &Setting, flag: bool) -> bool {
        let file = self.file_bool(setting);
        if flag {
            return true;
        }
        if let Some(v) = self.env_string(setting) {
            return match v.value.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                other => {
                    let message = format!("expected true or false, found {other:?}");
                    self.error(setting, v.origin, message);
                    false
                }
            };
        }
        file.is_some_and(|v| v.value)
    }

    /// A path setting by precedence; a relative path from the file is taken
    /// from the file's directory.
    pub(super) fn path(
        &mut self,
        setting: &Setting,
        flag: Option<PathBuf>,
    ) -> Option<Sourced<PathBuf>> {
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

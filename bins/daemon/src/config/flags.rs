//! The command line, as clap parses it, and the table of settings: each
//! setting's flag, environment variable and `--config` file key.

use std::path::PathBuf;

use clap::Parser;

/// The command line. Parsed values stay strings so that bad values are
/// checked, and reported all together, by this module rather than by clap.
#[derive(Debug, Parser)]
#[command(
    name = "fleetd",
    version,
    about = "fleetcache daemon: shares agent sessions, projects and todos across a fleet of computers",
    after_help = "Flags win over environment variables, which win over the --config file."
)]
pub(super) struct Cli {
    /// This computer's name [env: FLEET_COMPUTER] [default: host name]
    #[arg(long, value_name = "NAME")]
    pub(super) computer: Option<String>,
    /// Redis URL: redis://, rediss://, redis-cluster:// or redis-sentinel://; absent = standalone [env: FLEET_REDIS_URL]
    #[arg(long, value_name = "URL")]
    pub(super) redis: Option<String>,
    /// Prefix of every Redis key [env: FLEET_NAMESPACE] [default: fleet]
    #[arg(long, value_name = "NS")]
    pub(super) namespace: Option<String>,
    /// Unix socket for REST and WebSocket [env: FLEET_SOCKET] [default: $XDG_RUNTIME_DIR/fleetcache/fleetd.sock, else /tmp/fleetcache-$UID/fleetd.sock]
    #[arg(long, value_name = "PATH")]
    pub(super) socket: Option<PathBuf>,
    /// Optional TCP listener, e.g. 127.0.0.1:7070; needs --token-file unless loopback [env: FLEET_HTTP]
    #[arg(long, value_name = "ADDR")]
    pub(super) http: Option<String>,
    /// File holding the bearer token of the TCP listener [env: FLEET_TOKEN_FILE]
    #[arg(long, value_name = "PATH")]
    pub(super) token_file: Option<PathBuf>,
    /// Directory of the local session store [env: FLEET_DATA_DIR] [default: $XDG_DATA_HOME/fleetcache, else ~/.local/share/fleetcache]
    #[arg(long, value_name = "PATH")]
    pub(super) data_dir: Option<PathBuf>,
    /// A project directory; repeatable [env: FLEET_PROJECTS, ':'-separated]
    #[arg(long = "project", value_name = "PATH")]
    pub(super) project: Vec<PathBuf>,
    /// A directory whose subdirectories holding .git or todos/ are projects; repeatable
    #[arg(long = "projects-root", value_name = "PATH")]
    pub(super) projects_root: Vec<PathBuf>,
    /// Heartbeat period in milliseconds, 50 to 600000 [default: 2000]
    #[arg(long, value_name = "MS")]
    pub(super) heartbeat: Option<String>,
    /// File holding the fleet secret that signs every Redis entry [env: FLEET_SECRET_FILE]
    #[arg(long, value_name = "PATH")]
    pub(super) secret_file: Option<PathBuf>,
    /// Apply session writes that other computers forward (else they get 403) [env: FLEET_ALLOW_REMOTE_WRITES=true|false]
    #[arg(long)]
    pub(super) allow_remote_writes: bool,
    /// PEM file of the CA to trust for TLS to Redis, instead of the system store [env: FLEET_REDIS_CA_FILE]
    #[arg(long, value_name = "PATH")]
    pub(super) redis_ca_file: Option<PathBuf>,
    /// PEM file of the client certificate for Redis servers that require one; needs --redis-key-file [env: FLEET_REDIS_CERT_FILE]
    #[arg(long, value_name = "PATH")]
    pub(super) redis_cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key [env: FLEET_REDIS_KEY_FILE]
    #[arg(long, value_name = "PATH")]
    pub(super) redis_key_file: Option<PathBuf>,
    /// TOML file with the same keys as the flags (e.g. data-dir or data_dir)
    #[arg(long, value_name = "PATH")]
    pub(super) config: Option<PathBuf>,
    /// Log format on stderr: text or json; the level comes from RUST_LOG [default: text]
    #[arg(long, value_name = "FORMAT")]
    pub(super) log_format: Option<String>,
}

/// One setting: its flag, environment variable and file key.
pub(super) struct Setting {
    pub(super) flag: &'static str,
    pub(super) env: Option<&'static str>,
}

impl Setting {
    const fn new(flag: &'static str, env: Option<&'static str>) -> Setting {
        Setting { flag, env }
    }

    /// The file key, in its `-` spelling.
    pub(super) fn key(&self) -> &'static str {
        self.flag.trim_start_matches("--")
    }
}

pub(super) const COMPUTER: Setting = Setting::new("--computer", Some("FLEET_COMPUTER"));
pub(super) const REDIS: Setting = Setting::new("--redis", Some("FLEET_REDIS_URL"));
pub(super) const NAMESPACE: Setting = Setting::new("--namespace", Some("FLEET_NAMESPACE"));
pub(super) const SOCKET: Setting = Setting::new("--socket", Some("FLEET_SOCKET"));
pub(super) const HTTP: Setting = Setting::new("--http", Some("FLEET_HTTP"));
pub(super) const TOKEN_FILE: Setting = Setting::new("--token-file", Some("FLEET_TOKEN_FILE"));
pub(super) const DATA_DIR: Setting = Setting::new("--data-dir", Some("FLEET_DATA_DIR"));
pub(super) const PROJECT: Setting = Setting::new("--project", Some("FLEET_PROJECTS"));
pub(super) const PROJECTS_ROOT: Setting = Setting::new("--projects-root", None);
pub(super) const HEARTBEAT: Setting = Setting::new("--heartbeat", None);
pub(super) const SECRET_FILE: Setting = Setting::new("--secret-file", Some("FLEET_SECRET_FILE"));
pub(super) const ALLOW_REMOTE_WRITES: Setting =
    Setting::new("--allow-remote-writes", Some("FLEET_ALLOW_REMOTE_WRITES"));
pub(super) const REDIS_CA_FILE: Setting =
    Setting::new("--redis-ca-file", Some("FLEET_REDIS_CA_FILE"));
pub(super) const REDIS_CERT_FILE: Setting =
    Setting::new("--redis-cert-file", Some("FLEET_REDIS_CERT_FILE"));
pub(super) const REDIS_KEY_FILE: Setting =
    Setting::new("--redis-key-file", Some("FLEET_REDIS_KEY_FILE"));
pub(super) const CONFIG: Setting = Setting::new("--config", None);
pub(super) const LOG_FORMAT: Setting = Setting::new("--log-format", None);

/// The settings a file may hold (all but `--config`).
pub(super) const SETTINGS: [&Setting; 16] = [
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
    &ALLOW_REMOTE_WRITES,
    &REDIS_CA_FILE,
    &REDIS_CERT_FILE,
    &REDIS_KEY_FILE,
    &LOG_FORMAT,
];

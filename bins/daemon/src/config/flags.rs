//! The command line, as clap parses it (defined in the `daemon-cli` crate,
//! so that `fleet` can render fleetd's man page and completions from it), and
//! the table of settings: each setting's flag, environment variable and
//! `--config` file key.

pub(super) use daemon_cli::Cli;

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

//! # daemon-cli: fleetd's command line
//!
//! The clap definition of `fleetd`'s flags ([`Cli`]), PROTOCOL.md section 1,
//! and nothing else. It lives in its own crate so that two binaries can use
//! the one definition: `fleetd` parses its arguments with it (its `config`
//! module then merges flags, environment and file, and checks every value),
//! and `fleet` renders fleetd's man page and shell completions from it
//! (`fleet man`, `fleet completions SHELL fleetd`) without depending on the
//! daemon's crates.
//!
//! Absences: no checking, no defaults, no environment: values stay strings
//! or paths, checked (all at once) by the daemon. The contract says this
//! command line may only grow.

use clap::Parser;
use std::path::PathBuf;

/// fleetd's command line. Parsed values stay strings so that bad values are
/// checked, and reported all together, by the daemon's `config` module
/// rather than by clap.
#[derive(Debug, Parser)]
#[command(
    name = "fleetd",
    version,
    about = "fleetcache daemon: shares agent sessions, projects and todos across a fleet of computers",
    after_help = "Flags win over environment variables, which win over the --config file."
)]
pub struct Cli {
    /// This computer's name [env: FLEET_COMPUTER] [default: host name]
    #[arg(long, value_name = "NAME")]
    pub computer: Option<String>,
    /// Redis URL: redis://, rediss://, redis-cluster:// or redis-sentinel://; absent = standalone [env: FLEET_REDIS_URL]
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// Prefix of every Redis key [env: FLEET_NAMESPACE] [default: fleet]
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Unix socket for REST and WebSocket [env: FLEET_SOCKET] [default: $XDG_RUNTIME_DIR/fleetcache/fleetd.sock, else /tmp/fleetcache-$UID/fleetd.sock]
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Optional TCP listener, e.g. 127.0.0.1:7070; needs --token-file unless loopback [env: FLEET_HTTP]
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// File holding the bearer token of the TCP listener [env: FLEET_TOKEN_FILE]
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Directory of the local session store [env: FLEET_DATA_DIR] [default: $XDG_DATA_HOME/fleetcache, else ~/.local/share/fleetcache]
    #[arg(long, value_name = "PATH")]
    pub data_dir: Option<PathBuf>,
    /// A project directory; repeatable [env: FLEET_PROJECTS, ':'-separated]
    #[arg(long = "project", value_name = "PATH")]
    pub project: Vec<PathBuf>,
    /// A directory whose subdirectories holding .git or todos/ are projects; repeatable
    #[arg(long = "projects-root", value_name = "PATH")]
    pub projects_root: Vec<PathBuf>,
    /// Heartbeat period in milliseconds, 50 to 600000 [default: 2000]
    #[arg(long, value_name = "MS")]
    pub heartbeat: Option<String>,
    /// File holding the fleet secret that signs every Redis entry [env: FLEET_SECRET_FILE]
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
    /// Apply session writes that other computers forward (else they get 403) [env: FLEET_ALLOW_REMOTE_WRITES=true|false]
    #[arg(long)]
    pub allow_remote_writes: bool,
    /// PEM file of the CA to trust for TLS to Redis, instead of the system store [env: FLEET_REDIS_CA_FILE]
    #[arg(long, value_name = "PATH")]
    pub redis_ca_file: Option<PathBuf>,
    /// PEM file of the client certificate for Redis servers that require one; needs --redis-key-file [env: FLEET_REDIS_CERT_FILE]
    #[arg(long, value_name = "PATH")]
    pub redis_cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key [env: FLEET_REDIS_KEY_FILE]
    #[arg(long, value_name = "PATH")]
    pub redis_key_file: Option<PathBuf>,
    /// TOML file with the same keys as the flags (e.g. data-dir or data_dir)
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log format on stderr: text or json; the level comes from RUST_LOG [default: text]
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

/// fleetd's clap command: what [`Cli`] parses, for man pages and completions.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

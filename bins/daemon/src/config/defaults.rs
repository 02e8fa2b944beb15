//! The defaults that depend on the machine: the socket path and data
//! directory (from the XDG variables), the host name and the user id.

use std::path::PathBuf;

/// The default Unix socket path, by the rule the `fleet` client shares
/// ([`model::paths::default_socket_path`]):
/// `$XDG_RUNTIME_DIR/fleetcache/fleetd.sock`, else
/// `/tmp/fleetcache-$UID/fleetd.sock`.
pub fn default_socket_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    model::paths::default_socket_path(env, current_uid())
}

/// The default data directory: `$XDG_DATA_HOME/fleetcache` when
/// `XDG_DATA_HOME` is an absolute path, else `$HOME/.local/share/fleetcache`.
pub(super) fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
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

/// The system's host name (`uname`), else `/etc/hostname`: the default
/// `--computer` and the `host` this computer announces.
pub fn system_host_name() -> std::io::Result<String> {
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

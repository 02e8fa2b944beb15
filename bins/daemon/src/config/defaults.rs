//! The defaults that depend on the machine: the socket path and data
//! directory (from the XDG variables), the host name and the user id.

use std::path::PathBuf;

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

/// The system's host name (`uname`), else `/etc/hostname`.
pub(super) fn system_host_name() -> std::io::Result<String> {
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

//! Where `fleetd` listens when no `--socket` is given, and so where `fleet`
//! looks for it: one rule, shared by both binaries so that they can never
//! disagree. Pure: the caller passes the environment and the user id.

use std::path::PathBuf;

/// The default Unix socket path: `$XDG_RUNTIME_DIR/fleetcache/fleetd.sock`
/// when `XDG_RUNTIME_DIR` is an absolute path (the XDG rules ignore
/// relative ones), else `/tmp/fleetcache-$UID/fleetd.sock`.
///
/// `env` reads an environment variable; `uid` is the real user id.
pub fn default_socket_path(env: &dyn Fn(&str) -> Option<String>, uid: u32) -> PathBuf {
    match env("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
    {
        Some(dir) => dir.join("fleetcache").join("fleetd.sock"),
        None => PathBuf::from(format!("/tmp/fleetcache-{uid}")).join("fleetd.sock"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_dir_when_absolute_else_tmp() {
        let none = |_: &str| None;
        assert_eq!(
            default_socket_path(&none, 7),
            PathBuf::from("/tmp/fleetcache-7/fleetd.sock")
        );
        let relative = |_: &str| Some("run".to_owned());
        assert_eq!(
            default_socket_path(&relative, 7),
            PathBuf::from("/tmp/fleetcache-7/fleetd.sock")
        );
        let absolute = |n: &str| (n == "XDG_RUNTIME_DIR").then(|| "/run/user/7".to_owned());
        assert_eq!(
            default_socket_path(&absolute, 7),
            PathBuf::from("/run/user/7/fleetcache/fleetd.sock")
        );
    }
}

//! Tests of the defaults: socket path, data directory and host name.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::config::defaults::system_host_name;
use crate::config::{LogFormat, current_uid, default_socket_path};

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
            allow_remote_writes: false,
            redis_tls: Default::default(),
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
fn system_host_name_is_readable() {
    // Whatever the machine's name, reading it must not fail or panic.
    assert!(system_host_name().is_ok());
}

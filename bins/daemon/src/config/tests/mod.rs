//! Unit tests of the configuration, by concern, through one set of helpers:
//! [`ok`], [`errors`] and [`one_error`] load from the given arguments and
//! environment with the host name `testhost`; [`TempDir`] holds files.

mod checks;
mod defaults;
mod file;
mod sources;
mod tls;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::merge::build;
use super::{Config, ConfigErrors};

/// The environment of most tests: HOME and XDG_RUNTIME_DIR set.
const BASE_ENV: [(&str, &str); 2] = [("HOME", "/home/u"), ("XDG_RUNTIME_DIR", "/run/user/1000")];

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
        let dir = std::env::temp_dir().join(format!("fleetd-config-{}-{n}", std::process::id()));
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

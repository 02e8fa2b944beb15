//! Where the binaries under test (`fleetd`, `fleet`) are, building each once if missing.
//!
//! Order: `$FLEETD_BIN` / `$FLEET_BIN` if set; else `target/<profile>/<name>` beside this
//! test executable (`current_exe()` is `target/<profile>/deps/<test>-<hash>`); if that file
//! is missing, `cargo build -p <package> --bin <name>` for the same profile and target dir,
//! once per test process. `scripts/test.sh` builds every binary before the tests, so an up-to-date binary
//! is normally there; run `cargo build -p daemon` yourself after changing the daemon when
//! running `cargo test -p fleet-tests` alone.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A binary of this workspace that tests run.
struct Binary {
    /// The file name, e.g. `fleetd`.
    name: &'static str,
    /// The package that builds it.
    package: &'static str,
    /// The variable that overrides where it is.
    env_var: &'static str,
}

const FLEETD: Binary = Binary {
    name: "fleetd",
    package: "daemon",
    env_var: "FLEETD_BIN",
};

const FLEET: Binary = Binary {
    name: "fleet",
    package: "fleet",
    env_var: "FLEET_BIN",
};

static FLEETD_PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
static FLEET_PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// Path of the `fleetd` binary to test.
///
/// # Panics
///
/// When it is missing and building it fails; the message says what was run.
pub fn fleetd_path() -> PathBuf {
    unwrap_or_panic(FLEETD_PATH.get_or_init(|| locate_or_build(&FLEETD)))
}

/// Path of the `fleet` client binary to test.
///
/// # Panics
///
/// When it is missing and building it fails; the message says what was run.
pub fn fleet_path() -> PathBuf {
    unwrap_or_panic(FLEET_PATH.get_or_init(|| locate_or_build(&FLEET)))
}

fn unwrap_or_panic(found: &Result<PathBuf, String>) -> PathBuf {
    match found {
        Ok(path) => path.clone(),
        Err(message) => panic!("{message}"),
    }
}

fn locate_or_build(bin: &Binary) -> Result<PathBuf, String> {
    if let Some(path) = env::var_os(bin.env_var) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{}={} is not a file", bin.env_var, path.display()))
        };
    }
    let exe = env::current_exe().map_err(|e| format!("cannot find the test executable: {e}"))?;
    let profile_dir = profile_dir(&exe)
        .ok_or_else(|| format!("cannot tell the target dir from {}", exe.display()))?;
    let binary = profile_dir.join(bin.name);
    if binary.is_file() {
        return Ok(binary);
    }
    build(bin, profile_dir)?;
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "`cargo build -p {} --bin {}` succeeded but {} does not exist",
            bin.package,
            bin.name,
            binary.display()
        ))
    }
}

/// `target/<profile>` from `target/<profile>/deps/<exe>` (or `target/<profile>/<exe>`).
fn profile_dir(exe: &Path) -> Option<&Path> {
    let dir = exe.parent()?;
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.parent()
    } else {
        Some(dir)
    }
}

fn build(bin: &Binary, profile_dir: &Path) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the fleet-tests crate has no parent directory")?;
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace)
        .args(["build", "-p", bin.package, "--bin", bin.name]);
    match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(other) => {
            command.args(["--profile", other]);
        }
    }
    if let Some(target_dir) = profile_dir.parent() {
        command.arg("--target-dir").arg(target_dir);
    }
    eprintln!(
        "fleet-tests: {} is missing, running {command:?}",
        profile_dir.join(bin.name).display()
    );
    let status = command.status().map_err(|e| {
        format!(
            "cannot run `{} build -p {} --bin {}`: {e}",
            cargo.to_string_lossy(),
            bin.package,
            bin.name
        )
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "building {} failed ({status}): run `cargo build -p {} --bin {}` to see why",
            bin.name, bin.package, bin.name
        ))
    }
}

//! Where the `fleetd` binary under test is, building it once if it is missing.
//!
//! Order: `$FLEETD_BIN` if set; else `target/<profile>/fleetd` beside this test executable
//! (`current_exe()` is `target/<profile>/deps/<test>-<hash>`); if that file is missing,
//! `cargo build -p daemon --bin fleetd` for the same profile and target dir, once per test
//! process. `scripts/test.sh` builds every binary before the tests, so an up-to-date binary
//! is normally there; run `cargo build -p daemon` yourself after changing the daemon when
//! running `cargo test -p fleet-tests` alone.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

static FLEETD: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// Path of the `fleetd` binary to test.
///
/// # Panics
///
/// When it is missing and building it fails; the message says what was run.
pub fn fleetd_path() -> PathBuf {
    match FLEETD.get_or_init(locate_or_build) {
        Ok(path) => path.clone(),
        Err(message) => panic!("{message}"),
    }
}

fn locate_or_build() -> Result<PathBuf, String> {
    if let Some(path) = env::var_os("FLEETD_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("FLEETD_BIN={} is not a file", path.display()))
        };
    }
    let exe = env::current_exe().map_err(|e| format!("cannot find the test executable: {e}"))?;
    let profile_dir = profile_dir(&exe)
        .ok_or_else(|| format!("cannot tell the target dir from {}", exe.display()))?;
    let binary = profile_dir.join("fleetd");
    if binary.is_file() {
        return Ok(binary);
    }
    build(profile_dir)?;
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "`cargo build -p daemon --bin fleetd` succeeded but {} does not exist",
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

fn build(profile_dir: &Path) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the fleet-tests crate has no parent directory")?;
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace)
        .args(["build", "-p", "daemon", "--bin", "fleetd"]);
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
        profile_dir.join("fleetd").display()
    );
    let status = command.status().map_err(|e| {
        format!(
            "cannot run `{} build -p daemon --bin fleetd`: {e}",
            cargo.to_string_lossy()
        )
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "building fleetd failed ({status}): run `cargo build -p daemon --bin fleetd` to see why"
        ))
    }
}

//! Socket activation, as `dist/systemd/user/fleetd.socket` does it: the test binds and
//! listens on a Unix socket, passes it to `fleetd` as fd 3 with `LISTEN_FDS=1` and
//! `LISTEN_PID` set to fleetd's pid, and reads through it. fleetd must serve on that
//! socket instead of binding `--socket`, and leave its file in place at a clean stop.

use std::os::fd::AsRawFd as _;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fleet_tests::http::try_request_unix;
use fleet_tests::{StatusCode, assert_eventually, body_json, fleetd_path};
use rustix::process::{Pid, Signal, kill_process};

/// Starts fleetd with `listener` as fd 3; `LISTEN_PID` is set by a shell that then
/// execs fleetd, so it is fleetd's pid.
fn spawn_activated(listener: &UnixListener, dir: &Path, unused_socket: &Path) -> Child {
    let fd = listener.as_raw_fd();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#"LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@""#)
        .arg(fleetd_path())
        .args(["--computer", "activated", "--socket"])
        .arg(unused_socket)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("XDG_RUNTIME_DIR", dir.join("run"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("fleetd.log")).expect("log file"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FLEET_") {
            command.env_remove(key);
        }
    }
    #[allow(unsafe_code)]
    // SAFETY: the closure runs between fork and exec and only calls dup2/fcntl, which
    // are async-signal-safe; it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            // dup2 gives fd 3 without close-on-exec; if the listener already is fd 3,
            // clear the flag instead.
            let rc = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if rc == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().expect("spawn fleetd")
}

#[tokio::test]
async fn fleetd_serves_on_the_socket_systemd_passes() {
    let dir = tempfile::Builder::new()
        .prefix("sa")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let activated = dir.path().join("activated.sock");
    let unused = dir.path().join("unused.sock");
    let listener = UnixListener::bind(&activated).expect("bind the activated socket");
    let mut child = spawn_activated(&listener, dir.path(), &unused);
    let log = || std::fs::read_to_string(dir.path().join("fleetd.log")).unwrap_or_default();

    let health = assert_eventually!(
        try_request_unix(&activated, "GET", "/v1/health", &[], "")
            .await
            .map_err(|e| format!("{e:#}"))
            .and_then(|r| if r.0 == StatusCode::OK {
                Ok(body_json(&r.2))
            } else {
                Err(format!("{}", r.0))
            }),
        timeout = Duration::from_secs(15),
    );
    assert_eq!(health["computer"], "activated", "{health}\n{}", log());
    assert!(
        !unused.exists(),
        "fleetd did not bind --socket when a socket was passed"
    );
    // The listener stays usable through fleetd for writes too.
    let created = try_request_unix(
        &activated,
        "POST",
        "/v1/sessions",
        &[("content-type", "application/json")],
        r#"{"title":"through fd 3"}"#,
    )
    .await
    .expect("POST through the passed socket");
    assert_eq!(created.0, StatusCode::CREATED, "{}", log());

    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid fits")).expect("pid");
    kill_process(pid, Signal::TERM).expect("SIGTERM");
    let status = assert_eventually!(child.try_wait().ok().flatten());
    assert!(status.success(), "clean stop: {status}\n{}", log());
    assert!(
        activated.exists(),
        "the passed socket's file is systemd's: fleetd leaves it\n{}",
        log()
    );
    assert!(log().contains("socket activation"), "{}", log());
}

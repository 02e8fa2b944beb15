//! `fleet notify` against a real `fleetd`: a session entering `waiting` runs
//! the command exactly once per wait, also across a restart of the daemon
//! (the client resumes and must not announce the same wait again); waits
//! already there when it starts are announced only with `--existing`.

use fleet_tests::{DaemonFixture, assert_eventually, fleet_path, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

/// A running `fleet notify --exec` that appends each announced session id
/// to a file; killed on drop.
struct Notify {
    child: Child,
    out: PathBuf,
}

impl Notify {
    fn start(d: &DaemonFixture, dir: &Path, existing: bool) -> Self {
        let out = dir.join(if existing {
            "existing.log"
        } else {
            "fired.log"
        });
        let exec = format!(
            "echo \"$FLEET_SESSION_ID $FLEET_COMPUTER\" >> '{}'",
            out.display()
        );
        let mut cmd = Command::new(fleet_path());
        cmd.arg("--socket")
            .arg(d.socket_path())
            .args(["notify", "--exec", &exec])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if existing {
            cmd.arg("--existing");
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start fleet notify: {e}"));
        Self { child, out }
    }

    /// The session ids announced so far, in order.
    fn fired(&self) -> Vec<String> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect()
    }
}

impl Drop for Notify {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn create(d: &DaemonFixture, title: &str) -> String {
    let (status, body) = d
        .http_post_json("/v1/sessions", &json!({ "title": title }))
        .await;
    assert_eq!(status, 201, "{body}");
    body["session_id"].as_str().unwrap_or_default().to_owned()
}

async fn set_status(d: &DaemonFixture, id: &str, status: &str) {
    let (code, body) = d
        .http_patch_json(
            &format!("/v1/sessions/{id}"),
            &json!({ "status": status, "last_output": "may I run the tests?" }),
        )
        .await;
    assert_eq!(code, 200, "{body}");
}

#[tokio::test]
async fn each_wait_is_announced_once_across_a_daemon_restart() {
    let mut d = DaemonFixture::builder().computer("alpha").start().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
    let old = create(&d, "waiting before notify started").await;
    set_status(&d, &old, "waiting").await;

    let notify = Notify::start(&d, dir.path(), false);
    let with_existing = Notify::start(&d, dir.path(), true);
    assert_eventually!(with_existing.fired() == vec![old.clone()], timeout = WAIT);

    let id = create(&d, "asks for permission").await;
    set_status(&d, &id, "waiting").await;
    assert_eventually!(notify.fired() == vec![id.clone()], timeout = WAIT);

    // The daemon restarts: the client reconnects and finds the same waits.
    d.restart().await;
    let after = create(&d, "created after the restart").await;
    set_status(&d, &after, "waiting").await;
    assert_eventually!(
        notify.fired() == vec![id.clone(), after.clone()],
        timeout = WAIT
    );

    // Leaving `waiting` and coming back is a new wait.
    set_status(&d, &id, "active").await;
    set_status(&d, &id, "waiting").await;
    assert_eventually!(
        notify.fired() == vec![id.clone(), after.clone(), id.clone()],
        timeout = WAIT
    );
    assert_eq!(
        notify.fired().iter().filter(|s| **s == old).count(),
        0,
        "a wait present at start is announced only with --existing"
    );
    assert_eq!(
        with_existing.fired().iter().filter(|s| **s == old).count(),
        1,
        "and then once"
    );
}

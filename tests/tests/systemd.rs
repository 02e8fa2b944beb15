//! fleetd under systemd's notification protocol (`Type=notify`, sd_notify(3)), as
//! `dist/systemd/*/fleetd.service` runs it: the test plays the service manager by
//! binding the `NOTIFY_SOCKET` datagram socket itself. `READY=1` comes only once the
//! API answers, `WATCHDOG=1` keeps coming at half of `WATCHDOG_USEC`, and SIGTERM sends
//! `STOPPING=1` before a clean exit.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{PATIENCE, QUIET_WINDOW};
use fleet_tests::{DaemonFixture, StatusCode};
use tokio::net::UnixDatagram;
use tokio::time::{Instant, timeout_at};

/// The watchdog interval the tests ask for: pings every 100 ms.
const WATCHDOG_USEC: &str = "200000";

/// The service manager's end: a datagram socket fleetd notifies.
struct Manager {
    socket: UnixDatagram,
    _dir: tempfile::TempDir,
}

impl Manager {
    fn bind() -> Manager {
        let dir = tempfile::Builder::new()
            .prefix("sd")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let socket = UnixDatagram::bind(dir.path().join("notify")).expect("bind NOTIFY_SOCKET");
        Manager { socket, _dir: dir }
    }

    fn path(&self) -> &Path {
        self._dir.path()
    }

    fn notify_socket(&self) -> std::path::PathBuf {
        self.path().join("notify")
    }

    /// The next notification's `KEY=value` lines, or `None` past `deadline`.
    async fn next_until(&self, deadline: Instant) -> Option<Vec<String>> {
        let mut buf = vec![0; 4096];
        let n = timeout_at(deadline, self.socket.recv(&mut buf))
            .await
            .ok()?
            .expect("recv on NOTIFY_SOCKET");
        let text = String::from_utf8(buf[..n].to_vec()).expect("notifications are UTF-8");
        Some(text.lines().map(str::to_owned).collect())
    }

    /// Reads notifications until one holds `line`; the ones before it.
    async fn until(&self, line: &str, daemon: &DaemonFixture) -> (Vec<Vec<String>>, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        let mut before = Vec::new();
        loop {
            match self.next_until(deadline).await {
                Some(msg) if msg.iter().any(|l| l == line) => return (before, msg),
                Some(msg) => before.push(msg),
                None => panic!(
                    "no {line} within {PATIENCE:?}; got {before:?}\n{}",
                    daemon.log_tail(40)
                ),
            }
        }
    }
}

fn spawn_notified(manager: &Manager, watchdog_pid: Option<&str>) -> DaemonFixture {
    let mut builder = DaemonFixture::builder()
        .env("NOTIFY_SOCKET", manager.notify_socket())
        .env("WATCHDOG_USEC", WATCHDOG_USEC);
    if let Some(pid) = watchdog_pid {
        builder = builder.env("WATCHDOG_PID", pid);
    }
    builder.spawn()
}

#[tokio::test]
async fn ready_watchdog_and_stopping_reach_the_service_manager() {
    let manager = Manager::bind();
    let mut daemon = spawn_notified(&manager, None);

    let (before, ready) = manager.until("READY=1", &daemon).await;
    assert!(before.is_empty(), "nothing before READY=1: {before:?}");
    // Ready means ready: the API answers at once, without waiting.
    let (status, health) = daemon.http_get("/v1/health").await;
    assert_eq!(status, StatusCode::OK, "{health}");
    let status_line = ready
        .iter()
        .find(|l| l.starts_with("STATUS="))
        .unwrap_or_else(|| panic!("READY=1 comes with a STATUS= line: {ready:?}"));
    assert!(
        status_line.contains(daemon.computer()),
        "the status names the computer: {status_line}"
    );

    // The watchdog keeps being fed (every 100 ms here: five pings take ~0.5 s).
    for ping in 0..5 {
        let (others, _) = manager.until("WATCHDOG=1", &daemon).await;
        assert!(others.is_empty(), "ping {ping}: only pings: {others:?}");
    }

    let exit = daemon.terminate().await;
    assert!(exit.success(), "clean exit after SIGTERM: {exit}");
    let (before, stopping) = manager.until("STOPPING=1", &daemon).await;
    assert!(
        before.iter().flatten().all(|l| l == "WATCHDOG=1"),
        "only pings before STOPPING=1: {before:?}"
    );
    assert!(
        stopping.iter().any(|l| l.starts_with("STATUS=")),
        "{stopping:?}"
    );
}

#[tokio::test]
async fn no_watchdog_pings_when_the_watchdog_is_for_another_process() {
    let manager = Manager::bind();
    // systemd sets WATCHDOG_PID to the main process; pid 1 is not this daemon.
    let mut daemon = spawn_notified(&manager, Some("1"));

    manager.until("READY=1", &daemon).await;
    // Positive control above (READY=1 arrived on this socket); now nothing else may.
    let quiet = manager
        .next_until(Instant::now() + QUIET_WINDOW + Duration::from_millis(200))
        .await;
    assert_eq!(quiet, None, "no WATCHDOG=1 for another process's watchdog");

    assert!(daemon.terminate().await.success());
    manager.until("STOPPING=1", &daemon).await;
}

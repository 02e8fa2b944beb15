//! systemd integration (`Type=notify` units, see `dist/systemd/`): tells the
//! service manager when fleetd is ready (`READY=1` with a `STATUS=` line),
//! when it starts stopping (`STOPPING=1`), and that it is alive
//! (`WATCHDOG=1`), through the `sd-notify` crate.
//!
//! Everything here does nothing unless the service manager asked for it:
//! notifications only when `NOTIFY_SOCKET` is set, the watchdog task only
//! when `WATCHDOG_USEC` is set as well (and `WATCHDOG_PID`, if set, is this
//! process). Outside systemd, fleetd behaves exactly as without this module.
//!
//! The watchdog pings come from a task on the daemon's own runtime, at half
//! the watchdog interval: if the runtime stops polling tasks (a blocked
//! worker, a deadlock), the pings stop and systemd restarts the daemon. A
//! failed notification is logged (once per run of failures) and never stops
//! the daemon.
//!
//! Socket activation (`dist/systemd/user/fleetd.socket`): when `LISTEN_PID`
//! is this process and `LISTEN_FDS` passes a listening Unix socket (fd 3),
//! [`unix_listener`] serves on it instead of binding `--socket`, and the
//! socket file is left in place at stop (systemd owns it).

use crate::listeners;
use anyhow::Context as _;
use sd_notify::NotifyState;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The variable systemd sets to the datagram socket notifications go to.
const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Whether the service manager listens, and how often it wants a sign of
/// life; built once from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Systemd {
    /// `NOTIFY_SOCKET` is set: notifications are sent.
    notify: bool,
    /// `WATCHDOG_USEC`, when set for this process.
    watchdog: Option<Duration>,
}

impl Systemd {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`.
    pub fn from_env() -> Systemd {
        let notify = std::env::var_os(NOTIFY_SOCKET).is_some_and(|v| !v.is_empty());
        Systemd {
            notify,
            watchdog: sd_notify::watchdog_enabled().filter(|d| notify && !d.is_zero()),
        }
    }

    /// Tells systemd that fleetd is ready (its socket listens and its store
    /// is open), with `status` as the `STATUS=` line `systemctl status`
    /// shows, and starts the watchdog task on `tasks`, stopped by `cancel`.
    /// Returns the handle for [`Systemd::stopping`].
    pub fn ready(tasks: &TaskTracker, cancel: CancellationToken, status: &str) -> Systemd {
        let systemd = Systemd::from_env();
        systemd.send(&[NotifyState::Ready, NotifyState::Status(status)], "ready");
        if let Some(interval) = systemd.watchdog {
            let period = ping_period(interval);
            tracing::info!(
                watchdog = ?interval,
                ping_every = ?period,
                "systemd watchdog enabled"
            );
            tasks.spawn(watchdog(period, cancel));
        }
        systemd
    }

    /// Tells systemd that a graceful stop has begun.
    pub fn stopping(&self) {
        self.send(
            &[NotifyState::Stopping, NotifyState::Status("stopping")],
            "stopping",
        );
    }

    /// Sends `states` when systemd listens; a failure is logged.
    fn send(&self, states: &[NotifyState<'_>], what: &'static str) {
        if !self.notify {
            return;
        }
        if let Err(e) = sd_notify::notify(states) {
            tracing::warn!(
                notification = what,
                error = %e,
                reason = "the NOTIFY_SOCKET datagram could not be sent",
                "systemd notification not sent"
            );
        }
    }
}

/// The Unix listener to serve on, and whether fleetd made it (and so
/// removes its file at stop).
pub struct UnixSocket {
    /// The listening socket.
    pub listener: tokio::net::UnixListener,
    /// `false` when systemd passed it (socket activation): its file is
    /// systemd's to remove.
    pub ours: bool,
}

/// The socket systemd passed (socket activation), else `path` bound as
/// `listeners::bind_unix` does.
///
/// # Errors
/// A malformed `LISTEN_FDS`/`LISTEN_PID`, more than one socket passed, a
/// passed descriptor that is not a Unix socket, or binding `path` failing.
pub async fn unix_listener(path: &Path) -> anyhow::Result<UnixSocket> {
    let fds = sd_notify::listen_fds().context("socket activation: LISTEN_FDS/LISTEN_PID")?;
    let fds: Vec<_> = fds.collect();
    let fd = match fds.as_slice() {
        [] => {
            return Ok(UnixSocket {
                listener: listeners::bind_unix(path).await?,
                ours: true,
            });
        }
        [fd] => *fd,
        more => anyhow::bail!(
            "socket activation: {} sockets passed (LISTEN_FDS), fleetd takes one Unix socket",
            more.len()
        ),
    };
    let listener = adopt(fd)?;
    let local = listener
        .local_addr()
        .context("socket activation: fd 3 is not a Unix socket")?;
    listener
        .set_nonblocking(true)
        .context("socket activation: making fd 3 non-blocking")?;
    let listener = tokio::net::UnixListener::from_std(listener)
        .context("socket activation: registering fd 3")?;
    tracing::info!(
        socket = ?local.as_pathname(),
        "serving on the socket systemd passed (socket activation)"
    );
    Ok(UnixSocket {
        listener,
        ours: false,
    })
}

/// Takes ownership of the descriptor systemd passed.
#[allow(unsafe_code)]
fn adopt(fd: std::os::fd::RawFd) -> anyhow::Result<std::os::unix::net::UnixListener> {
    use std::os::fd::FromRawFd as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    static TAKEN: AtomicBool = AtomicBool::new(false);
    anyhow::ensure!(
        !TAKEN.swap(true, Ordering::SeqCst),
        "socket activation: the passed socket was already taken"
    );
    // SAFETY: `listen_fds` returned `fd` only because LISTEN_PID names this
    // process, and it already ran fcntl on it (so it is open); systemd hands
    // it to this process and nothing else in fleetd owns it, and `TAKEN`
    // makes sure it is adopted once.
    Ok(unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) })
}

/// How often to ping: half the watchdog interval (as sd_watchdog_enabled(3)
/// advises), at least every millisecond.
fn ping_period(interval: Duration) -> Duration {
    (interval / 2).max(Duration::from_millis(1))
}

/// Sends `WATCHDOG=1` every `period` until `cancel`; a run of failures is
/// logged once when it starts and once when it ends.
async fn watchdog(period: Duration, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match sd_notify::notify(&[NotifyState::Watchdog]) {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("systemd watchdog notifications work again");
            }
            Ok(()) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(
                    error = %e,
                    reason = "the NOTIFY_SOCKET datagram could not be sent",
                    "systemd watchdog notification not sent; systemd may restart fleetd"
                );
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_at_half_the_interval() {
        assert_eq!(
            ping_period(Duration::from_secs(30)),
            Duration::from_secs(15)
        );
        assert_eq!(
            ping_period(Duration::from_micros(1)),
            Duration::from_millis(1)
        );
    }
}

//! Delivering the spool when no hook is running: `fleet hook flush` delivers it once;
//! `fleet hook flush --wait` keeps trying (backing off up to a second) until it is
//! empty, for at most [`PATIENCE`] (`FLEET_HOOK_DRAIN_PATIENCE_S`). A hook that spools
//! starts one `--wait` drain in the background (detached, its own process group, no
//! stdio), unless one runs already, so that spooled events reach the daemon as soon as
//! it starts or wakes, without waiting for the agent's next event.

use crate::cli::ConnectionArgs;
use crate::client::http::HttpClient;
use crate::endpoint::Endpoint;
use crate::hook::deliver::{self, Outcome};
use crate::hook::spool::{self, Spool};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The lock held by whoever delivers the spool.
pub const DELIVER_LOCK: &str = "deliver.lock";
/// The lock held by the one background drain.
pub const DRAIN_LOCK: &str = "drain.lock";
/// How long a background drain waits for the daemon by default.
pub const PATIENCE: Duration = Duration::from_secs(3600);
/// How long one delivery may take in a drain (no agent is waiting on it).
const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts a background drain unless one runs.
pub fn start_background(spool: &Spool, conn: &ConnectionArgs) {
    // Held only to look: the drain takes it itself.
    if spool.try_lock(DRAIN_LOCK).is_none() {
        return;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!(
                "fleet hook: no background delivery ({e}): the spool is delivered at the next hook call"
            );
            return;
        }
    };
    let mut cmd = Command::new(exe);
    cmd.args(["hook", "flush", "--wait"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    for (var, value) in [
        (
            "FLEET_SOCKET",
            conn.socket.as_ref().map(|p| p.as_os_str().to_owned()),
        ),
        ("FLEET_URL", conn.url.as_ref().map(Into::into)),
        (
            "FLEET_TOKEN_FILE",
            conn.token_file.as_ref().map(|p| p.as_os_str().to_owned()),
        ),
    ] {
        if let Some(value) = value {
            cmd.env(var, value);
        }
    }
    // The drain outlives this process on purpose; init reaps it.
    #[allow(clippy::zombie_processes)]
    if let Err(e) = cmd.spawn() {
        eprintln!(
            "fleet hook: no background delivery ({e}): the spool is delivered at the next hook call"
        );
    }
}

/// `fleet hook flush [--wait]`: delivers the spool in order; with `wait`, until it is
/// empty or the patience runs out. Returns how many events are still spooled.
pub async fn flush(conn: &ConnectionArgs, wait: bool) -> usize {
    let Some(spool) = Spool::locate(&|k| std::env::var(k).ok()) else {
        eprintln!("fleet hook flush: no spool directory (neither a data directory nor HOME)");
        return 0;
    };
    let _drain = if wait {
        match spool.try_lock(DRAIN_LOCK) {
            Some(lock) => Some(lock),
            None => return spool.entries().len(),
        }
    } else {
        None
    };
    let patience = std::env::var("FLEET_HOOK_DRAIN_PATIENCE_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(PATIENCE, Duration::from_secs);
    let give_up = Instant::now() + patience;
    let mut pause = Duration::from_millis(50);
    loop {
        let left = match Endpoint::from_env(conn) {
            Ok(endpoint) => flush_once(&HttpClient::new(endpoint), &spool).await,
            Err(e) => {
                eprintln!("fleet hook flush: {e}");
                spool.entries().len()
            }
        };
        if left == 0 || !wait || Instant::now() >= give_up {
            return left;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// One pass over the spool, under the delivery lock; returns how many are left.
async fn flush_once(client: &HttpClient, spool: &Spool) -> usize {
    let Some(_lock) = spool.try_lock(DELIVER_LOCK) else {
        return spool.entries().len().max(1);
    };
    let entries = spool.entries();
    let total = entries.len();
    for (i, entry) in entries.into_iter().enumerate() {
        let op = match entry.op {
            Ok(op) => op,
            Err(reason) => {
                eprintln!(
                    "fleet hook flush: dropped spooled file {}: {reason}",
                    entry.path.display()
                );
                spool::remove(&entry.path);
                continue;
            }
        };
        let outcome = tokio::time::timeout(OP_TIMEOUT, deliver::deliver(client, &op))
            .await
            .unwrap_or_else(|_| Outcome::Retry("no answer in time".into()));
        match outcome {
            Outcome::Done => spool::remove(&entry.path),
            Outcome::Dropped(reason) => {
                eprintln!("fleet hook flush: dropped a spooled event: {reason}");
                spool::remove(&entry.path);
            }
            Outcome::Retry(reason) => {
                eprintln!(
                    "fleet hook flush: {reason}; {} event(s) stay spooled",
                    total - i
                );
                return total - i;
            }
        }
    }
    spool.entries().len()
}

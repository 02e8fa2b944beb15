//! How long `fleet watch` takes from start to a full screen (every
//! computer online and every session counted in its status line), in a
//! real terminal: a `tmux` pane of 200 x 60 on a server of the bench's own,
//! read with `capture-pane` every few milliseconds.
//!
//! Cold: c0's daemon restarted just before (it has seen its peers come
//! online but cached none of their sessions), so the screen waits for the
//! snapshots over the delayed link. Warm: `fleet watch` started again at
//! once on the same daemon, whose cache is full.

use super::{COMPUTERS, NetFleet};
use crate::daemon::{Daemon, DaemonOptions};
use crate::fleet::wait_peers;
use crate::report::{Outcome, Table, Verdict};
use crate::scenarios::Ctx;
use crate::stats::{Human, Samples};
use crate::workload::create_sessions;
use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tokio::time::Instant;

/// How long one start may take before the run fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// The times of every run: (cold, warm).
pub(super) type Times = Vec<(Duration, Duration)>;

/// The table the times go to.
pub(super) fn table(runs: usize) -> Table {
    Table::new(
        format!(
            "naive-net: `fleet watch` from spawn to a full screen ({COMPUTERS}/{COMPUTERS} online, \
             every session counted), {runs} runs; cold: c0's daemon just restarted; warm: \
             started again at once"
        ),
        &[
            "link (RTT set / PING p50 measured)",
            "cold p50",
            "cold max",
            "warm p50",
            "warm max",
            "cold, each run",
        ],
    )
}

fn summary(times: &[Duration]) -> (Duration, Duration) {
    let mut s = Samples::with_capacity(times.len());
    for t in times {
        s.record(*t);
    }
    s.summary(Duration::ZERO)
        .map_or((Duration::ZERO, Duration::ZERO), |s| (s.p50, s.max))
}

/// One table row.
pub(super) fn cells(label: &str, times: &Times) -> Vec<String> {
    let cold: Vec<Duration> = times.iter().map(|t| t.0).collect();
    let warm: Vec<Duration> = times.iter().map(|t| t.1).collect();
    let (cold_p50, cold_max) = summary(&cold);
    let (warm_p50, warm_max) = summary(&warm);
    vec![
        label.to_owned(),
        Human(cold_p50).to_string(),
        Human(cold_max).to_string(),
        Human(warm_p50).to_string(),
        Human(warm_max).to_string(),
        cold.iter()
            .map(|d| Human(*d).to_string())
            .collect::<Vec<_>>()
            .join(", "),
    ]
}

/// The final table's line.
pub(super) fn outcome(link: &str, rtt: Duration, times: &Times) -> Outcome {
    let cold: Vec<Duration> = times.iter().map(|t| t.0).collect();
    let warm: Vec<Duration> = times.iter().map(|t| t.1).collect();
    let (cold_p50, cold_max) = summary(&cold);
    let (warm_p50, warm_max) = summary(&warm);
    Outcome {
        scenario: "naive-net",
        metric: format!(
            "fleet watch to a full screen, {link} link ({} RTT): cold p50 / max",
            Human(rtt)
        ),
        result: format!("{} / {}", Human(cold_p50), Human(cold_max)),
        baseline: format!("warm {} / {}", Human(warm_p50), Human(warm_max)),
        ratio: "-".into(),
        goal: "-".into(),
        verdict: Verdict::Info,
    }
}

/// `runs` cold and warm starts of `fleet watch` on c0; stops the fleet.
pub(super) async fn measure(
    ctx: &Ctx,
    mut net: NetFleet,
    runs: usize,
    sessions: usize,
) -> anyhow::Result<Times> {
    let fleet = fleet_path(&ctx.fleetd)?;
    let tmux = Tmux::start().await?;
    let mut times = Vec::with_capacity(runs);
    let result = async {
        for _ in 0..runs {
            let c0 = restart_c0(ctx, &mut net, sessions).await?;
            let cold = tmux.time_full_screen(&fleet, &c0, sessions).await?;
            let warm = tmux.time_full_screen(&fleet, &c0, sessions).await?;
            times.push((cold, warm));
        }
        anyhow::Ok(())
    }
    .await;
    tmux.stop().await;
    net.stop().await;
    result.map(|()| times)
}

/// Restarts c0 with an empty cache, waits until it sees its peers online,
/// creates its share of the sessions; returns its socket.
async fn restart_c0(ctx: &Ctx, net: &mut NetFleet, sessions: usize) -> anyhow::Result<PathBuf> {
    if !net.daemons.is_empty() {
        net.daemons.remove(0).stop().await;
    }
    let proxy = net.proxies.first().context("no proxy for c0")?;
    let c0 = Daemon::start(&ctx.fleetd, &DaemonOptions::fleet("c0", &proxy.redis_url())).await?;
    wait_peers(
        std::slice::from_ref(&c0),
        COMPUTERS - 1,
        Duration::from_secs(60),
    )
    .await?;
    create_sessions(c0.socket(), "c0", sessions / COMPUTERS, 4).await?;
    let socket = c0.socket().to_owned();
    net.daemons.insert(0, c0);
    Ok(socket)
}

/// The `fleet` binary: `$FLEET_BIN`, else beside `fleetd`.
fn fleet_path(fleetd: &Path) -> anyhow::Result<PathBuf> {
    let path =
        std::env::var_os("FLEET_BIN").map_or_else(|| fleetd.with_file_name("fleet"), PathBuf::from);
    if !path.is_file() {
        bail!(
            "{} is missing: `cargo build --release -p fleet` (or set FLEET_BIN)",
            path.display()
        );
    }
    Ok(path)
}

/// A tmux server of the bench's own (`-L`), with one session of 200 x 60.
struct Tmux {
    server: String,
}

impl Tmux {
    async fn start() -> anyhow::Result<Self> {
        let tmux = Self {
            server: format!("fleetcache-bench-{}", std::process::id()),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "w",
            "-x",
            "200",
            "-y",
            "60",
            "sleep 86400",
        ])
        .await
        .context("start tmux (is it installed? apt-get install tmux)")?;
        Ok(tmux)
    }

    async fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut command = Command::new("tmux");
        command.arg("-L").arg(&self.server).args(args);
        // Awaited at once: the blocking thread is owned by this call.
        let out = tokio::task::spawn_blocking(move || command.output())
            .await
            .context("the tmux thread failed")?
            .context("run tmux")?;
        if !out.status.success() {
            bail!(
                "tmux {} failed: {}",
                args.first().unwrap_or(&""),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts `fleet watch` on `socket` in the pane and times it until the
    /// status line shows every computer online and every session; then
    /// quits it.
    async fn time_full_screen(
        &self,
        fleet: &Path,
        socket: &Path,
        sessions: usize,
    ) -> anyhow::Result<Duration> {
        let command = format!(
            "exec env FLEET_SOCKET='{}' '{}' watch",
            socket.display(),
            fleet.display()
        );
        let online = format!("{COMPUTERS}/{COMPUTERS} online");
        let counted = format!("{sessions} sessions");
        let t0 = Instant::now();
        self.run(&["respawn-pane", "-k", "-t", "w", &command])
            .await?;
        let took = loop {
            let screen = self.run(&["capture-pane", "-p", "-t", "w"]).await?;
            if screen.contains(&online) && screen.contains(&counted) {
                break t0.elapsed();
            }
            if t0.elapsed() > PATIENCE {
                bail!("fleet watch showed no full screen within {PATIENCE:?}; last:\n{screen}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        self.run(&["respawn-pane", "-k", "-t", "w", "sleep 86400"])
            .await?;
        Ok(took)
    }

    async fn stop(self) {
        if let Err(e) = self.run(&["kill-server"]).await {
            eprintln!(
                "bench: could not stop the tmux server {}: {e:#}",
                self.server
            );
        }
    }
}

//! The six scenarios of issue 5, `forward` (issue 11), `naive-net` (issue
//! 13), and the `soak` and `scale` (issue 9); the last three run only by
//! name. One module each, all the same shape:
//! `run(&Ctx) -> ScenarioReport`. Each starts what it measures (Redis,
//! daemons, clients), warms up, measures, measures its baseline in the same
//! run, and stops everything it started before returning.

mod fanout;
mod forward;
mod idle;
mod memory;
mod naive_net;
mod propagate;
mod read;
mod scale;
mod soak;
mod throughput;

use crate::report::ScenarioReport;
use anyhow::bail;
use std::path::PathBuf;

/// What every scenario gets.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The `fleetd` binary to measure.
    pub fleetd: PathBuf,
    /// Smoke mode: every scenario briefly, with small sizes.
    pub quick: bool,
    /// `propagate` only: also over a 3 + 3 Redis Cluster, compared with a
    /// plain Redis in the same run.
    pub cluster: bool,
    /// `soak` only: how long it runs, in minutes.
    pub soak_minutes: u64,
    /// `soak` only: the seed of its faults and writes (else from the clock).
    pub seed: Option<u64>,
    /// `read` only: consecutive runs of the cache and the floors, each with
    /// its own p50/p99 (at least 1).
    pub runs: usize,
    /// `scale` only: measure this one fleet size in this process and print
    /// the result for the parent run (each size runs in a child process, so
    /// memory and CPU are its own).
    pub scale_one: Option<usize>,
    /// `scale` only, with `scale_one`: the previous presence design.
    pub previous: bool,
}

impl Ctx {
    /// `full` normally, `quick` in smoke mode.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// The scenarios in the order `all` runs them. `soak` and `scale` are not
/// among them: they run for many minutes and only when asked for by name.
pub const ALL: [&str; 7] = [
    "read",
    "propagate",
    "forward",
    "throughput",
    "idle",
    "fanout",
    "memory",
];

/// Runs the scenario called `name`.
///
/// # Errors
/// An unknown name, or whatever failed in the scenario.
pub async fn run(name: &str, ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let mut report = match name {
        "read" => read::run(ctx).await?,
        "propagate" => propagate::run(ctx).await?,
        "forward" => forward::run(ctx).await?,
        "throughput" => throughput::run(ctx).await?,
        "idle" => idle::run(ctx).await?,
        "fanout" | "fan-out" => fanout::run(ctx).await?,
        "memory" => memory::run(ctx).await?,
        "naive-net" => naive_net::run(ctx).await?,
        "soak" => soak::run(ctx).await?,
        "scale" => scale::run(ctx).await?,
        other => bail!(
            "unknown scenario {other:?}: one of {}, naive-net, soak, scale, or all",
            ALL.join(", ")
        ),
    };
    if ctx.quick {
        report.mark_quick();
    }
    Ok(report)
}

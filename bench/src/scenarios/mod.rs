//! The six scenarios of issue 5 and `forward` (issue 11), one module each, all the same shape:
//! `run(&Ctx) -> ScenarioReport`. Each starts what it measures (Redis,
//! daemons, clients), warms up, measures, measures its baseline in the same
//! run, and stops everything it started before returning.

mod fanout;
mod forward;
mod idle;
mod memory;
mod propagate;
mod read;
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
}

impl Ctx {
    /// `full` normally, `quick` in smoke mode.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// The scenarios in the order `all` runs them.
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
        other => bail!(
            "unknown scenario {other:?}: one of {} or all",
            ALL.join(", ")
        ),
    };
    if ctx.quick {
        report.mark_quick();
    }
    Ok(report)
}

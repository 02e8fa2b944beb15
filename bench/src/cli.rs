//! The command line: `bench <scenario>|all [--quick] [--markdown PATH]`.

use clap::Parser;
use std::path::PathBuf;

/// fleetcache benchmarks: each scenario starts its own Redis and daemons,
/// warms up, measures, and measures its baseline in the same run.
#[derive(Debug, Parser)]
#[command(name = "bench")]
pub struct Args {
    /// read, propagate, throughput, idle, fanout, memory, or all
    pub scenario: String,
    /// Smoke mode: every scenario briefly with small sizes (no verdicts)
    #[arg(long)]
    pub quick: bool,
    /// Also write the final results table (markdown) to this file
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<PathBuf>,
}

//! The command line: `bench <scenario>|all [--quick] [--markdown PATH]`,
//! `bench propagate --cluster`,
//! `bench read [--runs N]`, `bench naive-net`,
//! `bench soak [--minutes N] [--seed N]` and `bench scale [--quick]`.

use clap::Parser;
use std::path::PathBuf;

/// fleetcache benchmarks: each scenario starts its own Redis and daemons,
/// warms up, measures, and measures its baseline in the same run.
#[derive(Debug, Parser)]
#[command(name = "bench")]
pub struct Args {
    /// read, propagate, throughput, idle, fanout, memory, or all (which
    /// does not include soak or scale); soak and scale only by name
    pub scenario: String,
    /// Smoke mode: every scenario briefly with small sizes (no verdicts)
    #[arg(long)]
    pub quick: bool,
    /// Also write the final results table (markdown) to this file
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<PathBuf>,
    /// propagate: also measure over a Redis Cluster of 3 masters and 3
    /// replicas (started by the bench) and compare with a plain Redis
    #[arg(long)]
    pub cluster: bool,
    /// soak: how long to run, in minutes
    #[arg(long, default_value_t = 30)]
    pub minutes: u64,
    /// soak: the seed of the faults and the writes (default: from the clock)
    #[arg(long)]
    pub seed: Option<u64>,
    /// read: consecutive runs (each on a new kept-alive connection) of the
    /// cache and of the bare-hyper floors, each with its own p50/p99
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// scale (internal): measure one fleet of this size in this process
    #[arg(long, hide = true)]
    pub scale_one: Option<usize>,
    /// scale (internal, with --scale-one): the previous presence design
    #[arg(long, hide = true)]
    pub previous: bool,
}

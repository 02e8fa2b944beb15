//! # bench: fleetcache's benchmark suite
//!
//! `cargo run -p bench --release -- <scenario>|all [--quick] [--markdown PATH]`
//!
//! Every scenario starts what it measures (its own `redis-server` on a free
//! port, real `fleetd` processes, clients over the real Unix socket and
//! WebSocket), warms up, measures, and measures its baseline in the same run,
//! printing the ratio. Read first:
//! - [`scenarios`]: the six scenarios of issue 5, one module each (`read`,
//!   `propagate`, `throughput`, `idle`, `fanout`, `memory`);
//! - [`runner`]: runs them and prints the tables and the final summary;
//! - [`stats`] (percentiles), [`report`] (tables, verdicts, markdown).
//!
//! What they start and talk to: [`redis_server`], [`redis_cluster`] (a
//! 3 + 3 Redis Cluster, for `propagate --cluster`), [`daemon`] (and
//! [`process`], [`ports`]), [`fleet`] (Redis + N daemons); clients:
//! [`client`] (HTTP/1.1 over the socket), [`ws`] (WebSocket), [`workload`]
//! (what is written). Baselines: [`naive`] (read-time pulls through Redis),
//! [`floor`] (raw fred XADD/XREAD), [`floor_http`] (a bare hyper server),
//! [`floor_ws`] (a bare WebSocket server);
//! [`fake_peer`] plays many computers for the memory scenario;
//! [`redis_stats`] reads Redis's own counters; [`machine`] describes the host;
//! [`delay_proxy`] puts a simulated network link between a computer and
//! Redis (scenario `naive-net`).
//!
//! The bench is a binary: it uses `anyhow` throughout and never panics on
//! what daemons or Redis answer.

mod cli;
mod client;
mod daemon;
mod delay_proxy;
mod fake_peer;
mod fleet;
mod floor;
mod floor_http;
mod floor_ws;
mod machine;
mod naive;
mod ports;
mod process;
mod redis_client;
mod redis_cluster;
mod redis_server;
mod redis_stats;
mod report;
mod runner;
mod scenarios;
mod stats;
mod workload;
mod ws;

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    if let Err(e) = process::raise_open_files_limit() {
        eprintln!("bench: cannot raise the open files limit ({e:#}); fanout may fail");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(runner::run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

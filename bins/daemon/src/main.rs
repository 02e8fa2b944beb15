//! `fleetd`, the fleetcache daemon: one per computer, keeping a local cache
//! of the whole fleet and serving it over a Unix socket (and optionally TCP).
//!
//! This binary only composes: `config/` reads flags, environment and file
//! (exit 2 on any bad setting), `app.rs` builds the crates and runs until a
//! signal, `listeners.rs` opens the sockets, `writes.rs` and `refresh.rs`
//! adapt the local store and the peer protocol to the APIs, `forwarding.rs`
//! joins the two sides of forwarded writes, `stats.rs` samples this
//! computer's load, `systemd.rs` sends systemd's readiness, stopping and
//! watchdog notifications.

mod app;
mod config;
mod forwarding;
mod health;
mod identity;
mod listeners;
mod logging;
mod refresh;
mod stats;
mod systemd;
mod writes;

use model::Metrics;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let config = match config::Config::load() {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("fleetd: bad configuration:\n{errors}");
            return ExitCode::from(2);
        }
    };
    let metrics = Arc::new(Metrics::new());
    logging::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("fleetd")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fleetd: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(app::run(config, metrics)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "fleetd stopped with an error");
            eprintln!("fleetd: {e:#}");
            ExitCode::from(1)
        }
    }
}

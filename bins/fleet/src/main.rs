//! `fleet`: parses the command line, runs the command on a small runtime and turns the
//! outcome into an exit code. Everything else lives in the library (`src/lib.rs`).

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = fleet::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("fleet: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fleet::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            fleet::error::report(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

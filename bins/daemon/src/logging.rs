//! Logging: `tracing` events to stderr, as text or JSON, filtered by
//! `RUST_LOG` (default `info`). Logging only logs: what `local-store` skips
//! on disk it counts itself (`local_store::Skips`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// The filter used when `RUST_LOG` is unset, empty or invalid.
const DEFAULT_FILTER: &str = "info";

/// Installs the process-wide `tracing` subscriber writing to stderr in the
/// given format, at the level given by `RUST_LOG` (default `info`).
///
/// An invalid `RUST_LOG` does not stop the daemon: it logs at `info` and says
/// so in a warning. If a subscriber is already installed (as in tests), that
/// one stays and this does nothing.
pub fn init(format: LogFormat) {
    let (filter, invalid) = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => match EnvFilter::try_new(&directives) {
            Ok(filter) => (filter, None),
            Err(e) => (EnvFilter::new(DEFAULT_FILTER), Some(e.to_string())),
        },
        Ok(_) | Err(std::env::VarError::NotPresent) => (EnvFilter::new(DEFAULT_FILTER), None),
        Err(e @ std::env::VarError::NotUnicode(_)) => {
            (EnvFilter::new(DEFAULT_FILTER), Some(e.to_string()))
        }
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Text => fmt
            .with_ansi(std::io::stderr().is_terminal())
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => fmt
            .with_ansi(false)
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_filter(filter)
            .boxed(),
    };
    let installed = tracing_subscriber::registry().with(fmt).try_init();
    // Failing means a subscriber was installed before; it stays in charge.
    if installed.is_ok()
        && let Some(reason) = invalid
    {
        tracing::warn!(reason = %reason, default = DEFAULT_FILTER, "RUST_LOG is invalid; using the default filter");
    }
}

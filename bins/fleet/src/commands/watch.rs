//! `fleet watch`: checks that a daemon answers (so that a missing one is said at once,
//! exit 2), then runs the live view on the real terminal until `q`.

use crate::client::http::HttpClient;
use crate::error::FleetError;
use crate::watch::io::{WatchConfig, run as run_view};
use crate::watch::terminal;

/// Runs the command.
///
/// # Errors
/// When no daemon answers at the start, or the terminal fails.
pub async fn run(client: &HttpClient) -> Result<(), FleetError> {
    client.get("/v1/health").await?;
    let (mut terminal, _restore) = terminal::enter()?;
    let keys = crossterm::event::EventStream::new();
    run_view(
        &mut terminal,
        keys,
        WatchConfig::new(client.endpoint().clone()),
    )
    .await
}

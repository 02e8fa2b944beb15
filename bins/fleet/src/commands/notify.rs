//! `fleet notify`.

use crate::endpoint::Endpoint;
use crate::error::FleetError;

/// Runs `fleet notify`.
///
/// # Errors
/// No daemon.
pub async fn run(
    _endpoint: &Endpoint,
    _exec: Option<&str>,
    _computers: &[String],
    _existing: bool,
) -> Result<(), FleetError> {
    Ok(())
}

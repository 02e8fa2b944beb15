//! Decoding entries from outside: every refused entry is logged with its
//! stream, id and reason, and counted; processing goes on.

use model::wire::{Envelope, WireError};
use model::{Metrics, StreamEntry};

/// Decodes one entry, or logs and counts why not.
pub(crate) fn decode(
    stream: &str,
    entry: &StreamEntry,
    secret: Option<&[u8]>,
    metrics: &Metrics,
) -> Option<Envelope> {
    match Envelope::from_fields(&entry.fields, secret) {
        Ok(env) => Some(env),
        Err(e) => {
            drop_entry(stream, entry, &e, metrics);
            None
        }
    }
}

/// Logs and counts a refused entry.
pub(crate) fn drop_entry(stream: &str, entry: &StreamEntry, e: &WireError, metrics: &Metrics) {
    tracing::warn!(
        stream,
        entry_id = %entry.id,
        reason = e.reason(),
        error = %e,
        "dropped stream entry"
    );
    metrics.dropped("redis", e.reason());
}

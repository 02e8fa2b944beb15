//! Serializing a cache record once, when it changes. Joining such records
//! into lists, payloads and frames is the contract's business:
//! `model::protocol::json` (re-exported here for the cache's readers).

use bytes::Bytes;
use serde::Serialize;

pub(crate) use model::protocol::json::{array, extend_object, string};

/// Serializes a record once. Contract types serialize infallibly (no maps
/// with non-string keys, no failing `Serialize` impls), so the error branch
/// is unreachable in practice; it still yields valid JSON (`null`).
pub(crate) fn to_bytes<T: Serialize>(value: &T) -> Bytes {
    match serde_json::to_vec(value) {
        Ok(mut v) => {
            // The Vec grew by doubling; a record lives long, so give back
            // the slack (up to half of every buffer) before keeping it.
            v.shrink_to_fit();
            Bytes::from(v)
        }
        Err(e) => {
            tracing::error!(error = %e, "serializing a cache record failed");
            Bytes::from_static(b"null")
        }
    }
}

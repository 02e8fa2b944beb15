//! The contract's messages in one place (`PROTOCOL.md` sections 4 and 5),
//! one file per concern, each used alike by the daemon's crates
//! (`cache-core`, `peer-sync`, `api-ws`) and the `fleet` client:
//!
//! - [`json`]: JSON built from bytes serialized once, so a list answer is
//!   the concatenation `[a,b,c]` of pre-serialized records;
//! - [`payloads`]: the `data` of `session_closed`, `projects_updated` and
//!   `todos_updated`;
//! - [`frames`]: the frames the server sends a WebSocket client (`snapshot`,
//!   `event`, `error`) and the data of each topic's snapshot;
//! - [`ops`]: the ops a WebSocket client sends (`subscribe`, `unsubscribe`,
//!   `refresh`), encoded and decoded;
//! - [`since`]: where a client stopped reading;
//! - [`peer`]: the bodies of the entries daemons exchange (the envelope
//!   around them is [`crate::wire`]).
//!
//! Everything here is pure: no I/O, no tasks. Each encoder's bytes are
//! pinned by a golden test beside it.

pub mod frames;
pub mod json;
pub mod ops;
pub mod payloads;
pub mod peer;
pub mod since;

pub use frames::{
    ComputersSnapshot, PreparationSnapshot, ServerFrame, SessionsSnapshot, error_frame,
    event_frame, snapshot_frame,
};
pub use ops::{ClientOp, ErrorFrame, decode_op, refresh_op, subscribe_op, unsubscribe_op};
pub use payloads::{ProjectsUpdated, SessionClosed, TodosUpdated};
pub use since::Since;

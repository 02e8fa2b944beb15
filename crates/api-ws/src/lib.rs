//! `api-ws`: the `/v1/ws` WebSocket API of `PROTOCOL.md` section 4.
//!
//! Read [`WsService`] first (`service.rs`): it checks an HTTP upgrade request,
//! answers `101` and runs the connection in a task it owns. `connection.rs`
//! is one client's loop (frames in, feed events out, pings); `protocol.rs`
//! decodes client ops and encodes error frames without any I/O;
//! `outbound.rs` is the per-client queue, bounded in bytes, whose overflow
//! closes the client with 4008 so that one slow reader never holds back the
//! others; `subscriptions.rs` routes feed events to the topics a client
//! subscribed to.
//!
//! This crate never names SQLite or Redis: it reads the fleet from
//! `cache-core` and asks for refreshes through [`WsRefresh`].

mod connection;
mod outbound;
mod protocol;
mod service;
mod subscriptions;

pub use protocol::{ClientOp, ErrorFrame, decode_op};
pub use service::{WsConfig, WsRefresh, WsService};

/// Close code for a client whose outbound queue passed the limit: it should
/// reconnect and resume with `since`.
pub const CLOSE_TOO_SLOW: u16 = 4008;

//! `api-ws`: the `/v1/ws` WebSocket API of `PROTOCOL.md` section 4.
//!
//! Read [`WsService`] first (`service.rs`): it checks an HTTP upgrade request,
//! answers `101` and runs the connection in a task it owns, with the limits
//! of [`WsConfig`] (`config.rs`) and the [`model::Refresher`] the daemon
//! plugs in. `connection.rs` is one client's loop (frames in, feed
//! events out, pings); `protocol.rs` decodes client ops and encodes error
//! frames without any I/O;
//! `outbound.rs` is the per-client queue, bounded in bytes, whose overflow
//! closes the client with 4008 so that one slow reader never holds back the
//! others (a snapshot is exempt: only what queues behind it counts);
//! `fragment.rs` cuts large texts into frames; `write_watch.rs` notices a
//! socket that takes nothing, so a client that stops reading is closed after
//! the write-stall timeout; `close.rs` is the one place that picks close
//! codes (4008, and RFC 6455's 1002, 1007, 1009 for protocol violations);
//! `subscriptions.rs` routes feed events to the topics a client subscribed
//! to.
//!
//! This crate never names SQLite or Redis: it reads the fleet from
//! `cache-core` and asks for refreshes through [`model::Refresher`], the
//! port it shares with the REST API.

mod close;
mod config;
mod connection;
mod fragment;
mod outbound;
mod protocol;
mod service;
mod subscriptions;
mod write_watch;

pub use close::{CLOSE_INVALID_DATA, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG, CLOSE_TOO_SLOW};
pub use config::WsConfig;
pub use protocol::{
    ClientOp, ErrorFrame, MAX_ERROR_MESSAGE_CHARS, MAX_SUBSCRIBE_COMPUTERS, decode_op,
};
pub use service::WsService;

//! The transport to one daemon: a byte stream ([`stream`]) under one-shot HTTP requests
//! ([`http`]) and the WebSocket ([`ws`]); the WebSocket's frames are in [`protocol`].
//!
//! No task is spawned here: each exchange drives its own connection in the caller's task.

pub mod http;
pub mod protocol;
pub mod stream;
pub mod ws;

use std::time::Duration;

/// Upper bound for connecting (and for the WebSocket handshake).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Upper bound for one whole HTTP exchange.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

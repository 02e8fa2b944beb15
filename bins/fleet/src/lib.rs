//! # fleet: the command-line client and live terminal view of a fleetcache daemon
//!
//! `fleet` talks to one `fleetd` the way any client of `PROTOCOL.md` sections 3 and 4
//! does: REST for one-shot commands, the WebSocket for `fleet events` and `fleet watch`.
//! It holds no state of its own and never polls.
//!
//! Read first:
//! - [`cli`]: the command line (every command and flag), and [`commands`], one file per
//!   command, which [`commands::run`] dispatches to.
//! - [`endpoint`]: where the daemon is (its Unix socket, found as `fleetd` finds it, or an
//!   `http://host:port` URL with a bearer token).
//! - [`client`]: the transport: [`client::http`] (one request per connection, hyper 1) and
//!   [`client::ws`] (tokio-tungstenite), both over [`client::stream::Conn`]; the frames of the
//!   WebSocket in [`client::protocol`].
//! - [`watch`]: the live view. [`watch::app::App`] is a pure state machine fed by
//!   `apply(frame)`, `on_key(key)` and `tick(now)`; [`watch::render::render`] draws it;
//!   [`watch::io::run`] is the only part doing I/O (WebSocket, keys, timer, reconnection).
//! - [`table`], [`text`], [`age`] and [`load`]: aligned tables, truncation to a width,
//!   relative ages (`3m ago`) and computer load texts, shared by the commands and the view.
//! - [`error`]: what can fail and the exit code of each (2: no daemon or bad options,
//!   1: anything else, such as an API error).
//!
//! Absences: no command caches data between runs, no request is retried behind the
//! user's back, and the view never polls REST: everything it shows came over the
//! WebSocket.

pub mod age;
pub mod cli;
pub mod client;
pub mod commands;
pub mod endpoint;
pub mod error;
pub mod hook;
pub mod install;
pub mod load;
pub mod table;
pub mod text;
pub mod watch;

pub use error::{ClientError, ConfigError, FleetError};

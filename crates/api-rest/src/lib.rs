//! `api-rest`: the local API of `PROTOCOL.md` section 3 (`/v1` REST and
//! `/metrics`) on hyper 1, served over the daemon's Unix socket and its
//! optional TCP listener.
//!
//! Read [`Api`] first (`api.rs`): it holds the [`ApiParts`] the handlers
//! need (`parts.rs`, below the router and every handler) and answers one
//! request with [`Api::handle`], without any socket, so tests call it
//! directly. Then:
//!
//! - `ports.rs`: the traits the daemon plugs in ([`LocalSessions`] for
//!   session writes, [`RemoteSessions`] for writes forwarded to another
//!   computer, [`Refresher`], [`Upgrader`] for `GET /v1/ws`,
//!   [`HealthSource`]) and their errors.
//! - `router.rs`: path to route, allowed methods,
//!   dispatch to `handlers/` (one file per resource, each the same shape:
//!   parse the query and body, act, answer).
//! - `query.rs`, `body.rs`: decoding of what clients send (query strings,
//!   JSON bodies with the 1 MiB limit and content-type check).
//! - `fuzzing.rs`: public entry points to those decoders for the fuzz
//!   targets in `fuzz/` (no socket, same code).
//! - `forwarded.rs`: [`apply_forwarded`], the owner's side of a forwarded
//!   write: the same handler code as a local request, never forwarded on.
//! - `error.rs`: the one place errors become HTTP statuses and the
//!   `{"error":{"code","message"}}` body.
//! - `server.rs`: the accept loops ([`serve_unix`], [`serve_tcp`]), bearer
//!   authentication on TCP (`auth.rs`), and the bounded graceful drain.
//!   Its limits come from [`RestConfig`] (`config.rs`): the connection cap
//!   (`cap.rs`, refusals written as raw bytes by `wire.rs`), what a failed
//!   accept does (`accept_failures.rs`), the header timeout (hyper's) and
//!   the body timeout (`timed_body.rs`); `json_errors.rs` gives hyper's own
//!   parse-error answers (400, 414, 431) our JSON body; `send_buffer.rs`
//!   raises a Unix connection's send buffer before its first large answer,
//!   so that a list answer leaves in one write.
//!
//! Reads never wait for the network and never serialize: they answer the
//! cache's pre-serialized bytes as they are. This crate never names Redis,
//! SQLite or WebSocket framing: writes go through [`LocalSessions`], the
//! WebSocket through [`Upgrader`].
//!
//! Decisions where `PROTOCOL.md` is silent:
//! - Query strings are form-url-decoded (`+` is a space, `%2B` a plus); an
//!   unknown, repeated or undecodable parameter is 400 `bad_field`, as is
//!   an empty `project`.
//! - Malformed requests that are neither bad JSON nor a bad field (bad
//!   `Content-Length`, an unreadable body, `GET /v1/ws` reaching
//!   [`Api::handle`] without an upgrade) are 400 `bad_request`.
//! - On TCP the token is checked before routing: an unknown path without
//!   a token is 401, not 404. An empty configured token refuses all.
//! - `POST /v1/sessions` answers 201 with a `Location` header; an empty
//!   `PATCH` (`{}`) of a local session writes nothing and answers its
//!   current state; `GET /v1/ws` with no upgrader configured is 404.
//! - A body over 1 MiB is refused from its `Content-Length` before it is
//!   read, and a non-JSON body before it is read when its length is
//!   announced.

mod accept_failures;
mod api;
mod auth;
mod body;
mod cap;
mod config;
mod episodes;
mod error;
mod forwarded;
pub mod fuzzing;
mod handlers;
mod json_errors;
mod parts;
mod ports;
mod query;
mod response;
mod router;
mod send_buffer;
mod server;
mod timed_body;
mod wire;

#[cfg(test)]
mod tests;

pub use api::Api;
pub use body::MAX_BODY_BYTES;
pub use config::{DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_TIMEOUT, MIN_CONNECTIONS, RestConfig};
pub use forwarded::apply_forwarded;
pub use json_errors::{MAX_HEAD_BYTES, MAX_HEADER_FIELDS, MAX_URI_BYTES};
pub use model::{RefreshError, RefreshScope, Refresher};
pub use parts::ApiParts;
pub use ports::{
    ForwardError, HealthSource, LocalSessions, RedisHealth, RemoteSessions, Upgrader, WriteError,
};
pub use server::{DRAIN_DEADLINE, serve_tcp, serve_unix};

//! `peer-transport-redis`: the [`model::PeerTransport`] on Redis Streams,
//! using the `fred` client. Daemons on several computers append entries to
//! streams and read each other's with blocking `XREAD`s; this crate is the
//! only one that speaks Redis.
//!
//! Read first the trait it implements (`model::transport`), then:
//! - [`connect`] / [`connect_lazy`] and [`RedisTransport`] (`transport.rs`):
//!   `XADD ... MAXLEN ~`, pipelined batches, stream bounds, readers, link,
//!   [`RedisTransport::shutdown`];
//! - [`RedisConfig`] (`config.rs`): the URL (`redis://`, `rediss://`,
//!   `redis-cluster://`, `redis-sentinel://`), `BLOCK` and timeouts, the
//!   reconnect backoff, and [`RedisTls`] (`tls.rs`): the CA, client
//!   certificate and key files for TLS, checked per file;
//! - [`RedisReader`] (`reader.rs`): blocking reads on a connection of their
//!   own, from explicit ids, never `$`;
//! - [`ClusterReader`] (`cluster_reader.rs`, with `slots.rs`): the same
//!   over a Redis Cluster, one blocking `XREAD` per hash slot, none polled;
//! - `link.rs` and `client.rs`: how every fred client's connection events
//!   become one [`model::Link`] (and, beside it, the last
//!   [`model::LinkFailure`]: [`RedisTransport::link_failure`]), and who owns
//!   the connection tasks;
//! - `cause.rs` and `probe.rs`: why a connection failed (refused, timed
//!   out, TLS certificate, not a TLS server, authentication, permission);
//! - `liveness.rs`: the liveness set `NS:alive` (one `EVAL` per beat, on
//!   the server's `TIME`) and the record hash `NS:computers`;
//! - `reply.rs`: replies to ids and entries, bytes kept as they were written;
//! - [`Error`] (`error.rs`), and the one mapping of fred errors to
//!   [`model::TransportError`].
//!
//! Absences: no protocol logic (entry kinds, signatures, positions: that is
//! `peer-sync`), no retries of failed commands beyond fred's own (the caller
//! retries), no `$` ids, no unbounded `BLOCK`, no password in logs or errors.
//!
//! A reconnect is invisible to a blocked read (fred re-sends it and it
//! simply returns the new server's data), so callers must watch
//! [`PeerTransport::link`](model::PeerTransport::link): every change of
//! `reconnects` means "re-announce and check positions for gaps".

mod cause;
mod client;
mod cluster_reader;
mod config;
mod error;
mod link;
mod liveness;
mod probe;
mod reader;
mod reply;
mod slots;
mod tls;
mod transport;

pub use cluster_reader::ClusterReader;
pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_RECONNECT_MAX_DELAY, MAX_BLOCK, RedisConfig, SCHEMES,
};
pub use error::Error;
pub use reader::RedisReader;
pub use tls::{RedisTls, TlsFile, TlsFileError};
pub use transport::{RedisTransport, SHUTDOWN_WAIT, connect, connect_lazy};

//! `peer-transport-memory`: an in-memory [`model::PeerTransport`] with the
//! semantics of Redis Streams, plus fault injection, so that tests can run
//! many daemons in one process with paused tokio time and no Redis.
//!
//! Read first [`model::transport`] (the trait this implements), then
//! [`MemoryHub`] (`hub.rs`): the shared "server" holding the streams, its id
//! and trimming rules, and the faults a test can inject (`trim`, `clear`,
//! `restart`, `cut`, `reconnect`, `xadd_raw`) and observe (`len`,
//! `entries`, `appends`, `calls`, `alive`); it also holds the liveness sets
//! and record hashes, on the same clock as the ids. [`MemoryTransport`]
//! (`client.rs`, where [`MemoryHub::connect`] makes one) is one client's
//! handle, given to the code under test; [`MemoryReader`] (`reader.rs`)
//! does its blocking reads; `link.rs` is the link a client shares with its
//! readers and the hub; `stream.rs` is one stream's log.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), model::TransportError> {
//! use model::{PeerTransport, StreamId};
//! use peer_transport_memory::MemoryHub;
//! use std::time::Duration;
//!
//! let hub = MemoryHub::new();
//! let alpha = hub.connect("alpha");
//! let heartbeat = bytes::Bytes::from_static(b"heartbeat");
//! let id = alpha.append("fleet:presence", &[("kind", heartbeat)], 1000).await?;
//! let mut reader = alpha.reader().await?;
//! let got = reader
//!     .read(&[("fleet:presence".to_owned(), StreamId::ZERO)], 10, Duration::from_millis(10))
//!     .await?;
//! assert_eq!(got[0].1[0].id, id);
//! assert_eq!(hub.appends("fleet:events:"), 0);
//! # Ok(())
//! # }
//! ```
//!
//! Absences: this crate does no I/O, spawns no task, reads no system clock
//! (ids come from tokio time) and never names Redis clients; it is meant for
//! tests only and is not published.

mod client;
mod hub;
mod link;
mod reader;
mod stream;

pub use client::MemoryTransport;
pub use hub::{ID_BASE_MS, MemoryHub};
pub use reader::MemoryReader;

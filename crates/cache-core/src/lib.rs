//! `cache-core`: the whole fleet's state as one daemon knows it, answering
//! every read without touching the network.
//!
//! Start with [`DaemonCache`] (`cache.rs`): writes go in through
//! `put_session`, `set_projects`, `set_todos` (preparation read from disk
//! through `write_preparation`, `preparation_writes.rs`), `peer_heartbeat`;
//! reads come out as pre-serialized JSON (`reads.rs`); every change is published on a
//! feed with `(epoch, seq)` and kept in a replay ring (`feed.rs`) so that a
//! client can resume; local interest is reference-counted per topic and
//! computer (`interest.rs`), counted in and out by the `InterestGuard` a
//! subscription holds (`watchers.rs`);
//! `sweep.rs` applies freshness rules.
//!
//! This crate does no I/O and never names Redis, hyper or SQLite: it is
//! meant to be embedded by any tool that wants a fleet cache.

mod cache;
mod computers;
mod config;
mod feed;
mod interest;
mod json;
mod preparation;
mod preparation_writes;
mod reads;
mod resync;
mod sessions;
mod sweep;
mod watchers;

pub use cache::DaemonCache;
pub use config::CacheConfig;
pub use feed::{FeedEvent, Since};
pub use interest::{ALL_COMPUTERS, MAX_ANNOUNCED_COMPUTERS};
pub use reads::{CacheCounts, Opening};
pub use sessions::{Applied, LIST_CACHE_MAX_BYTES, SessionRecord};
pub use sweep::SweepReport;
pub use watchers::InterestGuard;

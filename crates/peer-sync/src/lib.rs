//! `peer-sync`: the fleet protocol of `PROTOCOL.md` section 5 on top of any
//! [`model::PeerTransport`] (Redis Streams in production, memory in tests).
//!
//! Read [`PeerSync`] first (`sync.rs`): it builds `Shared` (`shared.rs`:
//! what every task holds, below them all) and starts the owned tasks:
//! - `heartbeat.rs` beats on the liveness set every half period
//!   (`liveness.rs`: one transport call, which also reports the peers whose
//!   deadline passed) and announces a full heartbeat only when something
//!   changed: at start, when local interest changes, after every reconnect
//!   or expiry of its own, when a followed push generation moved, and every
//!   period while a previous-version peer is online (without a liveness
//!   set: every period, as before); it also asks for the snapshots that
//!   local interest needs, and pulls again the watched remote projects and
//!   todos the cache's sweeper finds past their TTL;
//! - `push.rs` appends this computer's own changes to its events stream,
//!   only while an online peer watches them, and serves snapshot requests
//!   in order with those pushes;
//! - `receive.rs` reads presence, the inbox and every watched peer's events
//!   stream from the last processed ids, applies what it reads to the cache
//!   (never re-pushing it), and re-snapshots on any gap.
//!
//! Forwarded session writes (a write to another computer's session) have
//! two sides: `forward.rs`, the asker's [`Forwarder`] (a oneshot per
//! pending request id, filled by the receive task), and `remote_writes.rs`,
//! the owner's task that applies them through [`ApplyWrites`] at most once
//! per id (`recent.rs` remembers the answers).
//!
//! `entries.rs` is what the reader does with each entry; `liveness.rs`
//! beats on the liveness set; `peers.rs` (who is online, and by what proof),
//! `gens.rs` and `feeds.rs` (where the reader is in every stream) hold the
//! state in `Shared`; `intake.rs` drops and counts bad entries;
//! `snapshot.rs` builds and applies snapshots.
//! This crate never names Redis, hyper or SQLite.

mod config;
mod entries;
mod feeds;
mod forward;
mod gens;
mod heartbeat;
mod intake;
mod liveness;
mod outage;
mod peers;
mod push;
mod receive;
mod recent;
mod remote_writes;
mod shared;
mod snapshot;
mod sync;

pub use config::PeerSyncConfig;
pub use forward::{ForwardError, Forwarder};
pub use remote_writes::ApplyWrites;
pub use sync::{PeerRefresher, PeerSync};

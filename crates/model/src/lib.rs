//! The vocabulary of fleetcache: the data types of the external contract
//! (`PROTOCOL.md` section 2), the topics and events clients see, the
//! messages that carry them ([`protocol`]: event payloads, WebSocket frames
//! and ops, `Since`, peer entry bodies), the wire envelope ([`wire`]), the
//! [`Clock`] through which all time flows, validation of names and request
//! bodies, the daemon's metrics, and the few rules and ports the daemon,
//! its APIs and the `fleet` client share ([`paths`], [`refresh`],
//! [`preparation`]).
//!
//! Read [`types`] first: its JSON is the contract; then [`protocol`]. This crate does no I/O:
//! every other crate depends on it, so it must stay small and pure.

pub mod clock;
pub mod error;
pub mod event;
pub mod forwarded;
pub mod metrics;
pub mod paths;
pub mod preparation;
pub mod protocol;
pub mod refresh;
pub mod requests;
pub mod time;
pub mod transport;
pub mod types;
pub mod validate;
pub mod wire;

pub use clock::{Clock, SystemClock, TokioClock};
pub use error::Error;
pub use event::{ComputerFilter, EventName, Topic};
pub use metrics::Metrics;
pub use preparation::{PreparationState, PreparationUpdate};
pub use refresh::{RefreshError, RefreshScope, Refresher};
pub use requests::{NewSession, RefreshRequest, SessionPatch};
pub use time::Timestamp;
pub use transport::{
    ALIVE_PRUNE, AliveBeat, AliveSet, Field, Link, LinkCause, LinkFailure, PeerTransport,
    StreamBatch, StreamCounts, StreamEntry, StreamId, StreamReader, TransportError,
};
pub use types::{
    Computer, ComputerStats, Interest, Project, ProjectWithTodos, Session, SessionStatus, Todo,
    TodoStatus,
};
pub use validate::validate_computer_name;

/// The version every daemon reports in `/v1/health` and its heartbeats.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

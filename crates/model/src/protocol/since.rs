//! [`Since`]: where a WebSocket client stopped reading, sent back in a
//! `subscribe` op so that the daemon replays what it missed instead of
//! sending a snapshot (`PROTOCOL.md` section 4).

use serde::{Deserialize, Serialize};

/// Where a client says it stopped reading: the daemon boot (`epoch`) and the
/// last `seq` it received. On the wire: `{"epoch":E,"seq":N}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Since {
    /// The daemon's boot id when the client last read.
    pub epoch: String,
    /// The last sequence number the client received.
    pub seq: u64,
}

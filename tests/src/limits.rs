//! Helpers for tests of the daemon's resource limits: starting `fleetd` with a low
//! open-file limit ([`start_with_open_files`]), raw half-finished connections
//! ([`RawConn`]), and what `/proc` says about a process ([`open_fds`], [`rss_kib`]).

use std::path::Path;
use std::time::Duration;

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::UnixStream;

use crate::daemon::DaemonFixture;
use crate::daemon_builder::DaemonBuilder;

/// Serializes tests of one process that change its open-file limit or open hundreds of
/// sockets: hold it for the whole test.
pub static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts `fleetd` with a soft `RLIMIT_NOFILE` of `limit` (children inherit the limit: the
/// test process lowers its own soft limit around the spawn and restores it right after),
/// then waits for health. Call with [`HEAVY`] held, so no other test of this process
/// opens files meanwhile.
///
/// # Panics
///
/// When the limit cannot be changed, or as [`DaemonBuilder::start`].
pub async fn start_with_open_files(builder: DaemonBuilder, limit: u64) -> DaemonFixture {
    let before = getrlimit(Resource::Nofile);
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(limit),
            maximum: before.maximum,
        },
    )
    .unwrap_or_else(|e| panic!("cannot lower RLIMIT_NOFILE to {limit}: {e}"));
    let spawned = builder.spawn();
    setrlimit(Resource::Nofile, before)
        .unwrap_or_else(|e| panic!("cannot restore RLIMIT_NOFILE: {e}"));
    let mut daemon = spawned;
    daemon.wait_healthy().await;
    daemon
}

/// One raw connection to a Unix socket, for requests the HTTP client would not send.
#[derive(Debug)]
pub struct RawConn {
    stream: UnixStream,
}

impl RawConn {
    /// Connects and sends `bytes`.
    ///
    /// # Errors
    ///
    /// When connecting fails. A failed write is not an error: the server may have answered
    /// and closed already (read the answer with [`RawConn::read_to_close`]).
    pub async fn send(socket: &Path, bytes: &[u8]) -> std::io::Result<Self> {
        let mut stream = UnixStream::connect(socket).await?;
        let _ = stream.write_all(bytes).await;
        Ok(Self { stream })
    }

    /// Everything the server writes until it closes the connection, or `None` if it does
    /// not close within `patience`.
    pub async fn read_to_close(&mut self, patience: Duration) -> Option<String> {
        let mut got = Vec::new();
        match tokio::time::timeout(patience, self.stream.read_to_end(&mut got)).await {
            Ok(Ok(_)) => Some(String::from_utf8_lossy(&got).into_owned()),
            // A reset after the answer still counts as closed.
            Ok(Err(_)) => Some(String::from_utf8_lossy(&got).into_owned()),
            Err(_) => None,
        }
    }
}

/// Status and JSON body of a raw HTTP/1.1 answer.
///
/// # Panics
///
/// When `raw` holds no complete head or its body is not JSON.
pub fn raw_status_and_json(raw: &str) -> (u16, serde_json::Value) {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete HTTP head in {raw:?}"));
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let json =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("body not JSON ({e}): {raw:?}"));
    (status, json)
}

/// The number of open file descriptors of process `pid`.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// The resident set size of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

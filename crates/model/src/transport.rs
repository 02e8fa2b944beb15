//! The [`PeerTransport`]: what the peer protocol needs from a shared log of
//! streams (Redis Streams in production, memory in tests). Nothing
//! Redis-specific leaks through it: ids, append with approximate trimming,
//! blocking reads of several streams from given ids, the oldest and
//! newest id a stream still holds (to detect trimming), and (optional) a
//! liveness set of deadlines on the log's own clock plus a hash of records,
//! so that presence costs O(1) per daemon per period.

use std::fmt;
use std::time::Duration;
use tokio::sync::watch;

/// The id of a stream entry: milliseconds and a sequence within them.
/// Ids grow strictly within a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// The id before every entry: reading after it reads the whole stream.
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };

    /// An id from its parts.
    pub const fn new(ms: u64, seq: u64) -> Self {
        Self { ms, seq }
    }

    /// Parses `ms-seq` (or a bare `ms`, as Redis allows).
    pub fn parse(s: &str) -> Option<Self> {
        let (ms, seq) = match s.split_once('-') {
            Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
            None => (s.parse().ok()?, 0),
        };
        Some(Self { ms, seq })
    }

    /// The id just before this one (for an inclusive start).
    pub fn predecessor(self) -> Self {
        match (self.ms, self.seq) {
            (0, 0) => self,
            (ms, 0) => Self {
                ms: ms - 1,
                seq: u64::MAX,
            },
            (ms, seq) => Self { ms, seq: seq - 1 },
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One entry read from a stream: its id and its field/value pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The entry's id.
    pub id: StreamId,
    /// Its fields in the order they were written.
    pub fields: Vec<(String, bytes::Bytes)>,
}

/// What a stream holds and has held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamCounts {
    /// Entries held now.
    pub length: u64,
    /// Entries ever added (trimmed ones included).
    pub entries_added: u64,
}

/// The entries one stream returned from a read.
pub type StreamBatch = (String, Vec<StreamEntry>);

/// Members of a liveness set whose deadline passed longer ago than this
/// (one day) are removed from it by the next beat.
pub const ALIVE_PRUNE: Duration = Duration::from_secs(24 * 3600);

/// What one liveness beat ([`PeerTransport::alive_beat`]) saw, on the
/// log's own clock (milliseconds, the clock stream ids come from), which
/// every daemon shares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AliveBeat {
    /// The log's clock when it took the beat.
    pub now_ms: u64,
    /// Whether the beating member's previous deadline was still ahead: `false`
    /// at its first beat, after it was silent past its deadline, or when the
    /// log lost the set (restarted empty).
    pub was_alive: bool,
    /// Members whose deadline fell in `(since_ms, now_ms]`, with it.
    pub expired: Vec<(String, u64)>,
}

/// The whole liveness set ([`PeerTransport::alive_members`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AliveSet {
    /// The log's clock when it was read.
    pub now_ms: u64,
    /// Every member with its deadline (passed or not).
    pub members: Vec<(String, u64)>,
}

/// The error of a liveness or record call on a transport without them.
fn unsupported(command: &'static str) -> TransportError {
    TransportError::Command {
        command,
        reason: "not supported by this transport".into(),
    }
}

/// The state of the link to the shared log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Link {
    /// Whether the link is up now.
    pub connected: bool,
    /// How many times it has come back after being lost. A change means
    /// positions must be checked for gaps and the daemon must re-announce.
    pub reconnects: u64,
}

/// Why the link to the shared log is (or was last) failing, sorted into
/// what an operator needs to know: will it fix itself, or must someone
/// change a setting? Cheap to copy; the details travel in [`LinkFailure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkCause {
    /// Nothing listens at the address (the server is down or restarting).
    Refused,
    /// The server did not answer in time (stalled, overloaded, or a
    /// network partition).
    TimedOut,
    /// An established connection was closed or reset.
    Lost,
    /// The server's TLS certificate is not trusted (unknown CA, wrong
    /// name, expired).
    TlsCertificate,
    /// A TLS URL points at a server that does not speak TLS.
    NotTls,
    /// Another TLS handshake failure (protocol version, a client
    /// certificate the server wants).
    Tls,
    /// The server refused the credentials (`WRONGPASS`, `NOAUTH`).
    Authentication,
    /// The user may not run the commands the protocol needs (`NOPERM`).
    Permission,
    /// Anything else.
    Other,
}

impl LinkCause {
    /// Whether this cause persists until an operator changes a setting
    /// (TLS, credentials, permissions), as opposed to an outage that
    /// retries can outlast.
    pub fn needs_operator(self) -> bool {
        matches!(
            self,
            Self::TlsCertificate
                | Self::NotTls
                | Self::Tls
                | Self::Authentication
                | Self::Permission
        )
    }

    /// A short human description, e.g. `connection refused`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Refused => "connection refused",
            Self::TimedOut => "connection timed out",
            Self::Lost => "connection lost",
            Self::TlsCertificate => "TLS certificate not trusted",
            Self::NotTls => "not a TLS server",
            Self::Tls => "TLS handshake failed",
            Self::Authentication => "authentication refused",
            Self::Permission => "permission denied",
            Self::Other => "connection failed",
        }
    }
}

impl fmt::Display for LinkCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The last failure of the link: its cause and what the transport said
/// (never a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFailure {
    /// The classified cause.
    pub cause: LinkCause,
    /// The transport's own words, shortened, for the operator.
    pub detail: String,
}

impl LinkFailure {
    /// The longest `detail` kept, in bytes (before the `...` that marks a cut).
    pub const MAX_DETAIL: usize = 200;

    /// A failure with `detail` cut to [`LinkFailure::MAX_DETAIL`] bytes.
    pub fn new(cause: LinkCause, detail: impl Into<String>) -> Self {
        let mut detail = detail.into();
        if detail.len() > Self::MAX_DETAIL {
            let mut end = Self::MAX_DETAIL;
            while !detail.is_char_boundary(end) {
                end -= 1;
            }
            detail.truncate(end);
            detail.push_str("...");
        }
        Self { cause, detail }
    }

    /// The message for people: the cause, then the details.
    pub fn message(&self) -> String {
        if self.detail.is_empty() {
            self.cause.describe().to_owned()
        } else {
            format!("{}: {}", self.cause.describe(), self.detail)
        }
    }
}

/// Why a transport operation failed. All are transient from the protocol's
/// point of view: it retries with backoff.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The link is down.
    #[error("transport disconnected: {reason}")]
    Disconnected {
        /// What the transport said.
        reason: String,
    },
    /// The server refused or failed the command.
    #[error("transport command {command} failed: {reason}")]
    Command {
        /// The command, e.g. `XADD`.
        command: &'static str,
        /// What the server said.
        reason: String,
    },
    /// A reply the transport could not understand.
    #[error("unexpected reply to {command}: {reason}")]
    Protocol {
        /// The command.
        command: &'static str,
        /// What was wrong.
        reason: String,
    },
}

/// One field of an entry to append: its name and its value. The value is
/// [`Bytes`](bytes::Bytes) so that an envelope's body reaches the transport
/// (and the Redis client's command buffer) shared, never copied.
pub type Field<'a> = (&'a str, bytes::Bytes);

/// A shared, append-only log of named streams.
#[async_trait::async_trait]
pub trait PeerTransport: Send + Sync + 'static {
    /// Appends an entry to `stream`, trimming it to about `max_len` entries.
    ///
    /// # Errors
    /// [`TransportError`] when the entry could not be appended.
    async fn append(
        &self,
        stream: &str,
        fields: &[Field<'_>],
        max_len: usize,
    ) -> Result<StreamId, TransportError>;

    /// Appends several entries to one stream in one round trip, in order.
    ///
    /// # Errors
    /// [`TransportError`] when the entries could not be appended; some may
    /// have been.
    async fn append_batch(
        &self,
        stream: &str,
        entries: &[Vec<Field<'_>>],
        max_len: usize,
    ) -> Result<Vec<StreamId>, TransportError> {
        let mut ids = Vec::with_capacity(entries.len());
        for e in entries {
            ids.push(self.append(stream, e, max_len).await?);
        }
        Ok(ids)
    }

    /// The oldest and newest ids `stream` holds; `None` when it is empty or
    /// does not exist.
    ///
    /// # Errors
    /// [`TransportError`] when the stream could not be inspected.
    async fn bounds(&self, stream: &str) -> Result<Option<(StreamId, StreamId)>, TransportError>;

    /// How many entries `stream` holds and how many were ever added to it
    /// (Redis 7's `length` and `entries-added`), or `None` when the stream
    /// does not exist or the log cannot tell. More added than held means
    /// entries were trimmed away.
    ///
    /// # Errors
    /// [`TransportError`] when the stream could not be inspected.
    async fn counts(&self, stream: &str) -> Result<Option<StreamCounts>, TransportError> {
        let _ = stream;
        Ok(None)
    }

    /// Whether this transport has the liveness set and the record hash
    /// below; without them the protocol falls back to a full heartbeat
    /// every period.
    fn has_liveness(&self) -> bool {
        false
    }

    /// One liveness beat, atomically on the log's clock `now`: sets
    /// `member`'s deadline in the set `key` to `now + ttl`, removes members
    /// whose deadline is older than [`ALIVE_PRUNE`], and reports the
    /// members whose deadline fell in `(since_ms, now]`.
    ///
    /// # Errors
    /// [`TransportError`] when the beat could not be taken (or the
    /// transport has no liveness set).
    async fn alive_beat(
        &self,
        key: &str,
        member: &str,
        ttl: Duration,
        since_ms: u64,
    ) -> Result<AliveBeat, TransportError> {
        let _ = (key, member, ttl, since_ms);
        Err(unsupported("ALIVE"))
    }

    /// Every member of the liveness set `key` with its deadline, and the
    /// log's clock.
    ///
    /// # Errors
    /// [`TransportError`] when the set could not be read.
    async fn alive_members(&self, key: &str) -> Result<AliveSet, TransportError> {
        let _ = key;
        Err(unsupported("ALIVE"))
    }

    /// Removes `member` from the liveness set `key` (a graceful stop).
    ///
    /// # Errors
    /// [`TransportError`] when it could not be removed.
    async fn alive_remove(&self, key: &str, member: &str) -> Result<(), TransportError> {
        let _ = (key, member);
        Err(unsupported("ALIVE"))
    }

    /// Sets `field` of the record hash `key` to `value`.
    ///
    /// # Errors
    /// [`TransportError`] when it could not be written.
    async fn put_record(&self, key: &str, field: &str, value: &[u8]) -> Result<(), TransportError> {
        let _ = (key, field, value);
        Err(unsupported("HSET"))
    }

    /// Every field of the record hash `key` with its value (empty when the
    /// hash does not exist).
    ///
    /// # Errors
    /// [`TransportError`] when it could not be read.
    async fn records(&self, key: &str) -> Result<Vec<(String, bytes::Bytes)>, TransportError> {
        let _ = key;
        Err(unsupported("HGETALL"))
    }

    /// Removes `field` from the record hash `key`.
    ///
    /// # Errors
    /// [`TransportError`] when it could not be removed.
    async fn remove_record(&self, key: &str, field: &str) -> Result<(), TransportError> {
        let _ = (key, field);
        Err(unsupported("HDEL"))
    }

    /// A reader with its own connection, for blocking reads.
    ///
    /// # Errors
    /// [`TransportError`] when the connection could not be opened.
    async fn reader(&self) -> Result<Box<dyn StreamReader>, TransportError>;

    /// The link state, updated on every loss and reconnect.
    fn link(&self) -> watch::Receiver<Link>;
}

/// Blocking reads on a dedicated connection.
#[async_trait::async_trait]
pub trait StreamReader: Send + 'static {
    /// Waits up to `block` for entries after the given ids in any of the
    /// streams and returns at most `count` per stream (nothing on timeout).
    ///
    /// # Errors
    /// [`TransportError`] when the read failed; the caller retries from the
    /// same ids.
    async fn read(
        &mut self,
        from: &[(String, StreamId)],
        count: usize,
        block: Duration,
    ) -> Result<Vec<StreamBatch>, TransportError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_say_their_cause_first_and_stay_short() {
        let f = LinkFailure::new(LinkCause::Refused, "os error 111");
        assert_eq!(f.message(), "connection refused: os error 111");
        assert!(!f.cause.needs_operator());
        assert!(LinkCause::TlsCertificate.needs_operator());
        assert!(LinkCause::Authentication.needs_operator());
        let long = LinkFailure::new(LinkCause::Other, "\u{e9}".repeat(300));
        assert!(long.detail.len() <= LinkFailure::MAX_DETAIL + 3);
        assert_eq!(
            LinkFailure::new(LinkCause::NotTls, "").message(),
            "not a TLS server"
        );
    }

    #[test]
    fn ids_parse_order_and_print() {
        let a = StreamId::parse("1700000000000-3").unwrap();
        assert_eq!(a.to_string(), "1700000000000-3");
        assert!(StreamId::parse("5").unwrap() < a);
        assert!(StreamId::parse("x-1").is_none());
        assert_eq!(
            StreamId::new(5, 0).predecessor(),
            StreamId::new(4, u64::MAX)
        );
        assert!(StreamId::new(5, 0).predecessor() < StreamId::new(5, 0));
    }
}

//! What the daemon plugs into the API: session writes, the WebSocket
//! upgrade and the Redis link's state (refreshes go through the port both
//! APIs share, [`model::Refresher`]). Each is a trait so that
//! this crate knows neither SQLite, Redis nor WebSocket framing.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

/// Writes to this computer's own sessions (`POST`, `PATCH`, `DELETE` on
/// `/v1/sessions`).
///
/// The daemon implements it with the local store and writes through to
/// the cache; a write is durable before it returns (`PROTOCOL.md` section
/// 3). The API has already checked, in the cache, that the session
/// belongs to this computer, and validated a new session's request; a
/// patch is validated by [`LocalSessions::update`] (the store), not before.
#[async_trait::async_trait]
pub trait LocalSessions: Send + Sync + 'static {
    /// Creates a session on this computer.
    ///
    /// # Errors
    /// [`WriteError::Invalid`] for a request the store refuses,
    /// [`WriteError::StorageFull`], [`WriteError::StorageUnavailable`] or
    /// [`WriteError::Unavailable`] when it cannot commit.
    async fn create(&self, req: model::NewSession) -> Result<model::Session, WriteError>;

    /// Validates `patch` and applies it to the local session `id`,
    /// returning its new state.
    ///
    /// # Errors
    /// [`WriteError::Invalid`] for a patch that breaks the contract,
    /// [`WriteError::NotFound`] when there is no such session here, and
    /// the errors of [`LocalSessions::create`]. (Another computer's
    /// session never gets here: the API forwards it to its owner.)
    async fn update(
        &self,
        id: &str,
        patch: model::SessionPatch,
    ) -> Result<model::Session, WriteError>;

    /// Ends the local session `id` (status `closed`, then removed).
    ///
    /// # Errors
    /// As [`LocalSessions::update`].
    async fn end(&self, id: &str) -> Result<(), WriteError>;
}

/// Forwards writes of other computers' sessions to their owners
/// (`PROTOCOL.md` section 5): `PATCH` and `DELETE` of a session the cache
/// says another computer owns, and `POST` with `"computer": X`.
///
/// The daemon implements it over the peer protocol; the call waits for the
/// owner's answer (bounded by the protocol's timeout) on the caller's task.
#[async_trait::async_trait]
pub trait RemoteSessions: Send + Sync + 'static {
    /// Sends `write` to `owner` and returns its answer: the status and body
    /// its local API gave, after its commit.
    ///
    /// # Errors
    /// [`ForwardError::Unreachable`] when the owner is offline or did not
    /// answer in time (503 `peer_unreachable`).
    async fn forward(
        &self,
        owner: &str,
        write: model::forwarded::ForwardedWrite,
    ) -> Result<model::forwarded::WriteReply, ForwardError>;

    /// Finds the owner of a session the cache does not hold (nobody here
    /// watches its computer): the computer whose snapshot brings it within
    /// the forward timeout, else `None` (then the write is 404).
    async fn locate(&self, session_id: &str) -> Option<String>;
}

/// Why a forwarded write got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The owner is offline, silent, or cannot be reached (503
    /// `peer_unreachable`).
    #[error("computer {owner:?} cannot be reached: {reason}")]
    Unreachable {
        /// The owning computer.
        owner: String,
        /// Why, for the client and the log.
        reason: String,
    },
}

/// Why a session write failed; `error.rs` maps each to a status.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// No session with this id (404).
    #[error("no session {session_id:?}")]
    NotFound {
        /// The id asked for.
        session_id: String,
    },
    /// The request breaks the contract (400).
    #[error(transparent)]
    Invalid(#[from] model::Error),
    /// The store cannot take writes now (503).
    #[error("session store unavailable: {reason}")]
    Unavailable {
        /// Why, for the client and the log.
        reason: String,
    },
    /// The store has no space left on its disk (507 `storage_full`);
    /// nothing of the write was kept. Writes work again once there is
    /// space.
    #[error("session store full, nothing was written: {reason}")]
    StorageFull {
        /// Why, for the client and the log.
        reason: String,
    },
    /// The store's file system refuses writes, for example it is
    /// read-only (503 `storage_unavailable`); nothing of the write was
    /// kept.
    #[error("session store cannot write, nothing was written: {reason}")]
    StorageUnavailable {
        /// Why, for the client and the log.
        reason: String,
    },
}

/// The WebSocket endpoint: `GET /v1/ws` is handed to it, after
/// authentication, with the request's live body so that it can take over
/// the connection (hyper's upgrade).
pub trait Upgrader: Send + Sync + 'static {
    /// Answers the upgrade request (101 on success) and takes over the
    /// connection in a task it owns.
    fn upgrade(&self, req: Request<Incoming>) -> Response<Full<Bytes>>;
}

/// The state of the fleet link, for `GET /v1/health`.
pub trait HealthSource: Send + Sync + 'static {
    /// `"disabled"` (standalone), `"connected"`, `"reconnecting"` (an
    /// outage retries can outlast) or `"error"` (a setting an operator must
    /// fix: TLS, credentials, permissions).
    fn redis_state(&self) -> &'static str;

    /// The state with, while not connected, why the link last failed. The
    /// default has no reason; implementations that know one override this
    /// (reading both from one snapshot, so they agree).
    fn redis(&self) -> RedisHealth {
        RedisHealth {
            state: self.redis_state(),
            error: None,
        }
    }
}

/// The fleet link as `/v1/health` shows it: its `redis` and `redis_error`
/// fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisHealth {
    /// As [`HealthSource::redis_state`].
    pub state: &'static str,
    /// A short human message naming the last failure's cause (refused,
    /// TLS certificate, authentication, ...) while not connected; `None`
    /// while connected or when no failure is known.
    pub error: Option<String>,
}

//! The asker's side of forwarded writes: [`Forwarder::forward`] appends a
//! `request` entry to the owner's inbox and waits, on a oneshot keyed by
//! the request id, for the owner's `response`, which the receive task
//! (its blocking read of this computer's inbox: no polling) hands over in
//! [`on_response`]. The caller's task does the waiting, never the reader.
//!
//! An owner that is offline fails at once; one that does not answer within
//! `forward_timeout` (3 s) fails then. A reply that comes after its asker
//! gave up is dropped, logged and counted (`late_reply`).

use crate::intake::drop_entry;
use crate::shared::Shared;
use model::StreamEntry;
use model::forwarded::{ForwardedWrite, WriteReply, WriteRequestBody, WriteResponseBody};
use model::wire::{Envelope, INBOX_MAXLEN, Kind, WireError};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Why a forwarded write got no answer from its owner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    /// The owner is not online: never heard, left, or silent for 3 periods.
    #[error("computer {owner:?} is offline")]
    Offline {
        /// The owner.
        owner: String,
    },
    /// The owner did not answer in time (or the request could not be sent
    /// within that time).
    #[error("computer {owner:?} did not answer within {waited:?}")]
    Silent {
        /// The owner.
        owner: String,
        /// How long this daemon waited.
        waited: Duration,
    },
    /// The request could not be appended to the owner's inbox.
    #[error("could not send the request to computer {owner:?}: the fleet link refused it")]
    NotSent {
        /// The owner.
        owner: String,
    },
    /// This daemon is stopping.
    #[error("stopping")]
    Stopping,
}

/// Sends session writes to their owners and waits for the answers. Cheap
/// to clone; get one from [`crate::PeerSync::forwarder`].
#[derive(Clone)]
pub struct Forwarder {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("computer", &self.shared.me)
            .finish_non_exhaustive()
    }
}

/// Removes a pending request when its asker stops waiting, however it
/// stops (answer, timeout, or the caller's future dropped).
struct PendingGuard<'a> {
    shared: &'a Shared,
    id: String,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.shared.pending_writes.lock().by_id.remove(&self.id);
    }
}

impl Forwarder {
    /// Whether computer `name` is online as the protocol judges it.
    pub fn is_online(&self, name: &str) -> bool {
        let now = self.shared.now();
        self.shared
            .peers
            .lock()
            .online_names(now)
            .iter()
            .any(|n| n == name)
    }

    /// Sends `write` to `owner` and returns its answer: the status and body
    /// its local API gave, after its commit.
    ///
    /// # Errors
    /// [`ForwardError::Offline`] at once when the owner is not online,
    /// [`ForwardError::Silent`] when no answer came within the forward
    /// timeout, [`ForwardError::NotSent`] when the request could not be
    /// appended.
    pub async fn forward(
        &self,
        owner: &str,
        write: ForwardedWrite,
    ) -> Result<WriteReply, ForwardError> {
        let shared = &*self.shared;
        if owner != shared.me && !self.is_online(owner) {
            return Err(ForwardError::Offline {
                owner: owner.to_owned(),
            });
        }
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        shared
            .pending_writes
            .lock()
            .by_id
            .insert(id.clone(), (owner.to_owned(), tx));
        let _guard = PendingGuard {
            shared,
            id: id.clone(),
        };
        let op = write.op.as_str();
        let env = Envelope::new(
            Kind::Request,
            &shared.me,
            &shared.boot,
            &WriteRequestBody {
                id: id.clone(),
                write,
            },
        );
        let waited = shared.cfg.forward_timeout;
        let exchange = async {
            if !shared
                .send(&shared.keys.inbox(owner), &env, INBOX_MAXLEN)
                .await
            {
                return Err(ForwardError::NotSent {
                    owner: owner.to_owned(),
                });
            }
            rx.await.map_err(|_| ForwardError::Stopping)
        };
        match tokio::time::timeout(waited, exchange).await {
            Ok(r) => r,
            Err(_) => {
                tracing::info!(peer = owner, id, op, ?waited, "forwarded write unanswered");
                Err(ForwardError::Silent {
                    owner: owner.to_owned(),
                    waited,
                })
            }
        }
    }
}

#[derive(Deserialize)]
struct StatusProbe {
    #[serde(default)]
    status: Option<IgnoredAny>,
}

/// Whether a response entry answers a forwarded write (it has a `status`)
/// rather than a snapshot request.
pub(crate) fn is_write_reply(env: &Envelope) -> bool {
    env.parse_body::<StatusProbe>()
        .is_ok_and(|p| p.status.is_some())
}

/// Hands a forwarded write's reply to its waiting asker; drops and counts
/// one nobody waits for any more.
pub(crate) fn on_response(shared: &Shared, stream: &str, entry: &StreamEntry, env: &Envelope) {
    let body: WriteResponseBody = match env.parse_body() {
        Ok(b) => b,
        Err(e) => return drop_entry(stream, entry, &e, &shared.metrics),
    };
    if !(200..=599).contains(&body.reply.status) {
        let e = WireError::Body(format!("status {} out of range", body.reply.status));
        return drop_entry(stream, entry, &e, &shared.metrics);
    }
    let mut pending = shared.pending_writes.lock();
    let Some((owner, _)) = pending.by_id.get(&body.id) else {
        drop(pending);
        tracing::info!(
            peer = %env.from,
            id = %body.id,
            entry_id = %entry.id,
            reason = "its asker gave up waiting (or never asked)",
            "dropped late reply to a forwarded write"
        );
        shared.metrics.dropped("redis", "late_reply");
        return;
    };
    if *owner != env.from {
        let e = WireError::Forged {
            from: env.from.clone(),
            stream: stream.to_owned(),
        };
        drop(pending);
        return drop_entry(stream, entry, &e, &shared.metrics);
    }
    if let Some((_, tx)) = pending.by_id.remove(&body.id) {
        // The asker may have stopped waiting in between: then nobody needs it.
        let _ = tx.send(body.reply);
    }
}

//! The owner's side of forwarded writes: a `request` entry with op
//! `create`, `update` or `end` in this computer's inbox is handed by the
//! receive task to one owned task (the reader never waits on the store),
//! which applies it through [`ApplyWrites`] (the same local write path as
//! the REST API: store commit, then cache) and appends the answer to the
//! asker's inbox after the commit.
//!
//! Applied only with `allow_remote_writes`; otherwise answered 403
//! `remote_writes_disabled`. Requests are applied one at a time and each
//! `(asker, id)` at most once: a duplicate is answered with the first
//! answer from [`RecentRequests`].

use crate::intake::drop_entry;
use crate::recent::RecentRequests;
use crate::shared::{Incoming, Shared};
use model::StreamEntry;
use model::forwarded::{ForwardedWrite, WriteOp, WriteReply, WriteRequestBody, WriteResponseBody};
use model::wire::{Envelope, INBOX_MAXLEN, Kind, WireError};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;

/// The longest request id accepted (a UUID is 36 bytes).
const MAX_ID_BYTES: usize = 128;

/// Applies a forwarded session write on this computer, exactly as the
/// local API would apply the same request from a local client.
///
/// The daemon implements it over its session store and cache; it is only
/// called for writes this daemon accepts (`allow_remote_writes`).
#[async_trait::async_trait]
pub trait ApplyWrites: Send + Sync + 'static {
    /// Applies `write`, asked by computer `from`, and returns the status
    /// and body a local client would get, once the write is committed.
    async fn apply(&self, from: &str, write: ForwardedWrite) -> WriteReply;
}

#[derive(Deserialize)]
struct OpProbe {
    op: String,
}

/// Whether a request entry is a forwarded write (op `create`, `update` or
/// `end`) rather than a snapshot request.
pub(crate) fn is_write_request(env: &Envelope) -> bool {
    env.parse_body::<OpProbe>()
        .is_ok_and(|p| WriteOp::parse(&p.op).is_some())
}

/// Hands a forwarded write from the inbox to the owner task; never waits.
pub(crate) fn on_request(shared: &Shared, stream: &str, entry: &StreamEntry, env: &Envelope) {
    let body: WriteRequestBody = match env.parse_body() {
        Ok(b) => b,
        Err(e) => return drop_entry(stream, entry, &e, &shared.metrics),
    };
    if body.id.is_empty() || body.id.len() > MAX_ID_BYTES {
        let e = WireError::Body(format!("request id of {} bytes", body.id.len()));
        return drop_entry(stream, entry, &e, &shared.metrics);
    }
    let incoming = Incoming {
        from: env.from.clone(),
        id: body.id,
        write: body.write,
    };
    match shared.remote_writes.try_send(incoming) {
        Ok(()) => {}
        Err(TrySendError::Full(i)) => {
            tracing::warn!(
                peer = %i.from,
                id = %i.id,
                entry_id = %entry.id,
                reason = "too many forwarded writes waiting; the asker will time out",
                "dropped forwarded write"
            );
            shared.metrics.dropped("redis", "remote_writes_busy");
        }
        Err(TrySendError::Closed(i)) => {
            tracing::debug!(peer = %i.from, id = %i.id, reason = "stopping", "dropped forwarded write");
        }
    }
}

/// The owner task: applies forwarded writes one at a time, in inbox order.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Incoming>,
    applier: Option<Arc<dyn ApplyWrites>>,
    cancel: CancellationToken,
) {
    let recent = RecentRequests::new(
        shared.cfg.remote_writes_memory,
        shared.cfg.remote_writes_memory_ttl,
    );
    loop {
        let incoming = tokio::select! {
            () = cancel.cancelled() => return,
            i = rx.recv() => match i {
                Some(i) => i,
                None => return,
            },
        };
        serve(&shared, &recent, applier.as_deref(), incoming).await;
    }
}

async fn serve(
    shared: &Shared,
    recent: &RecentRequests,
    applier: Option<&dyn ApplyWrites>,
    req: Incoming,
) {
    let key = (req.from.clone(), req.id.clone());
    let op = req.write.op.as_str();
    let reply = if let Some(first) = recent.get(&key) {
        tracing::info!(
            peer = %req.from,
            id = %req.id,
            op,
            reason = "already applied: a request delivered twice",
            "answering a duplicate forwarded write with its first answer"
        );
        shared.metrics.dropped("redis", "duplicate_request");
        first
    } else {
        let reply = match applier {
            Some(applier) if shared.cfg.allow_remote_writes => {
                let reply = applier.apply(&req.from, req.write.clone()).await;
                tracing::info!(
                    peer = %req.from,
                    id = %req.id,
                    op,
                    session_id = req.write.session_id.as_deref().unwrap_or(""),
                    status = reply.status,
                    "applied forwarded write"
                );
                reply
            }
            _ => {
                tracing::info!(
                    peer = %req.from,
                    id = %req.id,
                    op,
                    reason = "remote writes are off here (--allow-remote-writes)",
                    "refused forwarded write"
                );
                shared.metrics.dropped("redis", "remote_writes_disabled");
                WriteReply::error(
                    403,
                    "remote_writes_disabled",
                    &format!(
                        "computer {:?} does not accept writes from other computers \
                         (start its fleetd with --allow-remote-writes)",
                        shared.me
                    ),
                )
            }
        };
        recent.insert(key, reply.clone());
        reply
    };
    let body = WriteResponseBody { id: req.id, reply };
    let env = Envelope::new(Kind::Response, &shared.me, &shared.boot, &body);
    if !shared
        .send(&shared.keys.inbox(&req.from), &env, INBOX_MAXLEN)
        .await
    {
        tracing::warn!(
            peer = %req.from,
            id = %body.id,
            reason = "the transport refused the append; the asker will time out",
            "dropped reply to a forwarded write"
        );
        shared.metrics.dropped("redis", "reply_not_sent");
    }
}

//! The push task: appends this computer's own changes to its events stream,
//! only while an online peer watches them, and serves snapshot requests in
//! the same order as the pushes so that a snapshot's `events_id` never
//! skips a change.

use crate::snapshot;
use crate::sync::{Request, Shared};
use cache_core::FeedEvent;
use model::wire::{EVENTS_MAXLEN, Envelope, INBOX_MAXLEN, Kind};
use model::{StreamId, Topic};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(
    shared: Arc<Shared>,
    mut requests: mpsc::UnboundedReceiver<Request>,
    cancel: CancellationToken,
) {
    let mut feed = shared.cache.subscribe();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            req = requests.recv() => {
                let Some(req) = req else { return };
                drain(&shared, &mut feed, &cancel).await;
                serve(&shared, req).await;
            }
            ev = feed.recv() => match ev {
                Ok(ev) => {
                    let mut batch = vec![ev];
                    collect(&mut feed, &mut batch, shared.cfg.push_batch);
                    push(&shared, batch, &cancel).await;
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "push fell behind the change feed: peers will re-snapshot");
                    shared.metrics.dropped("push", "lagged");
                    resync(&shared, &cancel).await;
                }
                Err(RecvError::Closed) => return,
            }
        }
    }
}

fn collect(
    feed: &mut broadcast::Receiver<Arc<FeedEvent>>,
    batch: &mut Vec<Arc<FeedEvent>>,
    max: usize,
) {
    while batch.len() < max {
        match feed.try_recv() {
            Ok(ev) => batch.push(ev),
            Err(TryRecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "push fell behind the change feed");
            }
            Err(_) => break,
        }
    }
}

/// Pushes whatever is waiting on the feed, before a snapshot is taken.
async fn drain(
    shared: &Shared,
    feed: &mut broadcast::Receiver<Arc<FeedEvent>>,
    cancel: &CancellationToken,
) {
    let mut batch = Vec::new();
    collect(feed, &mut batch, usize::MAX);
    if !batch.is_empty() {
        push(shared, batch, cancel).await;
    }
}

/// Appends the own, watched changes of `batch` in one round trip, retrying
/// with backoff until the transport takes them (a change that reached no
/// stream could never be replayed), or until nobody watches any more.
async fn push(shared: &Shared, batch: Vec<Arc<FeedEvent>>, cancel: &CancellationToken) {
    let now = shared.now();
    let (sessions_watched, prep_watched) = {
        let peers = shared.peers.lock();
        (
            peers.interested_in(&shared.me, Topic::Sessions, now),
            peers.interested_in(&shared.me, Topic::Preparation, now),
        )
    };
    if !sessions_watched && !prep_watched {
        return;
    }
    let entries: Vec<Vec<(&'static str, Vec<u8>)>> = batch
        .iter()
        .filter(|ev| *ev.computer == *shared.me)
        .filter(|ev| match ev.topic() {
            Topic::Sessions => sessions_watched,
            Topic::Preparation => prep_watched,
            Topic::Computers => false,
        })
        .map(|ev| {
            let body = event_body(ev);
            let env = Envelope {
                kind: Kind::Event,
                from: shared.me.clone(),
                boot: shared.boot.clone(),
                body,
            };
            env.to_fields(shared.secret())
        })
        .collect();
    if entries.is_empty() {
        return;
    }
    let refs: Vec<Vec<(&str, &[u8])>> = entries
        .iter()
        .map(|e| e.iter().map(|(k, v)| (*k, v.as_slice())).collect())
        .collect();
    let stream = shared.keys.events(&shared.me);
    let mut backoff = Duration::from_millis(50);
    loop {
        match shared
            .transport
            .append_batch(&stream, &refs, EVENTS_MAXLEN)
            .await
        {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(stream, events = refs.len(), error = %e, retry_in = ?backoff, "push failed; retrying");
            }
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(2));
        let now = shared.now();
        let peers = shared.peers.lock();
        if !peers.interested_in(&shared.me, Topic::Sessions, now)
            && !peers.interested_in(&shared.me, Topic::Preparation, now)
        {
            tracing::info!(
                stream,
                events = refs.len(),
                reason = "no peer watches any more",
                "dropped unpushed changes"
            );
            return;
        }
    }
}

/// `{"event":NAME,"data":{..},"rev":N}`, built from the feed's serialized data.
fn event_body(ev: &FeedEvent) -> bytes::Bytes {
    let mut out = Vec::with_capacity(ev.data.len() + 64);
    out.extend_from_slice(b"{\"event\":\"");
    out.extend_from_slice(ev.event.as_str().as_bytes());
    out.extend_from_slice(b"\",\"data\":");
    out.extend_from_slice(&ev.data);
    if let Some(rev) = ev.rev {
        out.extend_from_slice(b",\"rev\":");
        out.extend_from_slice(rev.to_string().as_bytes());
    }
    out.push(b'}');
    bytes::Bytes::from(out)
}

/// Answers a snapshot request with this computer's data and the position of
/// its events stream.
async fn serve(shared: &Shared, req: Request) {
    let stream = shared.keys.events(&shared.me);
    let events_id = match shared.transport.bounds(&stream).await {
        Ok(Some((_, last))) => last,
        Ok(None) => StreamId::ZERO,
        Err(e) => {
            tracing::warn!(peer = %req.from, error = %e, "cannot serve snapshot: stream position unknown");
            return;
        }
    };
    let env = Envelope {
        kind: Kind::Response,
        from: shared.me.clone(),
        boot: shared.boot.clone(),
        body: snapshot::response(&shared.cache, &req.id, &req.topics, events_id),
    };
    tracing::debug!(peer = %req.from, %events_id, "serving snapshot");
    shared
        .send(&shared.keys.inbox(&req.from), &env, INBOX_MAXLEN)
        .await;
}

/// After losing feed events: announce, so that watchers notice nothing and
/// keep reading; re-push the current state of every own record instead.
async fn resync(shared: &Shared, cancel: &CancellationToken) {
    let me = shared.cache.local_name();
    let sessions: Vec<model::Session> =
        serde_json::from_slice(&shared.cache.sessions_json(Some(me))).unwrap_or_default();
    let mut out = Vec::new();
    for s in sessions {
        if let Ok(data) = serde_json::to_vec(&s) {
            out.push(Arc::new(FeedEvent {
                seq: 0,
                event: model::EventName::SessionUpdated,
                computer: Arc::from(me),
                data: bytes::Bytes::from(data),
                rev: Some(s.rev),
                frame: bytes::Bytes::new(),
            }));
        }
    }
    push(shared, out, cancel).await;
}

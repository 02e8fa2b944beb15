//! The push task: appends this computer's own changes to its events stream,
//! only while an online peer watches them, and serves snapshot requests in
//! the same order as the pushes so that a snapshot's `events_id` never
//! skips a change.

use crate::shared::{Request, Shared};
use crate::snapshot;
use cache_core::FeedEvent;
use model::wire::{EVENTS_MAXLEN, Envelope, EventBody, INBOX_MAXLEN, Kind};
use model::{Field, StreamId, Topic};
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
                    let lagged = collect(&mut feed, &mut batch, shared.cfg.push_batch);
                    push(&shared, batch, &cancel).await;
                    if lagged {
                        resync(&shared, &mut feed, &cancel).await;
                    }
                }
                Err(RecvError::Lagged(_)) => resync(&shared, &mut feed, &cancel).await,
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// Takes what is waiting on the feed, up to `max` events; `true` when the
/// feed had already dropped some (the pusher must resync).
fn collect(
    feed: &mut broadcast::Receiver<Arc<FeedEvent>>,
    batch: &mut Vec<Arc<FeedEvent>>,
    max: usize,
) -> bool {
    while batch.len() < max {
        match feed.try_recv() {
            Ok(ev) => batch.push(ev),
            Err(TryRecvError::Lagged(_)) => return true,
            Err(_) => break,
        }
    }
    false
}

/// Pushes whatever is waiting on the feed, before a snapshot is taken.
async fn drain(
    shared: &Shared,
    feed: &mut broadcast::Receiver<Arc<FeedEvent>>,
    cancel: &CancellationToken,
) {
    let mut batch = Vec::new();
    let lagged = collect(feed, &mut batch, usize::MAX);
    if !batch.is_empty() {
        push(shared, batch, cancel).await;
    }
    if lagged {
        resync(shared, feed, cancel).await;
    }
}

/// Appends the own, watched changes of `batch` in one round trip, retrying
/// with backoff until the transport takes them (a change that reached no
/// stream could never be replayed). A peer that is only silent still
/// counts as watching, so a stall or a partition never drops changes; own
/// changes of a topic nobody watches (or given up when every watcher is
/// gone) move the topic's push generation, which tells any later follower
/// to pull a snapshot instead of trusting the stream.
async fn push(shared: &Shared, batch: Vec<Arc<FeedEvent>>, cancel: &CancellationToken) {
    let now = shared.now();
    let (sessions_watched, prep_watched) = {
        let peers = shared.peers.lock();
        (
            peers.interested_in(&shared.me, Topic::Sessions, now),
            peers.interested_in(&shared.me, Topic::Preparation, now),
        )
    };
    let own: Vec<&Arc<FeedEvent>> = batch
        .iter()
        .filter(|ev| *ev.computer == *shared.me && ev.topic() != Topic::Computers)
        .collect();
    let watched = |t: Topic| match t {
        Topic::Sessions => sessions_watched,
        Topic::Preparation => prep_watched,
        Topic::Computers => false,
    };
    for topic in [Topic::Sessions, Topic::Preparation] {
        if !watched(topic) && own.iter().any(|ev| ev.topic() == topic) {
            shared.gens.skipped(topic);
        }
    }
    let kept: Vec<&Arc<FeedEvent>> = own.into_iter().filter(|ev| watched(ev.topic())).collect();
    if kept.is_empty() {
        return;
    }
    let entries: Vec<Vec<Field<'static>>> = kept
        .iter()
        .map(|ev| {
            let env = Envelope {
                kind: Kind::Event,
                from: shared.me.clone(),
                boot: shared.boot.clone(),
                body: EventBody::encode(ev.event, &ev.data, ev.rev),
            };
            env.to_fields(shared.secret())
        })
        .collect();
    // Each body is shared with its envelope all the way to the transport.
    let refs = entries;
    let stream = shared.keys.events(&shared.me);
    let mut backoff = Duration::from_millis(50);
    let mut failures = 0u32;
    loop {
        match shared
            .transport
            .append_batch(&stream, &refs, EVENTS_MAXLEN)
            .await
        {
            Ok(_) => {
                if failures > 0 {
                    tracing::info!(
                        stream,
                        events = refs.len(),
                        failures,
                        "push went through after retries"
                    );
                }
                return;
            }
            Err(e) => {
                failures += 1;
                // Once per outage at warn, each further retry at debug.
                if failures == 1 {
                    tracing::warn!(stream, events = refs.len(), error = %e, "push failed; retrying until it goes through");
                } else {
                    tracing::debug!(stream, events = refs.len(), failures, error = %e, retry_in = ?backoff, "push still failing");
                }
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
            for topic in [Topic::Sessions, Topic::Preparation] {
                if kept.iter().any(|ev| ev.topic() == topic) {
                    shared.gens.skipped(topic);
                }
            }
            tracing::info!(
                stream,
                events = refs.len(),
                reason =
                    "every watcher is gone (left or forgotten); later followers will re-snapshot",
                "dropped unpushed changes"
            );
            return;
        }
    }
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
    let push_gen = shared.gens.now();
    shared.gens.served(&req.topics, push_gen);
    let env = Envelope {
        kind: Kind::Response,
        from: shared.me.clone(),
        boot: shared.boot.clone(),
        body: snapshot::response(&shared.cache, &req.id, &req.topics, events_id, push_gen),
    };
    tracing::debug!(peer = %req.from, %events_id, "serving snapshot");
    shared
        .send(&shared.keys.inbox(&req.from), &env, INBOX_MAXLEN)
        .await;
}

/// After the feed dropped events this task had not pushed: starts again at
/// the feed's end and pushes the current state of every own record
/// (sessions, remembered closes, projects, todos), which watchers apply by
/// `rev` or as whole lists, so they end equal on every topic.
async fn resync(
    shared: &Shared,
    feed: &mut broadcast::Receiver<Arc<FeedEvent>>,
    cancel: &CancellationToken,
) {
    // Events published from here on are read again after the resync;
    // anything before is covered by the state taken below.
    *feed = feed.resubscribe();
    shared.metrics.dropped("push", "lagged");
    let state = shared.cache.state_events(&shared.me);
    tracing::warn!(
        records = state.len(),
        reason = "the push task fell behind the change feed",
        "re-pushing the whole own state"
    );
    push(shared, state, cancel).await;
}

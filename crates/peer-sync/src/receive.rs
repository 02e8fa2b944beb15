//! The receive task: one dedicated reader that blocks on the presence
//! stream, this computer's inbox and the events stream of every watched
//! peer at once, always from the last id it processed. After a reconnect,
//! or when a read comes back full, it checks every position for a gap
//! (trimmed stream, vanished stream, changed boot) and re-snapshots where
//! one is found.

use crate::entries::dispatch;
use crate::feeds::Positions;
use crate::outage::Outage;
use crate::shared::Shared;
use model::StreamId;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut backoff = Duration::from_millis(50);
    let opening = Outage::default();
    let (mut reader, mut pos) = loop {
        let opened = async {
            let reader = shared.transport.reader().await?;
            let pos = start_positions(&shared).await?;
            Ok::<_, model::TransportError>((reader, pos))
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            r = opened => match r {
                Ok(v) => break v,
                Err(e) => {
                    if opening.failed() {
                        tracing::warn!(error = %e, "cannot open the stream reader; retrying (further failures at debug)");
                    } else {
                        tracing::debug!(error = %e, retry_in = ?backoff, "cannot open the stream reader yet");
                    }
                    sleep_or_cancel(&cancel, &mut backoff).await;
                }
            }
        }
    };
    if opening.succeeded() > 0 {
        tracing::info!("stream reader open");
    }
    backoff = Duration::from_millis(50);
    let reads = Outage::default();
    loop {
        if shared.check_gaps.swap(false, Ordering::AcqRel) {
            check_gaps(&shared, &mut pos).await;
        }
        let from = read_set(&shared, &pos);
        let reconnects = shared.transport.link().borrow().reconnects;
        let read = reader.read(&from, shared.cfg.read_count, shared.cfg.block);
        let batches = tokio::select! {
            () = cancel.cancelled() => return,
            r = read => r,
        };
        if batches.is_ok() && shared.transport.link().borrow().reconnects != reconnects {
            // The client re-sends a read interrupted by a reconnect, and the
            // server that answers it may be a new, empty one: what it returns
            // could jump over entries the old one held. Check every position
            // first, then read again from the same ids.
            tracing::debug!(
                reason = "the link reconnected during the read",
                "discarded a read; checking positions first"
            );
            shared.outage.store(true, Ordering::Release);
            shared.check_gaps.store(true, Ordering::Release);
            continue;
        }
        match batches {
            Ok(batches) => {
                backoff = Duration::from_millis(50);
                let failures = reads.succeeded();
                if failures > 0 {
                    tracing::info!(failures, "stream reads work again");
                }
                tracing::trace!(
                    streams = from.len(),
                    entries = batches.iter().map(|(_, e)| e.len()).sum::<usize>(),
                    "read"
                );
                for (stream, entries) in batches {
                    if entries.len() >= shared.cfg.read_count {
                        shared.check_gaps.store(true, Ordering::Release);
                    }
                    dispatch(&shared, &mut pos, &stream, &entries);
                }
                shared.sync_interest().await;
            }
            Err(e) => {
                if reads.failed() {
                    tracing::warn!(error = %e, "stream read failed; resuming from the same ids (further failures at debug)");
                } else {
                    tracing::debug!(error = %e, retry_in = ?backoff, "stream read failed again");
                }
                shared.outage.store(true, Ordering::Release);
                shared.check_gaps.store(true, Ordering::Release);
                sleep_or_cancel(&cancel, &mut backoff).await;
            }
        }
    }
}

async fn sleep_or_cancel(cancel: &CancellationToken, backoff: &mut Duration) {
    tokio::select! {
        () = cancel.cancelled() => {}
        () = tokio::time::sleep(*backoff) => {}
    }
    *backoff = (*backoff * 2).min(Duration::from_secs(2));
}

/// Presence from three periods back (so live peers are seen at once), the
/// inbox from its end (older requests were for an earlier boot).
async fn start_positions(shared: &Shared) -> Result<Positions, model::TransportError> {
    let presence = match shared.transport.bounds(&shared.keys.presence()).await? {
        Some((_, last)) => {
            let back = u64::try_from(shared.cfg.heartbeat.as_millis() * 3).unwrap_or(u64::MAX);
            StreamId::new(last.ms.saturating_sub(back), 0)
        }
        None => StreamId::ZERO,
    };
    let inbox = match shared
        .transport
        .bounds(&shared.keys.inbox(&shared.me))
        .await?
    {
        Some((_, last)) => last,
        None => StreamId::ZERO,
    };
    Ok(Positions { presence, inbox })
}

fn read_set(shared: &Shared, pos: &Positions) -> Vec<(String, StreamId)> {
    let mut from = vec![
        (shared.keys.presence(), pos.presence),
        (shared.keys.inbox(&shared.me), pos.inbox),
    ];
    let feeds = shared.feeds.lock();
    from.extend(feeds.positions().map(|(c, p)| (shared.keys.events(c), p)));
    from
}

/// Checks every position against what its stream still holds. After an
/// outage it also distrusts what it cannot prove: a feed that never read an
/// entry (position `0-0`) whose stream is gone may have missed entries of
/// a Redis that restarted empty, so it is re-snapshotted too.
async fn check_gaps(shared: &Shared, pos: &mut Positions) {
    let after_outage = shared.outage.load(Ordering::Acquire);
    let mut failed = false;
    let presence = shared.keys.presence();
    for (stream, at) in [
        (presence.clone(), &mut pos.presence),
        (shared.keys.inbox(&shared.me), &mut pos.inbox),
    ] {
        let lost = match shared.transport.bounds(&stream).await {
            Ok(Some((_, last))) if last < *at => {
                *at = StreamId::ZERO;
                true
            }
            Ok(None) => {
                *at = StreamId::ZERO;
                true
            }
            Ok(Some((first, _))) => first > *at && *at != StreamId::ZERO,
            Err(e) => {
                tracing::warn!(stream, error = %e, "cannot check stream position");
                shared.check_gaps.store(true, Ordering::Release);
                failed = true;
                false
            }
        };
        if lost && stream == presence && shared.beats {
            // Heartbeats may be gone unread: the roster has the latest.
            shared.roster_due.store(true, Ordering::Release);
        }
    }
    let watched: Vec<(String, StreamId)> = {
        let feeds = shared.feeds.lock();
        feeds.positions().map(|(c, p)| (c.clone(), p)).collect()
    };
    for (computer, at) in watched {
        let stream = shared.keys.events(&computer);
        let gap = match shared.transport.bounds(&stream).await {
            Ok(None) => at != StreamId::ZERO || after_outage,
            Ok(Some((first, last))) => {
                let trimmed = if at == StreamId::ZERO {
                    // Nothing read since a snapshot taken before the stream
                    // existed: any entry added but no longer held is lost.
                    matches!(
                        shared.transport.counts(&stream).await,
                        Ok(Some(c)) if c.entries_added > c.length
                    )
                } else {
                    first > at
                };
                last < at || trimmed
            }
            Err(e) => {
                tracing::warn!(stream, error = %e, "cannot check stream position");
                shared.check_gaps.store(true, Ordering::Release);
                failed = true;
                false
            }
        };
        if gap {
            tracing::info!(peer = %computer, stream, position = %at, "gap in events stream: re-snapshotting");
            shared.feeds.lock().reset(&computer);
        }
    }
    if !failed {
        shared.outage.store(false, Ordering::Release);
    }
}

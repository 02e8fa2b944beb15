//! The heartbeat task: beats on the liveness set every half period
//! (`liveness.rs`) and announces a full heartbeat only when something
//! changed: at start (after the first beat, so that the set already holds
//! this daemon when its heartbeat is read), when local interest changes,
//! after the transport reconnects (so a Redis that came back empty learns
//! about us, and peers re-check us), when the beat finds this daemon was
//! not alive in the set, when a followed push generation moved, and every
//! period while a previous-version peer is online. Without a liveness set
//! it announces every period, as the previous version did.
//!
//! It also turns the cache's signals into snapshot requests: local
//! interest (`Shared::sync_interest`), and watched remote projects and
//! todos that the sweeper found past their TTL (`Shared::pull_due`).
//!
//! A full heartbeat goes to the presence stream and, when beating, to the
//! roster `NS:computers`, where a joining daemon finds it.

use crate::liveness::{Beats, beat_interval};
use crate::shared::Shared;
use model::wire::{Envelope, HeartbeatBody, Kind, PRESENCE_MAXLEN};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio_util::sync::CancellationToken;

/// Sends a full heartbeat (and, when beating, its roster record); returns
/// whether both went through: if not, the caller announces again at the
/// next beat, since a join or a change that nobody read would otherwise
/// stay unknown until the next change.
async fn announce(shared: &Shared) -> bool {
    let Some(me) = shared.cache.computers().into_iter().next() else {
        return false;
    };
    let period = shared.cfg.heartbeat;
    let body = HeartbeatBody {
        computer: me,
        period_ms: u64::try_from(period.as_millis()).unwrap_or(u64::MAX),
        push_gen: shared.gens.now(),
        alive_ms: shared
            .beats
            .then(|| u64::try_from(beat_interval(period).as_millis()).unwrap_or(u64::MAX)),
    };
    let env = Envelope::new(Kind::Heartbeat, &shared.me, &shared.boot, &body);
    if !shared
        .send(&shared.keys.presence(), &env, PRESENCE_MAXLEN)
        .await
    {
        return false;
    }
    shared.gens.announced(body.push_gen);
    if shared.beats
        && let Err(e) = shared
            .transport
            .put_record(
                &shared.keys.computers(),
                &shared.me,
                &env.to_record(shared.secret()),
            )
            .await
    {
        tracing::warn!(error = %e, reason = "transport unavailable", "roster record not written; announcing again at the next beat");
        return false;
    }
    true
}

pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut interest = shared.cache.interest_changes();
    let mut due = shared.cache.preparation_due();
    let mut link = shared.transport.link();
    let mut reconnects = link.borrow().reconnects;
    let every = if shared.beats {
        beat_interval(shared.cfg.heartbeat)
    } else {
        shared.cfg.heartbeat
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beats = Beats::new();
    let mut ticks = 0u64;
    // The last full heartbeat did not go through: announce at the next beat.
    let mut unsent = false;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {
                ticks += 1;
                if !shared.beats {
                    announce(&shared).await;
                    continue;
                }
                let mut due = beats.beat(&shared).await || unsent;
                // A previous-version peer judges us by full heartbeats.
                due |= ticks % 2 == 1 && shared.peers.lock().legacy_online(shared.now());
                due |= shared.gens.due();
                if due {
                    unsent = !announce(&shared).await;
                }
            }
            changed = interest.changed() => {
                if changed.is_err() {
                    return;
                }
                interest.borrow_and_update();
                unsent = !announce(&shared).await;
                shared.sync_interest().await;
            }
            changed = due.changed() => {
                if changed.is_err() {
                    return;
                }
                let computers = due.borrow_and_update().clone();
                shared.pull_due(&computers).await;
            }
            changed = link.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = *link.borrow_and_update();
                if now.connected && now.reconnects != reconnects {
                    reconnects = now.reconnects;
                    tracing::info!(reconnects, "transport reconnected: re-announcing and checking positions");
                    shared.outage.store(true, Ordering::Release);
                    shared.check_gaps.store(true, Ordering::Release);
                    if shared.beats {
                        // Beat first: the set holds us before our heartbeat is read.
                        beats.beat(&shared).await;
                    }
                    unsent = !announce(&shared).await;
                    shared.sync_interest().await;
                }
            }
        }
    }
}

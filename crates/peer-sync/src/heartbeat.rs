//! The heartbeat task: announces this daemon every period, at once when
//! local interest changes, and at once after the transport reconnects (so a
//! Redis that came back empty learns about us, and peers re-check us).

use crate::sync::Shared;
use model::wire::{Envelope, HeartbeatBody, Kind, PRESENCE_MAXLEN};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio_util::sync::CancellationToken;

async fn announce(shared: &Shared) {
    let Some(me) = shared.cache.computers().into_iter().next() else {
        return;
    };
    let body = HeartbeatBody {
        computer: me,
        period_ms: u64::try_from(shared.cfg.heartbeat.as_millis()).unwrap_or(u64::MAX),
        push_gen: shared.gens.now(),
    };
    let env = Envelope::new(Kind::Heartbeat, &shared.me, &shared.boot, &body);
    shared
        .send(&shared.keys.presence(), &env, PRESENCE_MAXLEN)
        .await;
}

pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut interest = shared.cache.interest_changes();
    let mut link = shared.transport.link();
    let mut reconnects = link.borrow().reconnects;
    let mut tick = tokio::time::interval(shared.cfg.heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => announce(&shared).await,
            () = shared.announce.notified() => announce(&shared).await,
            changed = interest.changed() => {
                if changed.is_err() {
                    return;
                }
                interest.borrow_and_update();
                announce(&shared).await;
                shared.sync_interest().await;
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
                    announce(&shared).await;
                    shared.sync_interest().await;
                }
            }
        }
    }
}

//! One peer's WebSocket subscriber in the `throughput` scenario: reads every
//! frame, checks that each session's `rev` arrives in order without a gap,
//! records when each arrived, and stops once every session reached the
//! target the coordinator sets after the load (or at its deadline).

use crate::ws::{Ws, session_event};
use anyhow::bail;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// The last `rev` every session must reach, and until when to wait for it.
pub(super) type Target = Option<(Arc<Vec<u64>>, Instant)>;

/// What one subscriber saw.
pub(super) struct SubscriberLog {
    /// (session index, rev, arrival).
    pub(super) arrivals: Vec<(u32, u64, Instant)>,
    /// Revisions skipped over (a later one came first).
    pub(super) gaps: u64,
    /// Revisions that came again, or older than one already seen.
    pub(super) duplicates: u64,
    /// Revisions still missing when it stopped waiting.
    pub(super) missing: u64,
    /// When it had everything (or gave up).
    pub(super) done: Instant,
}

/// Reads one peer's frames until each session reached its target.
pub(super) async fn subscriber(
    mut ws: Ws,
    index: Arc<HashMap<String, u32>>,
    initial: Vec<(String, u64)>,
    mut target: watch::Receiver<Target>,
) -> anyhow::Result<SubscriberLog> {
    let mut last = vec![0u64; index.len()];
    for (id, rev) in initial {
        if let Some(&i) = index.get(&id) {
            last[i as usize] = rev;
        }
    }
    let mut log = SubscriberLog {
        arrivals: Vec::new(),
        gaps: 0,
        duplicates: 0,
        missing: 0,
        done: Instant::now(),
    };
    let mut goal: Option<Arc<Vec<u64>>> = None;
    let mut deadline = Instant::now() + Duration::from_secs(24 * 3600);
    let mut remaining = usize::MAX;
    loop {
        tokio::select! {
            changed = target.changed(), if goal.is_none() => {
                if changed.is_err() {
                    bail!("the coordinator went away");
                }
                let Some((want, until)) = target.borrow().clone() else { continue };
                remaining = want.iter().zip(&last).filter(|(w, l)| l < w).count();
                deadline = until;
                goal = Some(want);
                if remaining == 0 {
                    log.done = Instant::now();
                    return Ok(log);
                }
            }
            () = tokio::time::sleep_until(deadline) => {
                if let Some(want) = &goal {
                    log.missing = want.iter().zip(&last).map(|(w, l)| w.saturating_sub(*l)).sum();
                }
                log.done = Instant::now();
                return Ok(log);
            }
            text = ws.next_text(Duration::from_secs(3600)) => {
                let Some(text) = text? else { continue };
                let Some(ev) = session_event(&text) else { continue };
                let Some(&i) = index.get(&ev.session_id) else { continue };
                let now = Instant::now();
                let held = last[i as usize];
                if ev.rev <= held {
                    log.duplicates += 1;
                    continue;
                }
                if held != 0 && ev.rev != held + 1 {
                    log.gaps += ev.rev - held - 1;
                }
                last[i as usize] = ev.rev;
                log.arrivals.push((i, ev.rev, now));
                if let Some(want) = &goal
                    && held < want[i as usize]
                    && ev.rev >= want[i as usize]
                {
                    remaining -= 1;
                    if remaining == 0 {
                        log.done = now;
                        return Ok(log);
                    }
                }
            }
        }
    }
}

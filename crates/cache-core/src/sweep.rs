//! Freshness: the periodic pass that marks silent peers offline, forgets
//! peers that stayed offline too long, expires unwatched remote projects
//! and todos, and tells the peer protocol which watched ones are due to be
//! pulled again ([`DaemonCache::preparation_due`]).

use crate::cache::{DaemonCache, mark_offline};
use model::{EventName, Topic};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What one sweep did, so the peer protocol can act on it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Peers that missed their heartbeats and are now offline.
    pub went_offline: Vec<String>,
    /// Peers offline past the stale retention, now forgotten with their data.
    pub forgotten: Vec<String>,
    /// Watched remote preparation data past its TTL: kept, and to be
    /// pulled again (also sent on [`DaemonCache::preparation_due`]).
    pub preparation_due: Vec<String>,
    /// Unwatched remote preparation data past its TTL: dropped.
    pub preparation_expired: Vec<String>,
}

impl DaemonCache {
    /// Applies freshness rules as of now, by the cache's monotonic clock.
    pub fn sweep(&self) -> SweepReport {
        let inner = &self.inner;
        let now = inner.clock.monotonic();
        let cfg = &inner.config;
        let metrics = inner.metrics.as_deref();
        let mut report = SweepReport::default();

        // Interest first (lock order: interest, then state).
        let prep_candidates = inner.state.read().preparation.computers();
        let watched: Vec<bool> = {
            let table = inner.interest.lock();
            prep_candidates
                .iter()
                .map(|c| table.watches(Topic::Preparation, c))
                .collect()
        };

        let mut st = inner.state.write();
        let names: Vec<String> = st.peers.keys().cloned().collect();
        for name in names {
            let Some(entry) = st.peers.get(&name) else {
                continue;
            };
            match entry.offline_since {
                None => {
                    let limit = entry.period * cfg.offline_after_periods;
                    if now.saturating_duration_since(entry.last_heard) >= limit {
                        mark_offline(&mut st, metrics, &name, now);
                        report.went_offline.push(name);
                    }
                }
                Some(since) if now.saturating_duration_since(since) >= cfg.stale_retention => {
                    for id in st.sessions.ids_of(&name) {
                        let rev = st.sessions.get(&id).map_or(0, |r| r.rev);
                        st.sessions.remove(&id, rev);
                        st.publish(
                            metrics,
                            EventName::SessionClosed,
                            &name,
                            model::protocol::SessionClosed::encode(&id, &name),
                            Some(rev),
                        );
                    }
                    if st.preparation.projects.contains_key(&name) {
                        st.preparation.remove_computer(&name);
                        let data = st.preparation.projects_event(&name);
                        st.publish(metrics, EventName::ProjectsUpdated, &name, data, None);
                    }
                    st.preparation.remove_computer(&name);
                    st.peers.remove(&name);
                    report.forgotten.push(name);
                }
                Some(_) => {}
            }
        }

        for (computer, watched) in prep_candidates.into_iter().zip(watched) {
            if computer == inner.local {
                continue;
            }
            let Some(fetched) = st.preparation.fetched(&computer) else {
                continue;
            };
            if now.saturating_duration_since(fetched) < cfg.preparation_ttl {
                continue;
            }
            if watched {
                report.preparation_due.push(computer);
            } else {
                st.preparation.remove_computer(&computer);
                tracing::debug!(
                    peer = %computer,
                    reason = "unwatched past its TTL",
                    "dropped cached projects and todos"
                );
                report.preparation_expired.push(computer);
            }
        }
        st.sessions.sweep_tombstones();
        drop(st);
        if !report.preparation_due.is_empty() {
            // Sent at every sweep that finds some, equal or not: a pull
            // that got no answer is asked again.
            inner.due_tx.send_replace(report.preparation_due.clone());
        }

        if let Some(m) = metrics {
            let counts = self.counts();
            for (kind, n) in [
                ("sessions", counts.sessions),
                ("projects", counts.projects),
                ("todos", counts.todos),
                ("computers", counts.computers),
            ] {
                m.cache_records
                    .get_or_create(&model::metrics::KindLabels { kind })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        report
    }

    /// A receiver that wakes after every sweep that found watched remote
    /// projects and todos past their TTL, with those computers: the peer
    /// protocol pulls them again, so that what a local client watches is
    /// never older than the TTL (unwatched data is dropped instead).
    pub fn preparation_due(&self) -> watch::Receiver<Vec<String>> {
        self.inner.due_tx.subscribe()
    }

    /// Sweeps every `period` until `cancel` fires; run it in an owned task.
    pub async fn run_sweeper(self, period: Duration, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = tick.tick() => {
                    let report = self.sweep();
                    let periods = self.inner.config.offline_after_periods;
                    for peer in &report.went_offline {
                        tracing::info!(peer = %peer, periods, "peer offline: no heartbeat for that many periods");
                    }
                    for peer in &report.forgotten {
                        tracing::info!(peer = %peer, "forgot offline peer and its data");
                    }
                }
            }
        }
    }
}

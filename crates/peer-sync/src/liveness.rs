//! Liveness over the liveness set `NS:alive`, so that presence costs each
//! daemon O(1) transport calls per period however large the fleet:
//!
//! - every half period, one beat: this daemon's deadline becomes the log's
//!   clock plus [`ttl`] (3 of its periods minus the half period between
//!   beats, so it is offline within 3 periods of its last beat), and the
//!   answer names the members whose deadline passed since the last beat:
//!   those go offline at once;
//! - a beat that went through proves every other beating peer alive then
//!   (`Peers::confirmed`); when beats fail (a stall, a partition) peers go
//!   offline 3 of their periods after the last proof, as before;
//! - every [`FULL_READ_EVERY`] beats, at start, and when presence was lost,
//!   the whole set is read (and the roster `NS:computers` when a live
//!   member is unknown): the check that no expiry was missed (a log that
//!   restarted empty just as a peer died) and how a joining daemon learns
//!   the fleet;
//! - the cache is told what [`Peers::judge`] finds: a beating peer is given
//!   [`CACHE_PERIOD`], so the cache's own sweeper never judges it.
//!
//! A peer that does not beat (previous version, or a transport without a
//! liveness set) is judged by its heartbeats, as before.

use crate::entries::on_presence;
use crate::intake::drop_entry;
use crate::peers::CACHE_PERIOD;
use crate::shared::Shared;
use model::wire::{Envelope, WireError};
use model::{StreamEntry, StreamId};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Beats between two reads of the whole liveness set (10 periods).
pub(crate) const FULL_READ_EVERY: u64 = 20;

/// Run the full-heartbeat refresh of `last_seen` every this many beats (30
/// periods): `last_seen` of a beating peer otherwise moves only with its
/// full heartbeats.
const LAST_SEEN_EVERY: u64 = 60;

/// How long this daemon's deadline reaches past each beat.
pub(crate) fn ttl(period: Duration) -> Duration {
    period * 3 - beat_interval(period)
}

/// The time between two beats: half a period.
pub(crate) fn beat_interval(period: Duration) -> Duration {
    period / 2
}

/// What the beats of one daemon remember between two.
pub(crate) struct Beats {
    /// The log's clock at the last beat that went through: the next one
    /// reports expiries after it.
    since_ms: u64,
    /// Beats tried.
    ticks: u64,
    /// The beat at which the whole set is read next.
    read_at: u64,
    /// The beats are failing (logged once per outage).
    failing: bool,
    /// The last whole-set read found a live member this daemon does not
    /// know: the roster is read if the next one still does (a join's
    /// heartbeat may just be on its way; reading 1,000 records for it
    /// would be waste).
    unknown: bool,
}

impl Beats {
    pub(crate) fn new() -> Self {
        Self {
            since_ms: 0,
            ticks: 0,
            read_at: 1,
            failing: false,
            unknown: false,
        }
    }

    /// One beat, the checks it triggers, and the judgment; returns whether
    /// a full heartbeat is due (this daemon was not alive in the set: its
    /// first beat, its own silence, a log that lost the set).
    pub(crate) async fn beat(&mut self, shared: &Shared) -> bool {
        self.ticks += 1;
        let mut due = false;
        let period = shared.cfg.heartbeat;
        match shared
            .transport
            .alive_beat(&shared.keys.alive(), &shared.me, ttl(period), self.since_ms)
            .await
        {
            Ok(beat) => {
                if self.failing {
                    self.failing = false;
                    tracing::info!("liveness beats go through again");
                }
                let now = shared.now();
                let mut peers = shared.peers.lock();
                for (name, deadline) in &beat.expired {
                    if *name != shared.me && peers.expired(name, *deadline, now) {
                        tracing::info!(peer = %name, reason = "its liveness deadline passed", "peer offline");
                    }
                }
                peers.confirmed(now);
                drop(peers);
                self.since_ms = beat.now_ms;
                if !beat.was_alive {
                    due = true;
                    if self.ticks > 1 {
                        // The set lost us (or we were silent): check it whole
                        // once the others have beaten again.
                        self.read_at = self.read_at.min(self.ticks + 2);
                    }
                }
            }
            Err(e) => {
                if !self.failing {
                    self.failing = true;
                    tracing::warn!(error = %e, "liveness beat failed; peers go offline 3 periods after the last beat that went through");
                }
            }
        }
        let roster = shared.roster_due.swap(false, Ordering::AcqRel);
        if self.ticks >= self.read_at || roster {
            // At start (the first read) the roster is read in any case.
            let first = self.ticks == 1;
            match read_set(shared, roster, first || self.unknown).await {
                Some(unknown) => {
                    self.unknown = unknown;
                    self.read_at = self.ticks + FULL_READ_EVERY;
                }
                None if roster => shared.roster_due.store(true, Ordering::Release),
                None => {}
            }
        }
        judge(shared);
        if self.ticks.is_multiple_of(LAST_SEEN_EVERY) {
            refresh_last_seen(shared);
        }
        due
    }
}

/// Reads the whole liveness set: known beating peers absent or past their
/// deadline are expired, those alive again are cleared; the roster is
/// read, and every live member's record taken as its heartbeat, when
/// `roster` says so (presence entries were lost) or when a live member is
/// unknown and `if_unknown` allows it. Returns whether a live member is
/// unknown, or `None` when the set could not be read.
async fn read_set(shared: &Shared, roster: bool, if_unknown: bool) -> Option<bool> {
    let set = match shared.transport.alive_members(&shared.keys.alive()).await {
        Ok(set) => set,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the liveness set; trying again at the next beat");
            return None;
        }
    };
    let alive: HashMap<&str, u64> = set
        .members
        .iter()
        .filter(|(_, d)| *d > set.now_ms)
        .map(|(m, d)| (m.as_str(), *d))
        .collect();
    let now = shared.now();
    let unknown = {
        let mut peers = shared.peers.lock();
        for name in peers.beating_names() {
            if alive.contains_key(name.as_str()) {
                peers.alive_again(&name);
            } else if peers.expired(&name, set.now_ms, now) {
                tracing::info!(peer = %name, reason = "not alive in the liveness set", "peer offline");
            }
        }
        alive.keys().any(|m| *m != shared.me && !peers.knows(m))
    };
    if roster || (unknown && if_unknown) {
        read_roster(shared, &alive, set.now_ms).await;
        return Some(false);
    }
    Some(unknown)
}

/// Takes the record of every live member of the roster as its heartbeat,
/// as of `now_ms` on the log's clock.
async fn read_roster(shared: &Shared, alive: &HashMap<&str, u64>, now_ms: u64) {
    let key = shared.keys.computers();
    let records = match shared.transport.records(&key).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the roster; trying again later");
            shared.roster_due.store(true, Ordering::Release);
            return;
        }
    };
    for (name, value) in records {
        if name == shared.me || !alive.contains_key(name.as_str()) {
            continue;
        }
        // Logged and counted like a stream entry, at the roster's clock.
        let entry = StreamEntry {
            id: StreamId::new(now_ms, 0),
            fields: Vec::new(),
        };
        match Envelope::from_record(&value, shared.secret()) {
            Ok(env) if env.from == name => on_presence(shared, &key, &entry, env),
            Ok(env) => drop_entry(
                &key,
                &entry,
                &WireError::Forged {
                    from: env.from,
                    stream: format!("{key} field {name}"),
                },
                &shared.metrics,
            ),
            Err(e) => drop_entry(&key, &entry, &e, &shared.metrics),
        }
    }
}

/// Tells the cache which beating peers went offline or came back.
pub(crate) fn judge(shared: &Shared) {
    let judged = shared.peers.lock().judge(shared.now());
    for name in &judged.offline {
        tracing::info!(peer = %name, reason = "no proof of life for 3 of its periods, or its deadline passed", "peer offline");
        shared.cache.peer_offline(name);
    }
    if judged.back.is_empty() {
        return;
    }
    let mut missing = judged.back.len();
    for c in shared.cache.computers() {
        if judged.back.contains(&c.name) {
            missing -= 1;
            tracing::info!(peer = %c.name, reason = "alive in the liveness set again", "peer online");
            shared.cache.peer_heartbeat(c, CACHE_PERIOD);
        }
    }
    if missing > 0 {
        // Forgotten by the cache meanwhile: its record comes from the roster.
        shared.roster_due.store(true, Ordering::Release);
    }
}

/// Moves `last_seen` of every online beating peer to now.
fn refresh_last_seen(shared: &Shared) {
    let online: Vec<String> = {
        let peers = shared.peers.lock();
        let beating = peers.beating_names();
        peers
            .online_names(shared.now())
            .into_iter()
            .filter(|n| beating.contains(n))
            .collect()
    };
    if online.is_empty() {
        return;
    }
    for c in shared.cache.computers() {
        if c.online && !c.is_self && online.contains(&c.name) {
            shared.cache.peer_heartbeat(c, CACHE_PERIOD);
        }
    }
}

/// A graceful stop: out of the liveness set and the roster.
pub(crate) async fn quit(shared: &Shared) {
    if let Err(e) = shared
        .transport
        .alive_remove(&shared.keys.alive(), &shared.me)
        .await
    {
        tracing::warn!(error = %e, reason = "transport unavailable", "could not leave the liveness set; the deadline will pass by itself");
    }
    if let Err(e) = shared
        .transport
        .remove_record(&shared.keys.computers(), &shared.me)
        .await
    {
        tracing::warn!(error = %e, reason = "transport unavailable", "could not remove this computer's roster record");
    }
}

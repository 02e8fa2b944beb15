//! What this daemon knows of its peers for the protocol's sake: their boot
//! ids, what they watch (from heartbeats, and from snapshot requests until
//! a later heartbeat speaks for them), and when they were last heard.
//!
//! A peer that is only silent (no `leave`) keeps its interest until it is
//! forgotten, 3 periods plus the stale retention after it was last heard:
//! a Redis stall or a partition of the watcher must never turn into
//! changes that were not pushed because nobody seemed to watch.
//!
//! Two kinds of peers: one that *beats* (its heartbeat has `alive_ms`) is
//! heard through the liveness set: every successful beat of this daemon
//! that did not report it expired proves it alive then (`alive_as_of`),
//! and an expiry the set reports takes it offline at once (until a later
//! heartbeat or beat). A previous-version peer is heard by its heartbeats
//! alone, as before. Either way, offline is 3 of the peer's own periods
//! without proof of life, by this daemon's monotonic clock.

use model::{Interest, Topic};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// The period the cache is given for a beating peer: so long that its
/// sweeper never marks it offline. This crate judges it and tells the cache.
pub(crate) const CACHE_PERIOD: Duration = Duration::from_secs(365 * 24 * 3600);

struct Peer {
    boot: String,
    interest: Interest,
    period: Duration,
    last_heard: Instant,
    /// Topics asked for in a snapshot request, and when.
    requested: Option<(Vec<Topic>, Instant)>,
    left: bool,
    /// It beats on the liveness set (its heartbeat has `alive_ms`).
    beats: bool,
    /// Its last heartbeat had no `alive_ms`: a previous version.
    legacy: bool,
    /// The newest heartbeat entry taken, in the log's milliseconds.
    heard_ms: u64,
    /// The set said its deadline passed: that deadline (log ms) and when
    /// this daemon learned it.
    expired: Option<(u64, Instant)>,
    /// Whether the cache was last told it is online.
    shown: bool,
}

impl Peer {
    fn new(boot: &str, period: Duration, now: Instant) -> Self {
        Self {
            boot: boot.into(),
            interest: Interest::default(),
            period,
            last_heard: now,
            requested: None,
            left: false,
            beats: false,
            legacy: false,
            heard_ms: 0,
            expired: None,
            shown: false,
        }
    }
}

/// What a heartbeat says, for [`Peers::heartbeat`].
pub(crate) struct Heartbeat<'a> {
    /// The sender's boot id.
    pub(crate) boot: &'a str,
    /// What it watches.
    pub(crate) interest: Interest,
    /// Its period.
    pub(crate) period: Duration,
    /// Both it and this daemon use the liveness set.
    pub(crate) beats: bool,
    /// It has no `alive_ms`: a previous version.
    pub(crate) legacy: bool,
    /// When it was written, on the log's clock (its entry id).
    pub(crate) entry_ms: u64,
}

/// What one heartbeat did to the table.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Heard {
    /// The previous boot id, if it changed.
    pub(crate) changed_boot: Option<String>,
    /// `false` when the heartbeat is older than the expiry the liveness set
    /// reported (read late): it changed nothing.
    pub(crate) taken: bool,
}

/// The peers whose state the cache must be told: judged by
/// [`Peers::judge`].
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Judged {
    /// Beating peers now offline (their deadline passed, or no proof of
    /// life for 3 of their periods).
    pub(crate) offline: Vec<String>,
    /// Beating peers shown offline that are alive again without a new
    /// heartbeat (this daemon's own beats went through again).
    pub(crate) back: Vec<String>,
}

/// The peer table.
pub(crate) struct Peers {
    by_name: BTreeMap<String, Peer>,
    /// When this daemon's last beat went through: every beating peer it did
    /// not report expired was alive then.
    alive_as_of: Option<Instant>,
    /// How long a silent peer is remembered once offline (the cache's
    /// stale retention): its interest holds until then.
    retention: Duration,
}

fn covers(list: &[String], me: &str) -> bool {
    list.iter().any(|c| c == "*" || c == me)
}

impl Peers {
    /// An empty table whose silent peers are forgotten `retention` after
    /// they went offline.
    pub(crate) fn new(retention: Duration) -> Self {
        Self {
            by_name: BTreeMap::new(),
            alive_as_of: None,
            retention,
        }
    }

    /// Records a heartbeat from `name`, taken at `now`.
    pub(crate) fn heartbeat(&mut self, name: &str, hb: Heartbeat<'_>, now: Instant) -> Heard {
        let Heartbeat {
            boot,
            interest,
            period,
            beats,
            legacy,
            entry_ms,
        } = hb;
        let p = self
            .by_name
            .entry(name.to_owned())
            .or_insert_with(|| Peer::new(boot, period, now));
        if p.expired.is_some_and(|(deadline, _)| entry_ms <= deadline) {
            return Heard {
                changed_boot: None,
                taken: false,
            };
        }
        let changed_boot = (p.boot != boot).then(|| std::mem::replace(&mut p.boot, boot.into()));
        p.interest = interest;
        p.period = period;
        p.last_heard = now;
        p.left = false;
        p.beats = beats;
        p.legacy = legacy;
        p.heard_ms = p.heard_ms.max(entry_ms);
        p.expired = None;
        p.shown = true;
        // A heartbeat read after a request speaks for the peer: it
        // announces its interest before it asks for a snapshot.
        p.requested = None;
        Heard {
            changed_boot,
            taken: true,
        }
    }

    /// This daemon's beat went through now: every beating peer not
    /// reported expired is alive.
    pub(crate) fn confirmed(&mut self, now: Instant) {
        self.alive_as_of = Some(now);
    }

    /// The liveness set says `name`'s deadline passed at `deadline_ms`;
    /// returns whether that takes it offline now. Ignored for a peer that
    /// does not beat, that left, or whose newest heartbeat is later.
    pub(crate) fn expired(&mut self, name: &str, deadline_ms: u64, now: Instant) -> bool {
        let Some(p) = self.by_name.get_mut(name) else {
            return false;
        };
        if !p.beats || p.left || p.expired.is_some() || p.heard_ms > deadline_ms {
            return false;
        }
        p.expired = Some((deadline_ms, now));
        true
    }

    /// The liveness set shows `name` alive (a whole read): clears an
    /// expiry it reported before.
    pub(crate) fn alive_again(&mut self, name: &str) {
        if let Some(p) = self.by_name.get_mut(name)
            && p.beats
            && !p.left
        {
            p.expired = None;
        }
    }

    /// The beating peers this table knows, by name (left ones included).
    pub(crate) fn beating_names(&self) -> Vec<String> {
        self.by_name
            .iter()
            .filter(|(_, p)| p.beats)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Whether `name` is in the table.
    pub(crate) fn knows(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Whether a previous-version peer (one that does not beat) is online:
    /// it needs a full heartbeat from this daemon every period.
    pub(crate) fn legacy_online(&self, now: Instant) -> bool {
        self.by_name
            .values()
            .any(|p| p.legacy && self.online(p, now))
    }

    /// Compares each beating peer's liveness with what the cache was told
    /// and returns the changes (marking them told).
    pub(crate) fn judge(&mut self, now: Instant) -> Judged {
        let mut out = Judged::default();
        let judged: Vec<(String, bool)> = self
            .by_name
            .iter()
            .filter(|(_, p)| p.beats && !p.left)
            .filter_map(|(n, p)| {
                let online = self.online(p, now);
                (online != p.shown).then(|| (n.clone(), online))
            })
            .collect();
        for (name, online) in judged {
            if let Some(p) = self.by_name.get_mut(&name) {
                p.shown = online;
            }
            if online {
                out.back.push(name);
            } else {
                out.offline.push(name);
            }
        }
        out
    }

    /// Records a snapshot request, which registers the asker's interest.
    pub(crate) fn requested(&mut self, name: &str, boot: &str, topics: Vec<Topic>, now: Instant) {
        let p = self
            .by_name
            .entry(name.to_owned())
            .or_insert_with(|| Peer::new(boot, Duration::from_secs(2), now));
        p.requested = Some((topics, now));
        p.left = false;
        p.last_heard = now;
    }

    pub(crate) fn left(&mut self, name: &str) {
        if let Some(p) = self.by_name.get_mut(name) {
            p.left = true;
            p.requested = None;
            p.shown = false;
        }
    }

    /// The last proof of life: its last heartbeat, or for a beating peer
    /// that has not left, this daemon's last beat if later.
    fn heard(&self, p: &Peer) -> Instant {
        match self.alive_as_of {
            Some(at) if p.beats && !p.left => p.last_heard.max(at),
            _ => p.last_heard,
        }
    }

    fn online(&self, p: &Peer, now: Instant) -> bool {
        !p.left
            && p.expired.is_none()
            && now.saturating_duration_since(self.heard(p)) < p.period * 3
    }

    /// How long ago it went silent counts from here: its expiry, or 3
    /// periods after its last proof of life.
    fn silent_for(&self, p: &Peer, now: Instant) -> Option<Duration> {
        match p.expired {
            Some((_, at)) => Some(now.saturating_duration_since(at)),
            None => now
                .saturating_duration_since(self.heard(p))
                .checked_sub(p.period * 3),
        }
    }

    /// Not gone: it did not say `leave` and went silent less than the
    /// retention ago. Such a peer's interest still counts.
    fn remembered(&self, p: &Peer, now: Instant) -> bool {
        !p.left && self.silent_for(p, now).is_none_or(|d| d < self.retention)
    }

    /// Forgets peers silent (or left) for longer than the retention;
    /// returns their names.
    pub(crate) fn prune(&mut self, now: Instant) -> Vec<String> {
        let gone: Vec<String> = self
            .by_name
            .iter()
            .filter(|(_, p)| {
                let silent = if p.left {
                    now.saturating_duration_since(p.last_heard)
                        .checked_sub(p.period * 3)
                } else {
                    self.silent_for(p, now)
                };
                silent.is_some_and(|d| d >= self.retention)
            })
            .map(|(n, _)| n.clone())
            .collect();
        for n in &gone {
            self.by_name.remove(n);
        }
        gone
    }

    /// Whether some peer that is not gone (online, or only silent) watches
    /// `me` on `topic`.
    pub(crate) fn interested_in(&self, me: &str, topic: Topic, now: Instant) -> bool {
        self.by_name.values().any(|p| {
            self.remembered(p, now)
                && (match topic {
                    Topic::Sessions => covers(&p.interest.sessions, me),
                    Topic::Preparation => covers(&p.interest.preparation, me),
                    Topic::Computers => false,
                } || p
                    .requested
                    .as_ref()
                    .is_some_and(|(topics, _)| topics.contains(&topic)))
        })
    }

    /// The peers that have not said `leave`, online or silent, by name:
    /// their feeds are kept through a short outage.
    pub(crate) fn present_names(&self, now: Instant) -> Vec<String> {
        self.by_name
            .iter()
            .filter(|(_, p)| self.remembered(p, now))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The online peers, by name.
    pub(crate) fn online_names(&self, now: Instant) -> Vec<String> {
        self.by_name
            .iter()
            .filter(|(_, p)| self.online(p, now))
            .map(|(n, _)| n.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_secs(2);

    fn hb(beats: bool, entry_ms: u64) -> Heartbeat<'static> {
        Heartbeat {
            boot: "b1",
            interest: Interest::default(),
            period: P,
            beats,
            legacy: !beats,
            entry_ms,
        }
    }

    fn beat(peers: &mut Peers, name: &str, now: Instant, entry_ms: u64) -> Heard {
        peers.heartbeat(name, hb(true, entry_ms), now)
    }

    #[tokio::test(start_paused = true)]
    async fn an_expiry_wins_over_older_heartbeats_and_yields_to_newer_ones() {
        let mut peers = Peers::new(Duration::from_secs(600));
        let t0 = Instant::now();
        assert!(beat(&mut peers, "x", t0, 1_000).taken);
        assert!(peers.expired("x", 5_000, t0));
        assert!(!peers.expired("x", 6_000, t0), "reported once");
        assert!(peers.online_names(t0).is_empty());
        assert!(
            !beat(&mut peers, "x", t0, 4_000).taken,
            "read late: ignored"
        );
        assert!(peers.online_names(t0).is_empty());
        assert!(beat(&mut peers, "x", t0, 5_001).taken);
        assert_eq!(peers.online_names(t0), ["x"]);
        assert!(!peers.expired("x", 5_000, t0), "older than its heartbeat");
    }

    #[tokio::test(start_paused = true)]
    async fn beats_prove_life_and_their_absence_takes_it_away() {
        let mut peers = Peers::new(Duration::from_secs(600));
        let t0 = Instant::now();
        beat(&mut peers, "x", t0, 1);
        peers.heartbeat("old", hb(false, 1), t0);
        assert!(peers.legacy_online(t0));
        let later = t0 + P * 10;
        peers.confirmed(later - P);
        assert_eq!(peers.online_names(later), ["x"], "proved alive by a beat");
        assert!(!peers.legacy_online(later), "old is judged by heartbeats");
        let judged = peers.judge(later + P * 3);
        assert_eq!(judged.offline, ["x"], "no beat went through for 3 periods");
        peers.confirmed(later + P * 3);
        let judged = peers.judge(later + P * 3);
        assert_eq!(judged.back, ["x"]);
        assert!(!peers.interested_in("me", Topic::Sessions, later));
        assert!(
            peers
                .prune(later + P * 3 + Duration::from_secs(601))
                .contains(&"old".to_owned())
        );
    }
}

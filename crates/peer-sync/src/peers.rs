//! What this daemon knows of its peers for the protocol's sake: their boot
//! ids, what they watch (from heartbeats, and from snapshot requests until
//! a later heartbeat speaks for them), and when they were last heard.
//!
//! A peer that is only silent (no `leave`) keeps its interest until it is
//! forgotten, 3 periods plus the stale retention after it was last heard:
//! a Redis stall or a partition of the watcher must never turn into
//! changes that were not pushed because nobody seemed to watch.

use model::{Interest, Topic};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

struct Peer {
    boot: String,
    interest: Interest,
    period: Duration,
    last_heard: Instant,
    /// Topics asked for in a snapshot request, and when.
    requested: Option<(Vec<Topic>, Instant)>,
    left: bool,
}

/// The peer table.
pub(crate) struct Peers {
    by_name: BTreeMap<String, Peer>,
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
            retention,
        }
    }

    /// Records a heartbeat; returns the previous boot id if it changed.
    pub(crate) fn heartbeat(
        &mut self,
        name: &str,
        boot: &str,
        interest: Interest,
        period: Duration,
        now: Instant,
    ) -> Option<String> {
        match self.by_name.get_mut(name) {
            Some(p) => {
                let old = (p.boot != boot).then(|| std::mem::replace(&mut p.boot, boot.into()));
                p.interest = interest;
                p.period = period;
                p.last_heard = now;
                p.left = false;
                // A heartbeat read after a request speaks for the peer: it
                // announces its interest before it asks for a snapshot.
                p.requested = None;
                old
            }
            None => {
                self.by_name.insert(
                    name.to_owned(),
                    Peer {
                        boot: boot.into(),
                        interest,
                        period,
                        last_heard: now,
                        requested: None,
                        left: false,
                    },
                );
                None
            }
        }
    }

    /// Records a snapshot request, which registers the asker's interest.
    pub(crate) fn requested(&mut self, name: &str, boot: &str, topics: Vec<Topic>, now: Instant) {
        let p = self.by_name.entry(name.to_owned()).or_insert_with(|| Peer {
            boot: boot.into(),
            interest: Interest::default(),
            period: Duration::from_secs(2),
            last_heard: now,
            requested: None,
            left: false,
        });
        p.requested = Some((topics, now));
        p.left = false;
        p.last_heard = now;
    }

    pub(crate) fn left(&mut self, name: &str) {
        if let Some(p) = self.by_name.get_mut(name) {
            p.left = true;
            p.requested = None;
        }
    }

    fn online(p: &Peer, now: Instant) -> bool {
        !p.left && now.saturating_duration_since(p.last_heard) < p.period * 3
    }

    /// Not gone: it did not say `leave` and was heard within 3 periods
    /// plus the retention. Such a peer's interest still counts.
    fn remembered(&self, p: &Peer, now: Instant) -> bool {
        !p.left && now.saturating_duration_since(p.last_heard) < p.period * 3 + self.retention
    }

    /// Forgets peers not heard for 3 periods plus the retention (silent or
    /// left); returns their names.
    pub(crate) fn prune(&mut self, now: Instant) -> Vec<String> {
        let gone: Vec<String> = self
            .by_name
            .iter()
            .filter(|(_, p)| {
                now.saturating_duration_since(p.last_heard) >= p.period * 3 + self.retention
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
            .filter(|(_, p)| Self::online(p, now))
            .map(|(n, _)| n.clone())
            .collect()
    }
}

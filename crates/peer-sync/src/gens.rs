//! This daemon's [`PushGen`]: per topic, how many times it left some of its
//! own changes out of its events stream. Followers compare it with what
//! their snapshot saw and pull a fresh snapshot when it moved, so a change
//! that was not pushed is never a silent gap.
//!
//! Full heartbeats are rare once peers beat on the liveness set, so a move
//! that a follower may need to see is announced on its own: a topic is
//! *exposed* once a snapshot of it was served at some value, until a
//! heartbeat carried a later one; a move of an exposed topic makes a full
//! heartbeat due ([`PushGens::due`]). Moves nobody can be following (no
//! snapshot served since the last announcement) wait for the next heartbeat.

use model::Topic;
use model::wire::PushGen;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters behind this daemon's [`PushGen`].
#[derive(Default)]
pub(crate) struct PushGens {
    sessions: AtomicU64,
    preparation: AtomicU64,
    /// Per topic (sessions, preparation): the lowest value a snapshot was
    /// served at since a heartbeat announced a later one.
    exposed: Mutex<[Option<u64>; 2]>,
}

fn index(topic: Topic) -> Option<usize> {
    match topic {
        Topic::Sessions => Some(0),
        Topic::Preparation => Some(1),
        Topic::Computers => None,
    }
}

fn values(value: PushGen) -> [u64; 2] {
    [value.sessions, value.preparation]
}

impl PushGens {
    /// Records that own changes of `topic` were left unpushed.
    pub(crate) fn skipped(&self, topic: Topic) {
        match topic {
            Topic::Sessions => self.sessions.fetch_add(1, Ordering::AcqRel),
            Topic::Preparation => self.preparation.fetch_add(1, Ordering::AcqRel),
            Topic::Computers => return,
        };
    }

    /// A snapshot of `topics` was served carrying `gen`: its follower holds it.
    pub(crate) fn served(&self, topics: &[Topic], value: PushGen) {
        let now = values(value);
        let mut exposed = self.exposed.lock();
        for i in topics.iter().filter_map(|t| index(*t)) {
            exposed[i] = Some(exposed[i].map_or(now[i], |e| e.min(now[i])));
        }
    }

    /// Whether a follower may hold a value older than now: a full heartbeat
    /// is due to tell it.
    pub(crate) fn due(&self) -> bool {
        let now = values(self.now());
        let exposed = self.exposed.lock();
        exposed
            .iter()
            .zip(now)
            .any(|(e, n)| e.is_some_and(|e| n > e))
    }

    /// A heartbeat carrying `gen` went out: followers have seen it.
    pub(crate) fn announced(&self, value: PushGen) {
        let sent = values(value);
        let mut exposed = self.exposed.lock();
        for (e, s) in exposed.iter_mut().zip(sent) {
            if e.is_some_and(|e| s > e) {
                *e = None;
            }
        }
    }

    /// The values now, for a heartbeat or a snapshot.
    pub(crate) fn now(&self) -> PushGen {
        PushGen {
            sessions: self.sessions.load(Ordering::Acquire),
            preparation: self.preparation.load(Ordering::Acquire),
        }
    }
}

/// Whether `seen` (announced later by the followed peer) says it left
/// changes of one of `topics` unpushed since `held` (what the follower's
/// snapshot saw). Older announcements carry lower values and never count.
pub(crate) fn moved_past(held: PushGen, seen: PushGen, topics: &[Topic]) -> bool {
    topics.iter().any(|t| match t {
        Topic::Sessions => seen.sessions > held.sessions,
        Topic::Preparation => seen.preparation > held.preparation,
        Topic::Computers => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_is_due_only_once_a_snapshot_exposed_the_topic() {
        let gens = PushGens::default();
        gens.skipped(Topic::Sessions);
        assert!(!gens.due(), "nobody was served: nobody follows");
        gens.served(&[Topic::Sessions], gens.now());
        assert!(!gens.due(), "the follower holds the current value");
        gens.skipped(Topic::Preparation);
        assert!(!gens.due(), "preparation was not served");
        gens.skipped(Topic::Sessions);
        assert!(gens.due());
        gens.announced(gens.now());
        assert!(!gens.due(), "announced");
        gens.skipped(Topic::Sessions);
        assert!(!gens.due(), "no snapshot since the announcement");
    }

    #[test]
    fn only_a_later_skip_of_a_followed_topic_counts() {
        let gens = PushGens::default();
        let held = gens.now();
        gens.skipped(Topic::Preparation);
        gens.skipped(Topic::Computers);
        let seen = gens.now();
        assert!(!moved_past(held, seen, &[Topic::Sessions]));
        assert!(moved_past(
            held,
            seen,
            &[Topic::Sessions, Topic::Preparation]
        ));
        assert!(
            !moved_past(seen, held, &[Topic::Preparation]),
            "an older heartbeat"
        );
    }
}

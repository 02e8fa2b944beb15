//! This daemon's [`PushGen`]: per topic, how many times it left some of its
//! own changes out of its events stream. Followers compare it with what
//! their snapshot saw and pull a fresh snapshot when it moved, so a change
//! that was not pushed is never a silent gap.

use model::Topic;
use model::wire::PushGen;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters behind this daemon's [`PushGen`].
#[derive(Default)]
pub(crate) struct PushGens {
    sessions: AtomicU64,
    preparation: AtomicU64,
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

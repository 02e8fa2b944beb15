//! The WebSocket's frames (`PROTOCOL.md` section 4), pure: the ops a client sends and
//! the frames the server sends are the contract's (`model::protocol`, re-exported
//! here); [`Resume`] remembers where each topic's stream stopped so that a
//! reconnection asks for a replay (`since`) instead of a snapshot.

use model::Topic;
pub use model::protocol::{ServerFrame, Since, refresh_op, subscribe_op};
use std::collections::BTreeMap;

/// Where each topic's stream stopped, across connections.
///
/// The position is kept per topic: on one connection, a replay of one topic may arrive
/// before events of another topic with smaller sequence numbers, so a single "last seq"
/// could skip changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    epoch: Option<String>,
    seqs: BTreeMap<Topic, u64>,
}

impl Resume {
    /// Notes a received frame's position.
    pub fn note(&mut self, frame: &ServerFrame) {
        let Some((topic, epoch, seq)) = frame.position() else {
            return;
        };
        if self.epoch.as_deref() != Some(epoch) {
            // A new daemon boot: positions of the old one mean nothing.
            self.epoch = Some(epoch.to_owned());
            self.seqs.clear();
        }
        let last = self.seqs.entry(topic).or_insert(seq);
        *last = (*last).max(seq);
    }

    /// Where `topic` stopped, if anything of it was received.
    pub fn since(&self, topic: Topic) -> Option<Since> {
        Some(Since {
            epoch: self.epoch.clone()?,
            seq: *self.seqs.get(&topic)?,
        })
    }

    /// The subscribe ops that resume every topic in `topics` where it stopped (a
    /// snapshot for a topic never received).
    pub fn subscribe_ops(&self, topics: &[Topic], computers: &[String]) -> Vec<String> {
        topics
            .iter()
            .map(|&t| subscribe_op(t, computers, self.since(t).as_ref()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(topic: &str, epoch: &str, seq: u64) -> ServerFrame {
        let name = match topic {
            "sessions" => "session_closed",
            "preparation" => "projects_updated",
            _ => "computer_updated",
        };
        ServerFrame::decode(
            &json!({"type":"event","topic":topic,"epoch":epoch,"seq":seq,"event":name,"data":{}})
                .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn resume_tracks_each_topic_and_forgets_an_old_boot() {
        let mut r = Resume::default();
        assert_eq!(r.since(Topic::Sessions), None);
        r.note(&event("sessions", "b1", 3));
        r.note(&event("computers", "b1", 9));
        r.note(&event("sessions", "b1", 5));
        assert_eq!(r.since(Topic::Sessions).unwrap().seq, 5);
        assert_eq!(r.since(Topic::Computers).unwrap().seq, 9);
        assert_eq!(r.since(Topic::Preparation), None);
        let ops = r.subscribe_ops(&Topic::ALL, &[]);
        assert!(
            ops[0].contains(r#""since":{"epoch":"b1","seq":5}"#),
            "{}",
            ops[0]
        );
        assert!(!ops[1].contains("since"), "{}", ops[1]);
        r.note(&event("preparation", "b2", 1));
        assert_eq!(r.since(Topic::Sessions), None);
        assert_eq!(r.since(Topic::Preparation).unwrap().epoch, "b2");
    }
}

//! The frames the daemon sends a WebSocket client (`PROTOCOL.md`
//! section 4): `snapshot`, `event` and `error`. The daemon builds them from
//! bytes serialized once ([`event_frame`], [`snapshot_frame`]); a client
//! decodes them into [`ServerFrame`].

use crate::protocol::json;
use crate::{Computer, EventName, Project, Session, Todo, Topic};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{"type":"event","topic":T,"epoch":E,"seq":N,"event":NAME,"data":DATA}`.
///
/// `epoch` is the boot id already serialized as a JSON string (a daemon
/// serializes it once, at start). `data` is the last field, right before
/// the closing brace, so a caller may keep `data` as a slice of the frame
/// instead of a second copy.
pub fn event_frame(epoch: &[u8], seq: u64, event: EventName, data: &[u8]) -> Bytes {
    let seq = seq.to_string();
    json::object(&[
        ("type", b"\"event\""),
        ("topic", json::string(event.topic().as_str()).as_ref()),
        ("epoch", epoch),
        ("seq", seq.as_bytes()),
        ("event", json::string(event.as_str()).as_ref()),
        ("data", data),
    ])
}

/// `{"type":"snapshot","topic":T,"epoch":E,"seq":N,"data":DATA}`, where
/// `DATA` is the concatenation of `data` (see [`sessions_data_parts`]:
/// the parts let a large list be copied once, straight into the frame).
/// `epoch` is serialized as for [`event_frame`].
pub fn snapshot_frame(topic: Topic, epoch: &[u8], seq: u64, data: &[&[u8]]) -> Bytes {
    let seq = seq.to_string();
    let head: [&[u8]; 7] = [
        b"{\"type\":\"snapshot\",\"topic\":\"",
        topic.as_str().as_bytes(),
        b"\",\"epoch\":",
        epoch,
        b",\"seq\":",
        seq.as_bytes(),
        b",\"data\":",
    ];
    json::concat(
        head.iter()
            .copied()
            .chain(data.iter().copied())
            .chain([b"}".as_slice()]),
    )
}

/// `{"type":"error","code":CODE,"message":MESSAGE}`: a frame the server
/// could not take; the connection stays open.
pub fn error_frame(code: &str, message: &str) -> String {
    #[derive(Serialize)]
    struct ErrorOut<'a> {
        r#type: &'static str,
        code: &'a str,
        message: &'a str,
    }
    // Plain strings serialize infallibly (see `json::string`); the
    // fallback is still a valid error frame.
    serde_json::to_string(&ErrorOut {
        r#type: "error",
        code,
        message,
    })
    .unwrap_or_else(|_| r#"{"type":"error","code":"internal","message":""}"#.to_owned())
}

/// The `data` of a `sessions` snapshot, `{"sessions":[..]}`, as parts
/// around an already joined list (for [`snapshot_frame`]).
pub fn sessions_data_parts(list: &[u8]) -> [&[u8]; 3] {
    [b"{\"sessions\":", list, b"}"]
}

/// The `data` of a `sessions` snapshot: `{"sessions":[..]}`.
pub fn sessions_data(list: &[u8]) -> Bytes {
    json::concat(sessions_data_parts(list).into_iter())
}

/// The `data` of a `preparation` snapshot: `{"projects":[..],"todos":[..]}`.
pub fn preparation_data(projects: &[u8], todos: &[u8]) -> Bytes {
    json::object(&[("projects", projects), ("todos", todos)])
}

/// The `data` of a `computers` snapshot: `{"computers":[..]}`.
pub fn computers_data(list: &[u8]) -> Bytes {
    json::object(&[("computers", list)])
}

/// The decoded `data` of a `sessions` snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionsSnapshot {
    /// Every session of the subscribed computers.
    pub sessions: Vec<Session>,
}

/// The decoded `data` of a `preparation` snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparationSnapshot {
    /// Every project of the subscribed computers.
    pub projects: Vec<Project>,
    /// Every todo of those projects.
    pub todos: Vec<Todo>,
}

/// The decoded `data` of a `computers` snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputersSnapshot {
    /// The computers, this daemon's first.
    pub computers: Vec<Computer>,
}

/// One frame from the server, as a client decodes it. `data` is left as a
/// JSON value: its shape depends on the topic or event (decode it into
/// [`SessionsSnapshot`], a [`Session`], a
/// [`SessionClosed`](crate::protocol::SessionClosed), ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The whole current state of a topic.
    Snapshot {
        /// The topic.
        topic: Topic,
        /// The daemon's boot id.
        epoch: String,
        /// The sequence number the snapshot is at.
        seq: u64,
        /// `{"sessions":[..]}`, `{"projects":[..],"todos":[..]}` or `{"computers":[..]}`.
        data: Value,
    },
    /// One change.
    Event {
        /// The topic.
        topic: Topic,
        /// The daemon's boot id.
        epoch: String,
        /// The change's sequence number.
        seq: u64,
        /// What happened.
        event: EventName,
        /// The event's data.
        data: Value,
    },
    /// A frame the server could not take; the connection stays open.
    Error {
        /// A short fixed code.
        code: String,
        /// What was wrong.
        message: String,
    },
}

impl ServerFrame {
    /// Decodes one text frame.
    ///
    /// # Errors
    /// The JSON error when the text is not a frame of the contract.
    pub fn decode(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The topic, epoch and sequence number of a snapshot or event.
    pub fn position(&self) -> Option<(Topic, &str, u64)> {
        match self {
            Self::Snapshot {
                topic, epoch, seq, ..
            }
            | Self::Event {
                topic, epoch, seq, ..
            } => Some((*topic, epoch, *seq)),
            Self::Error { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    /// The golden bytes, as `cache-core/tests/golden.rs` pins them on the
    /// daemon's feed and snapshots.
    #[test]
    fn frames_are_byte_exact() {
        let epoch = json::string("b\"1");
        let data = br#"{"session_id":"s","computer":"me"}"#;
        let frame = event_frame(&epoch, 2, EventName::SessionClosed, data);
        assert_eq!(
            text(&frame),
            r#"{"type":"event","topic":"sessions","epoch":"b\"1","seq":2,"event":"session_closed","data":{"session_id":"s","computer":"me"}}"#
        );
        assert_eq!(&frame[frame.len() - 1 - data.len()..frame.len() - 1], data);

        let list = br#"[{"a":1}]"#;
        assert_eq!(
            text(&snapshot_frame(
                Topic::Sessions,
                &epoch,
                7,
                &sessions_data_parts(list)
            )),
            r#"{"type":"snapshot","topic":"sessions","epoch":"b\"1","seq":7,"data":{"sessions":[{"a":1}]}}"#
        );
        assert_eq!(text(&sessions_data(list)), r#"{"sessions":[{"a":1}]}"#);
        let prep = preparation_data(b"[]", b"[]");
        assert_eq!(text(&prep), r#"{"projects":[],"todos":[]}"#);
        assert_eq!(
            text(&snapshot_frame(Topic::Preparation, &epoch, 0, &[&prep])),
            r#"{"type":"snapshot","topic":"preparation","epoch":"b\"1","seq":0,"data":{"projects":[],"todos":[]}}"#
        );
        assert_eq!(text(&computers_data(b"[]")), r#"{"computers":[]}"#);

        assert_eq!(
            error_frame("bad_field", "a \"b\"\n"),
            r#"{"type":"error","code":"bad_field","message":"a \"b\"\n"}"#
        );
    }

    #[test]
    fn decodes_the_three_frames() {
        let s = ServerFrame::decode(
            r#"{"type":"snapshot","topic":"computers","epoch":"b1","seq":4,"data":{"computers":[]}}"#,
        )
        .unwrap();
        assert_eq!(s.position(), Some((Topic::Computers, "b1", 4)));
        let e = ServerFrame::decode(&error_frame("bad_json", "m")).unwrap();
        assert_eq!(
            e,
            ServerFrame::Error {
                code: "bad_json".into(),
                message: "m".into()
            }
        );
        assert_eq!(e.position(), None);
        assert!(ServerFrame::decode(r#"{"type":"gossip"}"#).is_err());
        assert!(
            ServerFrame::decode(
                r#"{"type":"event","topic":"sessions","epoch":"e","seq":1,"event":"weather","data":{}}"#
            )
            .is_err()
        );
        let data: SessionsSnapshot = serde_json::from_str(r#"{"sessions":[]}"#).unwrap();
        assert!(data.sessions.is_empty());
        assert!(serde_json::from_str::<SessionsSnapshot>(r#"{"nope":1}"#).is_err());
    }
}

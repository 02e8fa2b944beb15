//! The bodies of the entries daemons exchange (`PROTOCOL.md` section 5):
//! heartbeats, events, snapshot requests and responses. The envelope around
//! them is [`crate::wire`]; forwarded writes are [`crate::forwarded`].
//!
//! [`EventBody::encode`] and [`ResponseBody::encode_snapshot`] build the
//! bodies a daemon sends from bytes the cache serialized once; the types
//! decode what a peer sent.

use crate::protocol::json;
use crate::{Computer, EventName, Project, Session, Todo, Topic};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The body of a heartbeat: the sender's record and its period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatBody {
    /// The sender's Computer fields (with `interest`).
    #[serde(flatten)]
    pub computer: Computer,
    /// Its heartbeat period: receivers judge its liveness by it.
    pub period_ms: u64,
    /// How often the sender has left own changes unpushed, per topic
    /// (absent from older daemons: zero).
    #[serde(default)]
    pub push_gen: PushGen,
    /// How often the sender beats on the liveness set `NS:alive`, in
    /// milliseconds. Present: its liveness is its deadline there, and full
    /// heartbeats come only when something changes. Absent (a previous
    /// version): it is judged by its heartbeats, and senders announce a
    /// full heartbeat every period while it is online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alive_ms: Option<u64>,
}

/// Per topic, how many times a daemon left some of its own changes out of
/// its events stream (nobody seemed to watch, or the append was given up).
/// It only grows within a boot. A follower whose snapshot saw a lower value
/// than a later heartbeat or snapshot announces cannot prove it has every
/// change, and pulls a fresh snapshot: an explicit must-refetch instead of
/// a silent gap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushGen {
    /// For the `sessions` topic.
    #[serde(default)]
    pub sessions: u64,
    /// For the `preparation` topic (projects and todos).
    #[serde(default)]
    pub preparation: u64,
}

/// The body of an event entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventBody {
    /// What happened.
    pub event: EventName,
    /// The event's data, as WebSocket clients get it, kept unparsed so the
    /// receiver decodes it once, straight into the record it describes.
    pub data: Box<serde_json::value::RawValue>,
    /// The record's revision, where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<u64>,
}

/// The body of a snapshot request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestBody {
    /// Chosen by the asker; the response carries it back.
    pub id: String,
    /// Always `snapshot` in v1.
    pub op: String,
    /// The topics wanted.
    pub topics: Vec<Topic>,
}

/// The data of a snapshot response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotData {
    /// The sender's sessions, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<Session>>,
    /// The sender's projects, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<Vec<Project>>,
    /// The sender's todos, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub todos: Option<Vec<Todo>>,
}

/// The body of a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseBody {
    /// The request's id.
    pub id: String,
    /// Whether the request was served.
    pub ok: bool,
    /// The snapshot.
    #[serde(default)]
    pub data: SnapshotData,
    /// The position of the sender's events stream at the snapshot.
    #[serde(default)]
    pub events_id: String,
    /// Why it was not served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The sender's [`PushGen`] when it took the snapshot (absent from
    /// older daemons: zero).
    #[serde(default)]
    pub push_gen: PushGen,
}

impl EventBody {
    /// `{"event":NAME,"data":DATA,"rev":N}` (`rev` absent when `None`),
    /// from the event's serialized `data`.
    pub fn encode(event: EventName, data: &[u8], rev: Option<u64>) -> Bytes {
        let rev = rev.map(|r| r.to_string());
        let name = json::string(event.as_str());
        let mut fields: Vec<(&str, &[u8])> = vec![("event", &name), ("data", data)];
        if let Some(rev) = &rev {
            fields.push(("rev", rev.as_bytes()));
        }
        json::object(&fields)
    }
}

impl ResponseBody {
    /// A served snapshot's response body,
    /// `{"id":ID,"ok":true,"data":{..},"events_id":ID,"push_gen":{..}}`,
    /// where `data` holds each `(key, list)` given (`sessions`, `projects`,
    /// `todos`: the sender's lists, already serialized) in that order.
    pub fn encode_snapshot(
        id: &str,
        data: &[(&str, Bytes)],
        events_id: &str,
        push_gen: PushGen,
    ) -> Bytes {
        let fields: Vec<(&str, &[u8])> = data.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        // Two integers serialize infallibly; the fallback is still valid.
        let push_gen = serde_json::to_vec(&push_gen).unwrap_or_else(|_| b"{}".to_vec());
        json::object(&[
            ("id", &json::string(id)),
            ("ok", b"true"),
            ("data", &json::object(&fields)),
            ("events_id", &json::string(events_id)),
            ("push_gen", &push_gen),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden bytes, as `peer-sync`'s tests pin them on the events
    /// stream and in a snapshot response.
    #[test]
    fn bodies_are_byte_exact() {
        let closed = br#"{"session_id":"s1","computer":"a"}"#;
        assert_eq!(
            &EventBody::encode(EventName::SessionClosed, closed, Some(2))[..],
            br#"{"event":"session_closed","data":{"session_id":"s1","computer":"a"},"rev":2}"#
        );
        assert_eq!(
            &EventBody::encode(
                EventName::ProjectsUpdated,
                br#"{"computer":"a","projects":[]}"#,
                None
            )[..],
            br#"{"event":"projects_updated","data":{"computer":"a","projects":[]}}"#
        );
        let body: EventBody = serde_json::from_slice(&EventBody::encode(
            EventName::SessionClosed,
            closed,
            Some(2),
        ))
        .unwrap();
        assert_eq!(
            (body.event, body.data.get(), body.rev),
            (
                EventName::SessionClosed,
                std::str::from_utf8(closed).unwrap(),
                Some(2)
            )
        );

        let sessions = Bytes::from_static(br#"[{"a":1}]"#);
        let served = ResponseBody::encode_snapshot(
            "req\"1",
            &[("sessions", sessions)],
            "5-6",
            PushGen {
                sessions: 2,
                preparation: 0,
            },
        );
        assert_eq!(
            std::str::from_utf8(&served).unwrap(),
            r#"{"id":"req\"1","ok":true,"data":{"sessions":[{"a":1}]},"events_id":"5-6","push_gen":{"sessions":2,"preparation":0}}"#
        );
        let empty = Bytes::from_static(b"[]");
        assert_eq!(
            std::str::from_utf8(&ResponseBody::encode_snapshot(
                "r",
                &[("projects", empty.clone()), ("todos", empty)],
                "0-0",
                PushGen::default()
            ))
            .unwrap(),
            r#"{"id":"r","ok":true,"data":{"projects":[],"todos":[]},"events_id":"0-0","push_gen":{"sessions":0,"preparation":0}}"#
        );
    }
}

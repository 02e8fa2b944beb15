//! A Redis stream entry from a peer: its fields decoded into an
//! [`Envelope`] (with HMAC verification), or a `NS:computers` record, then
//! its body decoded as its kind requires, down to the records an event
//! carries (what `peer-sync`'s `entries.rs` does before touching the cache).
//!
//! Input: one flags byte, then the entry. Flags: bit 0 verifies with
//! [`SECRET`]; bit 1 reads the rest as a record (JSON) instead of fields;
//! bit 2 also parses the rest as a stream id. Fields are `key NUL value NUL
//! key NUL value...` (a trailing key without a value is dropped).
//!
//! Properties: an accepted envelope re-encodes (signed or not) to fields
//! and to a record that decode to the same envelope; a signature made with
//! another secret is refused; a body that decodes re-encodes to one that
//! decodes to the same value; a stream id prints as text that parses back.

use bytes::Bytes;
use model::forwarded::{WriteOp, WriteRequestBody, WriteResponseBody};
use model::wire::{Envelope, EventBody, HeartbeatBody, Kind, RequestBody, ResponseBody, WireError};
use model::{EventName, Project, Session, StreamId, Todo};
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// The secret entries are verified with when flag bit 0 is set (the seeds
/// in `corpus/envelope/` that set it are signed with it).
pub const SECRET: &[u8] = b"fuzz-secret";
const OTHER_SECRET: &[u8] = b"another-secret";

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let secret = (flags & 1 != 0).then_some(SECRET);
    if flags & 4 != 0 {
        stream_id(rest);
    }
    let decoded = if flags & 2 != 0 {
        Envelope::from_record(rest, secret)
    } else {
        Envelope::from_fields(&fields(rest), secret)
    };
    let Ok(env) = decoded else {
        return;
    };
    round_trips(&env);
    body(&env);
}

/// Splits `key NUL value NUL...` into an entry's fields.
pub fn fields(data: &[u8]) -> Vec<(String, Bytes)> {
    let parts: Vec<&[u8]> = data.split(|b| *b == 0).collect();
    parts
        .chunks_exact(2)
        .map(|kv| {
            (
                String::from_utf8_lossy(kv[0]).into_owned(),
                Bytes::copy_from_slice(kv[1]),
            )
        })
        .collect()
}

fn owned(fields: Vec<(&'static str, Bytes)>) -> Vec<(String, Bytes)> {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn round_trips(env: &Envelope) {
    for secret in [None, Some(SECRET)] {
        let back = Envelope::from_fields(&owned(env.to_fields(secret)), secret);
        assert_eq!(back.as_ref(), Ok(env), "fields, secret {secret:?}");
        // A record holds its fields as JSON strings: only a UTF-8 body
        // survives it (every body a daemon writes is JSON, so UTF-8).
        if std::str::from_utf8(&env.body).is_ok() {
            let back = Envelope::from_record(&env.to_record(secret), secret);
            assert_eq!(back.as_ref(), Ok(env), "record, secret {secret:?}");
        }
    }
    let forged = Envelope::from_fields(&owned(env.to_fields(Some(OTHER_SECRET))), Some(SECRET));
    assert_eq!(forged, Err(WireError::BadSignature));
}

/// Decodes `T`; when it decodes, checks that its JSON decodes to the same.
fn decodes_back<T: Serialize + DeserializeOwned + PartialEq + Debug>(env: &Envelope) -> Option<T> {
    let value: T = env.parse_body().ok()?;
    let json = serde_json::to_vec(&value).expect("a decoded body serializes");
    let back: T = serde_json::from_slice(&json).expect("a re-encoded body decodes");
    assert_eq!(back, value, "{}", String::from_utf8_lossy(&json));
    Some(value)
}

// Decoded only, as `entries.rs` decodes them before applying them.
#[allow(dead_code)]
#[derive(Deserialize)]
struct ClosedData {
    session_id: String,
    computer: String,
}

// Decoded only, as `entries.rs` decodes them before applying them.
#[allow(dead_code)]
#[derive(Deserialize)]
struct ProjectsData {
    computer: String,
    projects: Vec<Project>,
}

// Decoded only, as `entries.rs` decodes them before applying them.
#[allow(dead_code)]
#[derive(Deserialize)]
struct TodosData {
    computer: String,
    project_path: String,
    todos: Vec<Todo>,
}

/// The body as `peer-sync` reads it for each kind.
fn body(env: &Envelope) {
    let _ = model::validate_computer_name(&env.from);
    match env.kind {
        Kind::Heartbeat => {
            decodes_back::<HeartbeatBody>(env);
        }
        Kind::Leave => {}
        Kind::Event => {
            if let Ok(event) = env.parse_body::<EventBody>() {
                event_data(&event);
            }
        }
        Kind::Request => {
            decodes_back::<RequestBody>(env);
            if let Some(w) = decodes_back::<WriteRequestBody>(env) {
                assert_eq!(WriteOp::parse(w.write.op.as_str()), Some(w.write.op));
            }
        }
        Kind::Response => {
            if let Some(r) = decodes_back::<ResponseBody>(env) {
                stream_id(r.events_id.as_bytes());
            }
            decodes_back::<WriteResponseBody>(env);
        }
    }
}

fn event_data(event: &EventBody) {
    let data = event.data.get();
    match event.event {
        EventName::SessionStarted | EventName::SessionUpdated => {
            if let Ok(s) = serde_json::from_str::<Session>(data) {
                let json = serde_json::to_string(&s).expect("a session serializes");
                let back: Session = serde_json::from_str(&json).expect("a session decodes back");
                assert_eq!(back, s, "{json}");
            }
        }
        EventName::SessionClosed => {
            let _ = serde_json::from_str::<ClosedData>(data);
        }
        EventName::ProjectsUpdated => {
            let _ = serde_json::from_str::<ProjectsData>(data);
        }
        EventName::TodosUpdated => {
            let _ = serde_json::from_str::<TodosData>(data);
        }
        EventName::ComputerOnline | EventName::ComputerUpdated | EventName::ComputerOffline => {}
    }
}

fn stream_id(text: &[u8]) {
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    if let Some(id) = StreamId::parse(text) {
        assert_eq!(StreamId::parse(&id.to_string()), Some(id), "{text:?}");
    }
}

//! What the receive task does with each entry it reads: heartbeats and
//! `leave` from the presence stream, snapshot requests and responses from
//! this computer's inbox (forwarded writes and their replies are handed to
//! `remote_writes.rs` and `forward.rs`), and changes from a watched peer's events stream.
//! Every entry is checked for who may write it where; a refused one is
//! logged and counted, and processing goes on.

use crate::feeds::Positions;
use crate::gens::moved_past;
use crate::intake::{decode, drop_entry};
use crate::peers::{CACHE_PERIOD, Heartbeat};
use crate::shared::{Request, Shared};
use crate::snapshot;
use crate::{forward, remote_writes};
use model::protocol::{ProjectsUpdated, SessionClosed, TodosUpdated};
use model::wire::{Envelope, EventBody, HeartbeatBody, Kind, RequestBody, ResponseBody, WireError};
use model::{EventName, Session, StreamEntry, StreamId};
use std::time::Duration;

pub(crate) fn dispatch(
    shared: &Shared,
    pos: &mut Positions,
    stream: &str,
    entries: &[StreamEntry],
) {
    if stream == shared.keys.presence() {
        for e in entries {
            pos.presence = e.id;
            if let Some(env) = decode(stream, e, shared.secret(), &shared.metrics) {
                on_presence(shared, stream, e, env);
            }
        }
    } else if stream == shared.keys.inbox(&shared.me) {
        for e in entries {
            pos.inbox = e.id;
            if let Some(env) = decode(stream, e, shared.secret(), &shared.metrics) {
                on_inbox(shared, stream, e, env);
            }
        }
    } else if let Some(owner) = shared.keys.owner_of(stream) {
        let owner = owner.to_owned();
        for e in entries {
            if !on_event_entry(shared, &owner, stream, e) {
                break;
            }
        }
    }
}

fn refuse(shared: &Shared, stream: &str, entry: &StreamEntry, e: WireError) {
    drop_entry(stream, entry, &e, &shared.metrics);
}

/// An entry whose `from` is not who may write it there.
fn forged_from(from: String, stream: &str) -> WireError {
    WireError::Forged {
        from,
        stream: stream.to_owned(),
    }
}

/// A heartbeat or `leave` (from the presence stream, or a roster record
/// taken as a heartbeat written at the entry's id).
pub(crate) fn on_presence(shared: &Shared, stream: &str, entry: &StreamEntry, env: Envelope) {
    if env.from == shared.me {
        return;
    }
    if let Err(e) = model::validate_computer_name(&env.from) {
        refuse(shared, stream, entry, WireError::Body(e.to_string()));
        return;
    }
    match env.kind {
        Kind::Heartbeat => {
            let body: HeartbeatBody = match env.parse_body() {
                Ok(b) => b,
                Err(e) => return refuse(shared, stream, entry, e),
            };
            if body.computer.name != env.from || body.computer.boot_id != env.boot {
                return refuse(shared, stream, entry, forged_from(env.from, stream));
            }
            if !(50..=600_000).contains(&body.period_ms) {
                return refuse(
                    shared,
                    stream,
                    entry,
                    WireError::Body(format!("period_ms {} out of range", body.period_ms)),
                );
            }
            let period = Duration::from_millis(body.period_ms);
            let legacy = body.alive_ms.is_none();
            let beats = shared.beats && !legacy;
            let hb = Heartbeat {
                boot: &env.boot,
                interest: body.computer.interest.clone(),
                period,
                beats,
                legacy,
                entry_ms: entry.id.ms,
            };
            let heard = shared.peers.lock().heartbeat(&env.from, hb, shared.now());
            if !heard.taken {
                tracing::debug!(peer = %env.from, entry_id = %entry.id, reason = "older than the expiry the liveness set reported", "ignored heartbeat");
                return;
            }
            let mut feeds = shared.feeds.lock();
            if heard.changed_boot.is_some() {
                tracing::info!(peer = %env.from, boot = %env.boot, "peer restarted: re-snapshotting");
                feeds.reset(&env.from);
            } else if feeds.by_computer.get(&env.from).is_some_and(|f| {
                f.position.is_some()
                    && f.boot.as_deref() == Some(env.boot.as_str())
                    && moved_past(f.push_gen, body.push_gen, &f.topics)
            }) {
                tracing::info!(
                    peer = %env.from,
                    reason = "it left changes unpushed while this daemon followed it",
                    "re-snapshotting"
                );
                feeds.reset(&env.from);
            }
            drop(feeds);
            let judged_by = if beats { CACHE_PERIOD } else { period };
            shared.cache.peer_heartbeat(body.computer, judged_by);
        }
        Kind::Leave => {
            tracing::info!(peer = %env.from, "peer left");
            shared.peers.lock().left(&env.from);
            shared.feeds.lock().reset(&env.from);
            shared.cache.peer_offline(&env.from);
        }
        other => refuse(
            shared,
            stream,
            entry,
            WireError::Body(format!("{} entry on the presence stream", other.as_str())),
        ),
    }
}

fn on_inbox(shared: &Shared, stream: &str, entry: &StreamEntry, env: Envelope) {
    if let Err(e) = model::validate_computer_name(&env.from) {
        return refuse(shared, stream, entry, WireError::Body(e.to_string()));
    }
    match env.kind {
        Kind::Request if remote_writes::is_write_request(&env) => {
            remote_writes::on_request(shared, stream, entry, &env);
        }
        Kind::Response if forward::is_write_reply(&env) => {
            forward::on_response(shared, stream, entry, &env);
        }
        Kind::Request => {
            let body: RequestBody = match env.parse_body() {
                Ok(b) => b,
                Err(e) => return refuse(shared, stream, entry, e),
            };
            if body.op != "snapshot" {
                return refuse(
                    shared,
                    stream,
                    entry,
                    WireError::Body(format!("unknown request op {:?}", body.op)),
                );
            }
            shared
                .peers
                .lock()
                .requested(&env.from, &env.boot, body.topics.clone(), shared.now());
            let _ = shared.requests.send(Request {
                from: env.from,
                id: body.id,
                topics: body.topics,
            });
        }
        Kind::Response => {
            let body: ResponseBody = match env.parse_body() {
                Ok(b) => b,
                Err(e) => return refuse(shared, stream, entry, e),
            };
            let asked = shared.feeds.lock().requests.remove(&body.id);
            let Some((computer, topics)) = asked else {
                tracing::debug!(peer = %env.from, id = %body.id, reason = "no such request pending", "ignored response");
                return;
            };
            if computer != env.from {
                return refuse(shared, stream, entry, forged_from(env.from, stream));
            }
            if !body.ok {
                tracing::warn!(peer = %computer, error = ?body.error, "snapshot request refused");
                shared.feeds.lock().reset(&computer);
                return;
            }
            let Some(events_id) = StreamId::parse(&body.events_id) else {
                return refuse(
                    shared,
                    stream,
                    entry,
                    WireError::Body(format!("bad events_id {:?}", body.events_id)),
                );
            };
            snapshot::apply(&shared.cache, &computer, body.data, &shared.metrics);
            let mut feeds = shared.feeds.lock();
            let feed = feeds.by_computer.entry(computer.clone()).or_default();
            if feed.pending.as_ref().is_some_and(|p| p.id == body.id) {
                feed.pending = None;
            }
            // Already past the snapshot's position in the same boot (a
            // snapshot for a newly watched topic): keep reading from there.
            let same_boot = feed.boot.as_deref() == Some(env.boot.as_str());
            feed.position = match feed.position {
                Some(p) if same_boot => Some(p.max(events_id)),
                _ => Some(events_id),
            };
            feed.boot = Some(env.boot);
            feed.topics = topics;
            feed.push_gen = body.push_gen;
            tracing::debug!(peer = %computer, %events_id, "snapshot applied");
        }
        other => refuse(
            shared,
            stream,
            entry,
            WireError::Body(format!("{} entry in an inbox", other.as_str())),
        ),
    }
}

/// Applies one entry of `owner`'s events stream; `false` stops the batch
/// (the feed needs a snapshot first).
fn on_event_entry(shared: &Shared, owner: &str, stream: &str, entry: &StreamEntry) -> bool {
    {
        let mut feeds = shared.feeds.lock();
        let Some(feed) = feeds.by_computer.get_mut(owner) else {
            return false;
        };
        if feed.position.is_none_or(|p| entry.id <= p) {
            return true;
        }
        feed.position = Some(entry.id);
    }
    let Some(env) = decode(stream, entry, shared.secret(), &shared.metrics) else {
        return true;
    };
    if env.from != owner {
        refuse(shared, stream, entry, forged_from(env.from, stream));
        return true;
    }
    let boot_matches = shared
        .feeds
        .lock()
        .by_computer
        .get(owner)
        .is_some_and(|f| f.boot.as_deref() == Some(env.boot.as_str()));
    if !boot_matches {
        tracing::info!(peer = owner, boot = %env.boot, "events from another boot: re-snapshotting");
        shared.feeds.lock().reset(owner);
        return false;
    }
    if env.kind != Kind::Event {
        refuse(
            shared,
            stream,
            entry,
            WireError::Body(format!("{} entry on an events stream", env.kind.as_str())),
        );
        return true;
    }
    let body: EventBody = match env.parse_body() {
        Ok(b) => b,
        Err(e) => {
            refuse(shared, stream, entry, e);
            return true;
        }
    };
    if let Err(e) = apply_event(shared, owner, body) {
        refuse(shared, stream, entry, e);
    }
    true
}

fn forged(owner: &str, claimed: &str) -> WireError {
    WireError::Body(format!("record of {claimed:?} on {owner:?}'s stream"))
}

fn apply_event(shared: &Shared, owner: &str, body: EventBody) -> Result<(), WireError> {
    let cache = &shared.cache;
    let bad = |e: serde_json::Error| WireError::Body(e.to_string());
    match body.event {
        EventName::SessionStarted | EventName::SessionUpdated => {
            let s: Session = serde_json::from_str(body.data.get()).map_err(bad)?;
            if s.computer != owner {
                return Err(forged(owner, &s.computer));
            }
            cache.put_session(s);
        }
        EventName::SessionClosed => {
            let d: SessionClosed = serde_json::from_str(body.data.get()).map_err(bad)?;
            if d.computer != owner {
                return Err(forged(owner, &d.computer));
            }
            cache.close_session(owner, &d.session_id, body.rev.unwrap_or(u64::MAX));
        }
        EventName::ProjectsUpdated => {
            let d: ProjectsUpdated = serde_json::from_str(body.data.get()).map_err(bad)?;
            if d.computer != owner || d.projects.iter().any(|p| p.computer != owner) {
                return Err(forged(owner, &d.computer));
            }
            cache.set_projects(owner, d.projects);
        }
        EventName::TodosUpdated => {
            let d: TodosUpdated = serde_json::from_str(body.data.get()).map_err(bad)?;
            if d.computer != owner || d.todos.iter().any(|t| t.computer != owner) {
                return Err(forged(owner, &d.computer));
            }
            cache.set_todos(owner, &d.project_path, d.todos);
        }
        EventName::ComputerOnline | EventName::ComputerUpdated | EventName::ComputerOffline => {
            return Err(WireError::Body(
                "computer events travel in heartbeats".into(),
            ));
        }
    }
    Ok(())
}

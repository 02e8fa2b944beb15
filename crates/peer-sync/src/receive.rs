//! The receive task: one dedicated reader that blocks on the presence
//! stream, this computer's inbox and the events stream of every watched
//! peer at once, always from the last id it processed. After a reconnect,
//! or when a read comes back full, it checks every position for a gap
//! (trimmed stream, vanished stream, changed boot) and re-snapshots where
//! one is found.

use crate::intake::{decode, drop_entry};
use crate::snapshot;
use crate::sync::{Request, Shared};
use model::wire::{Envelope, EventBody, HeartbeatBody, Kind, RequestBody, ResponseBody, WireError};
use model::{EventName, Project, Session, StreamEntry, StreamId, Todo};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Where the reader is in the streams every daemon reads.
struct Positions {
    presence: StreamId,
    inbox: StreamId,
}

pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut backoff = Duration::from_millis(50);
    let (mut reader, mut pos) = loop {
        let opened = async {
            let reader = shared.transport.reader().await?;
            let pos = start_positions(&shared).await?;
            Ok::<_, model::TransportError>((reader, pos))
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            r = opened => match r {
                Ok(v) => break v,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "cannot open the stream reader");
                    sleep_or_cancel(&cancel, &mut backoff).await;
                }
            }
        }
    };
    backoff = Duration::from_millis(50);
    loop {
        if shared.check_gaps.swap(false, Ordering::AcqRel) {
            check_gaps(&shared, &mut pos).await;
        }
        let from = read_set(&shared, &pos);
        let read = reader.read(&from, shared.cfg.read_count, shared.cfg.block);
        let batches = tokio::select! {
            () = cancel.cancelled() => return,
            r = read => r,
        };
        match batches {
            Ok(batches) => {
                backoff = Duration::from_millis(50);
                for (stream, entries) in batches {
                    if entries.len() >= shared.cfg.read_count {
                        shared.check_gaps.store(true, Ordering::Release);
                    }
                    dispatch(&shared, &mut pos, &stream, &entries);
                }
                shared.sync_interest().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "stream read failed; resuming from the same ids");
                shared.check_gaps.store(true, Ordering::Release);
                sleep_or_cancel(&cancel, &mut backoff).await;
            }
        }
    }
}

async fn sleep_or_cancel(cancel: &CancellationToken, backoff: &mut Duration) {
    tokio::select! {
        () = cancel.cancelled() => {}
        () = tokio::time::sleep(*backoff) => {}
    }
    *backoff = (*backoff * 2).min(Duration::from_secs(2));
}

/// Presence from three periods back (so live peers are seen at once), the
/// inbox from its end (older requests were for an earlier boot).
async fn start_positions(shared: &Shared) -> Result<Positions, model::TransportError> {
    let presence = match shared.transport.bounds(&shared.keys.presence()).await? {
        Some((_, last)) => {
            let back = u64::try_from(shared.cfg.heartbeat.as_millis() * 3).unwrap_or(u64::MAX);
            StreamId::new(last.ms.saturating_sub(back), 0)
        }
        None => StreamId::ZERO,
    };
    let inbox = match shared
        .transport
        .bounds(&shared.keys.inbox(&shared.me))
        .await?
    {
        Some((_, last)) => last,
        None => StreamId::ZERO,
    };
    Ok(Positions { presence, inbox })
}

fn read_set(shared: &Shared, pos: &Positions) -> Vec<(String, StreamId)> {
    let mut from = vec![
        (shared.keys.presence(), pos.presence),
        (shared.keys.inbox(&shared.me), pos.inbox),
    ];
    let feeds = shared.feeds.lock();
    from.extend(feeds.positions().map(|(c, p)| (shared.keys.events(c), p)));
    from
}

/// Checks every position against what its stream still holds.
async fn check_gaps(shared: &Shared, pos: &mut Positions) {
    for (stream, at) in [
        (shared.keys.presence(), &mut pos.presence),
        (shared.keys.inbox(&shared.me), &mut pos.inbox),
    ] {
        match shared.transport.bounds(&stream).await {
            Ok(Some((_, last))) if last < *at => *at = StreamId::ZERO,
            Ok(None) => *at = StreamId::ZERO,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(stream, error = %e, "cannot check stream position");
                shared.check_gaps.store(true, Ordering::Release);
            }
        }
    }
    let watched: Vec<(String, StreamId)> = {
        let feeds = shared.feeds.lock();
        feeds.positions().map(|(c, p)| (c.clone(), p)).collect()
    };
    for (computer, at) in watched {
        let stream = shared.keys.events(&computer);
        let gap = match shared.transport.bounds(&stream).await {
            Ok(None) => at != StreamId::ZERO,
            Ok(Some((first, last))) => {
                let trimmed = if at == StreamId::ZERO {
                    // Nothing read since a snapshot taken before the stream
                    // existed: any entry added but no longer held is lost.
                    matches!(
                        shared.transport.counts(&stream).await,
                        Ok(Some(c)) if c.entries_added > c.length
                    )
                } else {
                    first > at
                };
                last < at || trimmed
            }
            Err(e) => {
                tracing::warn!(stream, error = %e, "cannot check stream position");
                shared.check_gaps.store(true, Ordering::Release);
                false
            }
        };
        if gap {
            tracing::info!(peer = %computer, stream, position = %at, "gap in events stream: re-snapshotting");
            shared.feeds.lock().reset(&computer);
        }
    }
}

fn dispatch(shared: &Shared, pos: &mut Positions, stream: &str, entries: &[StreamEntry]) {
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

fn on_presence(shared: &Shared, stream: &str, entry: &StreamEntry, env: Envelope) {
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
            let changed_boot = shared.peers.lock().heartbeat(
                &env.from,
                &env.boot,
                body.computer.interest.clone(),
                period,
                shared.now(),
            );
            if changed_boot.is_some() {
                tracing::info!(peer = %env.from, boot = %env.boot, "peer restarted: re-snapshotting");
                shared.feeds.lock().reset(&env.from);
            }
            shared.cache.peer_heartbeat(body.computer, period);
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
            let Some((computer, _topics)) = asked else {
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
            feed.boot = Some(env.boot);
            feed.position = Some(events_id);
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

#[derive(Deserialize)]
struct ClosedData {
    session_id: String,
    computer: String,
}

#[derive(Deserialize)]
struct ProjectsData {
    computer: String,
    projects: Vec<Project>,
}

#[derive(Deserialize)]
struct TodosData {
    computer: String,
    project_path: String,
    todos: Vec<Todo>,
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
            let s: Session = serde_json::from_value(body.data).map_err(bad)?;
            if s.computer != owner {
                return Err(forged(owner, &s.computer));
            }
            cache.put_session(s);
        }
        EventName::SessionClosed => {
            let d: ClosedData = serde_json::from_value(body.data).map_err(bad)?;
            if d.computer != owner {
                return Err(forged(owner, &d.computer));
            }
            cache.close_session(owner, &d.session_id, body.rev.unwrap_or(u64::MAX));
        }
        EventName::ProjectsUpdated => {
            let d: ProjectsData = serde_json::from_value(body.data).map_err(bad)?;
            if d.computer != owner || d.projects.iter().any(|p| p.computer != owner) {
                return Err(forged(owner, &d.computer));
            }
            cache.set_projects(owner, d.projects);
        }
        EventName::TodosUpdated => {
            let d: TodosData = serde_json::from_value(body.data).map_err(bad)?;
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

//! The session table: records by id, an index newest-first, and tombstones
//! that keep a closed session from being revived by a late, older change.

use crate::json;
use bytes::Bytes;
use model::{Session, SessionStatus, Timestamp};
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio::time::Instant;

/// A cached session with its JSON, serialized once when it changed.
#[derive(Debug)]
pub struct SessionRecord {
    /// The session.
    pub session: Session,
    /// Its JSON.
    pub json: Bytes,
}

impl SessionRecord {
    pub(crate) fn new(session: Session) -> Arc<Self> {
        let json = json::to_bytes(&session);
        Arc::new(Self { session, json })
    }
}

/// What applying a session change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// A session the cache did not hold.
    Started,
    /// A newer state of a held session.
    Updated,
    /// The session ended and was removed.
    Closed,
    /// The same state the cache already held: nothing published.
    Unchanged,
    /// Older than what the cache holds (or closed already): ignored.
    Outdated,
}

type OrderKey = (Reverse<Timestamp>, String);

#[derive(Default)]
pub(crate) struct SessionTable {
    by_id: HashMap<String, Arc<SessionRecord>>,
    order: BTreeSet<OrderKey>,
    tombstones: HashMap<String, (u64, Instant)>,
    list_cache: parking_lot::Mutex<Option<Bytes>>,
}

fn key(s: &Session) -> OrderKey {
    (Reverse(s.last_activity), s.session_id.clone())
}

impl SessionTable {
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Arc<SessionRecord>> {
        self.by_id.get(id)
    }

    /// Decides what `incoming` would do, without changing anything.
    pub(crate) fn classify(&self, incoming: &Session) -> Applied {
        if let Some((rev, _)) = self.tombstones.get(&incoming.session_id)
            && incoming.rev <= *rev
        {
            return Applied::Outdated;
        }
        match self.by_id.get(&incoming.session_id) {
            None if incoming.status == SessionStatus::Closed => Applied::Outdated,
            None => Applied::Started,
            Some(held) => {
                let held = &held.session;
                // A stale copy yields to the owner's state of the same rev.
                if incoming.rev < held.rev || (incoming.rev == held.rev && !held.stale) {
                    if held == incoming {
                        Applied::Unchanged
                    } else {
                        Applied::Outdated
                    }
                } else if incoming.status == SessionStatus::Closed {
                    Applied::Closed
                } else if held == incoming {
                    Applied::Unchanged
                } else {
                    Applied::Updated
                }
            }
        }
    }

    pub(crate) fn insert(&mut self, record: Arc<SessionRecord>) {
        if let Some(old) = self.by_id.get(&record.session.session_id) {
            self.order.remove(&key(&old.session));
        }
        self.tombstones.remove(&record.session.session_id);
        self.order.insert(key(&record.session));
        self.by_id.insert(record.session.session_id.clone(), record);
        *self.list_cache.get_mut() = None;
    }

    /// Removes a session, leaving a tombstone at `rev`.
    pub(crate) fn remove(
        &mut self,
        id: &str,
        rev: u64,
        now: Instant,
    ) -> Option<Arc<SessionRecord>> {
        let old = self.by_id.remove(id)?;
        self.order.remove(&key(&old.session));
        self.tombstones
            .insert(id.to_owned(), (rev.max(old.session.rev), now));
        *self.list_cache.get_mut() = None;
        Some(old)
    }

    /// Forgets tombstones older than `keep`.
    pub(crate) fn sweep_tombstones(&mut self, now: Instant, keep: std::time::Duration) {
        self.tombstones
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < keep);
    }

    /// Sessions newest first, optionally of one computer.
    pub(crate) fn iter<'a>(
        &'a self,
        computer: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Arc<SessionRecord>> + 'a {
        self.order
            .iter()
            .filter_map(|(_, id)| self.by_id.get(id))
            .filter(move |r| computer.is_none_or(|c| r.session.computer == c))
    }

    /// The ids of one computer's sessions.
    pub(crate) fn ids_of(&self, computer: &str) -> Vec<String> {
        self.by_id
            .values()
            .filter(|r| r.session.computer == computer)
            .map(|r| r.session.session_id.clone())
            .collect()
    }

    /// The JSON array of every session, newest first; cached until the next change.
    pub(crate) fn list_json(&self) -> Bytes {
        let mut cache = self.list_cache.lock();
        if let Some(b) = &*cache {
            return b.clone();
        }
        let b = json::array(self.iter(None).map(|r| &r.json));
        *cache = Some(b.clone());
        b
    }
}

//! The session table: records by id, an index newest-first, and tombstones
//! that keep a closed session from being revived by a late, older change.
//!
//! Tombstones live in a [`moka`] cache with a time to live of the stale
//! retention: they bound memory, and nothing has to happen on time when
//! one goes. moka judges that age by its own clock (the system's monotonic
//! clock, not the cache's [`model::Clock`]) and forgets expired entries
//! inside its own calls or at `SessionTable::sweep_tombstones`, which the
//! sweeper runs; an expired tombstone is never seen again even before it is
//! evicted. Under paused tokio time a tombstone therefore outlives any
//! advance: no test relies on one being forgotten.

use crate::json;
use bytes::Bytes;
use model::{Session, SessionStatus, Timestamp};
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// A cached session: its JSON, serialized once when it changed, and the few
/// fields the cache indexes and judges by. The JSON is the record: the
/// whole [`Session`] is not kept beside it, which halves what a cached
/// session costs (see `docs/performance.md`).
#[derive(Debug)]
pub struct SessionRecord {
    /// The session's id (shared with the table's indexes).
    pub session_id: Arc<str>,
    /// The owning computer.
    pub computer: Box<str>,
    /// The owner's revision.
    pub rev: u64,
    /// When it last changed, for the newest-first order.
    pub last_activity: Timestamp,
    /// Whether the owner is offline and this is its last known state.
    pub stale: bool,
    /// Its state.
    pub status: SessionStatus,
    /// Its JSON.
    pub json: Bytes,
}

impl SessionRecord {
    pub(crate) fn new(session: &Session) -> Arc<Self> {
        Arc::new(Self {
            session_id: Arc::from(session.session_id.as_str()),
            computer: session.computer.as_str().into(),
            rev: session.rev,
            last_activity: session.last_activity,
            stale: session.stale,
            status: session.status,
            json: json::to_bytes(session),
        })
    }

    /// The whole session, decoded from the record's JSON (which the cache
    /// wrote itself, so it always decodes; `None` would mean a bug).
    pub fn session(&self) -> Option<Session> {
        serde_json::from_slice(&self.json).ok()
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

type OrderKey = (Reverse<Timestamp>, Arc<str>);

/// What is left of a closed session: its last revision and its owner (so
/// an owner can re-announce its own closes). Cloned out of the map on each
/// lookup, hence the shared name.
#[derive(Clone)]
struct Tombstone {
    rev: u64,
    computer: Arc<str>,
}

/// The largest session list kept ready between changes (8 MiB, about 20,000
/// sessions): every read up to that size is one copy of a ready buffer.
pub const LIST_CACHE_MAX_BYTES: usize = 8 * 1024 * 1024;

pub(crate) struct SessionTable {
    by_id: HashMap<Arc<str>, Arc<SessionRecord>>,
    order: BTreeSet<OrderKey>,
    /// Closed sessions by id, each kept for the stale retention.
    tombstones: moka::sync::Cache<Arc<str>, Tombstone>,
    list_cache: parking_lot::Mutex<Option<Bytes>>,
}

fn key(r: &SessionRecord) -> OrderKey {
    (Reverse(r.last_activity), r.session_id.clone())
}

impl SessionTable {
    /// An empty table whose tombstones are kept for `tombstone_ttl` (the
    /// stale retention) and not bounded in number, as before: forgetting
    /// one early would let a late change revive a closed session.
    pub(crate) fn new(tombstone_ttl: Duration) -> Self {
        Self {
            by_id: HashMap::new(),
            order: BTreeSet::new(),
            tombstones: moka::sync::Cache::builder()
                .time_to_live(tombstone_ttl)
                .build(),
            list_cache: parking_lot::Mutex::new(None),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Arc<SessionRecord>> {
        self.by_id.get(id)
    }

    /// Decides what `incoming` would do, without changing anything. Two
    /// states are the same when their JSON is: the cache serializes both.
    pub(crate) fn classify(&self, incoming: &SessionRecord) -> Applied {
        // `contains_key` first: a miss through `get` would be recorded for
        // moka's popularity estimate, work this unbounded map never uses,
        // on every change of a live session.
        if self.tombstones.contains_key(&incoming.session_id)
            && let Some(t) = self.tombstones.get(&incoming.session_id)
            && incoming.rev <= t.rev
        {
            return Applied::Outdated;
        }
        match self.by_id.get(&incoming.session_id) {
            None if incoming.status == SessionStatus::Closed => Applied::Outdated,
            None => Applied::Started,
            Some(held) => {
                let same = held.json == incoming.json;
                // A stale copy yields to the owner's state of the same rev.
                if incoming.rev < held.rev || (incoming.rev == held.rev && !held.stale) {
                    if same {
                        Applied::Unchanged
                    } else {
                        Applied::Outdated
                    }
                } else if incoming.status == SessionStatus::Closed {
                    Applied::Closed
                } else if same {
                    Applied::Unchanged
                } else {
                    Applied::Updated
                }
            }
        }
    }

    pub(crate) fn insert(&mut self, record: Arc<SessionRecord>) {
        if let Some(old) = self.by_id.get(&record.session_id) {
            self.order.remove(&key(old));
        }
        if self.tombstones.contains_key(&record.session_id) {
            self.tombstones.invalidate(&record.session_id);
        }
        self.order.insert(key(&record));
        self.by_id.insert(record.session_id.clone(), record);
        *self.list_cache.get_mut() = None;
    }

    /// Removes a session, leaving a tombstone at `rev`.
    pub(crate) fn remove(&mut self, id: &str, rev: u64) -> Option<Arc<SessionRecord>> {
        let old = self.by_id.remove(id)?;
        self.order.remove(&key(&old));
        self.tombstones.insert(
            old.session_id.clone(),
            Tombstone {
                rev: rev.max(old.rev),
                computer: Arc::from(&*old.computer),
            },
        );
        *self.list_cache.get_mut() = None;
        Some(old)
    }

    /// The owner of `id` if it ended within the tombstone retention.
    pub(crate) fn ended_owner(&self, id: &str) -> Option<String> {
        self.tombstones.get(id).map(|t| t.computer.to_string())
    }

    /// Evicts the tombstones past their time to live (moka does it inside
    /// its calls too, but only when enough of them happen).
    pub(crate) fn sweep_tombstones(&self) {
        self.tombstones.run_pending_tasks();
    }

    /// The sessions of `computer` closed within the tombstone retention,
    /// with their last revision.
    pub(crate) fn closed_of(&self, computer: &str) -> Vec<(String, u64)> {
        self.tombstones
            .iter()
            .filter(|(_, t)| &*t.computer == computer)
            .map(|(id, t)| (id.to_string(), t.rev))
            .collect()
    }

    /// Sessions newest first, optionally of one computer.
    pub(crate) fn iter<'a>(
        &'a self,
        computer: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Arc<SessionRecord>> + 'a {
        self.order
            .iter()
            .filter_map(|(_, id)| self.by_id.get(id))
            .filter(move |r| computer.is_none_or(|c| &*r.computer == c))
    }

    /// The ids of one computer's sessions.
    pub(crate) fn ids_of(&self, computer: &str) -> Vec<String> {
        self.by_id
            .values()
            .filter(|r| &*r.computer == computer)
            .map(|r| r.session_id.to_string())
            .collect()
    }

    /// The JSON array of every session, newest first; cached until the
    /// next change when it is at most [`LIST_CACHE_MAX_BYTES`] (a larger
    /// list is built per read rather than held twice in memory).
    pub(crate) fn list_json(&self) -> Bytes {
        let mut cache = self.list_cache.lock();
        if let Some(b) = &*cache {
            return b.clone();
        }
        let b = json::array(self.iter(None).map(|r| &r.json));
        if b.len() <= LIST_CACHE_MAX_BYTES {
            *cache = Some(b.clone());
        }
        b
    }
}

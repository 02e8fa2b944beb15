//! [`MemoryHub`]: the shared "server" every [`crate::MemoryTransport`]
//! talks to. It holds the named streams, generates ids from tokio time,
//! wakes blocked readers, and lets tests break things: trim, clear,
//! restart, cut clients, inject raw entries, and count what was written.
//! Clients are made in `client.rs` ([`MemoryHub::connect`]); the hub knows
//! them only by their links, by name.

use crate::link::ClientShared;
use crate::stream::Stream;
use bytes::Bytes;
use model::{StreamBatch, StreamCounts, StreamEntry, StreamId};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The milliseconds part of ids generated when the hub is created: ids look
/// like real Redis ids (a Unix time in milliseconds in late 2023) and then
/// advance with tokio time, so paused-time tests get deterministic ids.
pub const ID_BASE_MS: u64 = 1_700_000_000_000;

/// An in-memory stand-in for a Redis server holding streams, shared by every
/// client connected to it. Cloning is cheap and yields the same hub.
///
/// Semantics follow Redis Streams where the peer protocol can see them:
/// - ids are `ms-seq`, `ms` = [`ID_BASE_MS`] + tokio milliseconds since
///   [`MemoryHub::new`], `seq` bumped when the clock did not advance; they
///   grow strictly within a stream, even across trimming;
/// - `MAXLEN ~ n` trimming is "approximate" in Redis (it may keep more than
///   `n`); here it always trims to exactly `n`, which is one of the allowed
///   outcomes, so callers must not rely on extra entries surviving;
/// - reading after an id that was trimmed away returns the entries after it
///   that remain, without error: gaps are detected by the caller through
///   `bounds`;
/// - dropping a stream (see [`MemoryHub::clear`]) forgets its last id, so the
///   ids of a re-created stream may be lower than ids readers still hold.
#[derive(Debug, Clone)]
pub struct MemoryHub {
    inner: Arc<HubInner>,
}

#[derive(Debug)]
struct HubInner {
    /// Tokio time when the hub was created: ids count milliseconds from it.
    origin: Instant,
    /// The streams and counters, under one lock so reads see one state.
    data: Mutex<Data>,
    /// Signalled on every change a blocked reader may care about: appends,
    /// and cuts (so blocked reads of a cut client return its error).
    changed: Notify,
    /// Clients by name, for fault injection by name. Weak so that a dropped
    /// client is forgotten.
    clients: Mutex<HashMap<String, Vec<Weak<ClientShared>>>>,
}

#[derive(Debug, Default)]
struct Data {
    streams: HashMap<String, Stream>,
    /// Liveness sets: member -> deadline (ms on the id clock).
    alive: HashMap<String, HashMap<String, u64>>,
    /// Record hashes: field -> value.
    records: HashMap<String, HashMap<String, Bytes>>,
    /// Appends ever made, per stream name; never reset (not even by
    /// [`MemoryHub::clear`]).
    appends: HashMap<String, u64>,
}

impl Default for MemoryHub {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryHub {
    /// An empty hub; its id clock starts now (tokio time).
    pub fn new() -> Self {
        Self {
            inner: Arc::new(HubInner {
                origin: Instant::now(),
                data: Mutex::new(Data::default()),
                changed: Notify::new(),
                clients: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Registers a new client named `name`, connected, so that faults
    /// addressed by name reach it (see [`MemoryHub::connect`]).
    pub(crate) fn register(&self, name: &str) -> Arc<ClientShared> {
        let client = Arc::new(ClientShared::new(name));
        let mut clients = self.inner.clients.lock();
        let same_name = clients.entry(name.to_owned()).or_default();
        same_name.retain(|c| c.strong_count() > 0);
        same_name.push(Arc::downgrade(&client));
        drop(clients);
        tracing::debug!(client = name, "memory client connected");
        client
    }

    /// Cuts every live client named `name` (see [`crate::MemoryTransport::cut`]);
    /// returns how many were connected before.
    pub fn cut(&self, name: &str) -> usize {
        let cut = self.clients_named(name).iter().filter(|c| c.cut()).count();
        self.wake_readers();
        cut
    }

    /// Reconnects every live client named `name` (see
    /// [`crate::MemoryTransport::reconnect`]); returns how many there were.
    pub fn reconnect(&self, name: &str) -> usize {
        let clients = self.clients_named(name);
        for c in &clients {
            c.reconnect();
        }
        clients.len()
    }

    /// Drops the oldest entries of `stream` until at most `keep_last` remain
    /// (like `XTRIM MAXLEN`); returns how many were dropped. The stream
    /// keeps its last id, so later ids still grow. A missing stream is left
    /// alone.
    pub fn trim(&self, stream: &str, keep_last: usize) -> usize {
        let mut data = self.inner.data.lock();
        let dropped = data
            .streams
            .get_mut(stream)
            .map_or(0, |s| s.trim_to(keep_last));
        drop(data);
        tracing::debug!(stream, keep_last, dropped, "memory stream trimmed");
        dropped
    }

    /// Drops every stream, liveness set and record hash, as if Redis had been replaced by an empty server
    /// (the append counters of [`MemoryHub::appends`] are kept). Ids of
    /// re-created streams restart from the clock alone: they are always
    /// greater than `0-0` but, as with a real empty Redis, may be lower than
    /// (or equal to) ids that readers still hold, for instance when tokio
    /// time has not advanced since the old entries. Such readers then see
    /// nothing new until ids pass their position; detecting this through
    /// `bounds` (and the link) is the caller's job.
    ///
    /// Clients stay connected and their links do not change; use
    /// [`MemoryHub::restart`] to also simulate the reconnect.
    pub fn clear(&self) {
        let dropped = {
            let mut data = self.inner.data.lock();
            let n = data.streams.len();
            data.streams.clear();
            data.alive.clear();
            data.records.clear();
            n
        };
        tracing::debug!(streams = dropped, "memory hub cleared");
        self.wake_readers();
    }

    /// Simulates the server restarting empty while clients ride through it:
    /// [`MemoryHub::clear`], then every connected client's link reports one
    /// more reconnect (it stays `connected: true`). Blocked reads are not
    /// failed: as measured with fred against a real restart, the client
    /// re-sends the blocked read, which then waits on the empty server. Cut
    /// clients stay cut.
    pub fn restart(&self) {
        self.clear();
        let clients: Vec<Arc<ClientShared>> = {
            let clients = self.inner.clients.lock();
            clients
                .values()
                .flatten()
                .filter_map(Weak::upgrade)
                .collect()
        };
        for c in clients.iter().filter(|c| c.is_connected()) {
            c.reconnect();
        }
        tracing::debug!(clients = clients.len(), "memory hub restarted");
    }

    /// Appends an entry with arbitrary fields to `stream`, without trimming
    /// and regardless of any client's link: for tests that inject malformed
    /// or foreign entries. It counts in [`MemoryHub::appends`] and wakes
    /// blocked readers like any append.
    pub fn xadd_raw(&self, stream: &str, fields: Vec<(String, Bytes)>) -> StreamId {
        let ids = self.append(stream, vec![fields], None);
        // `append` returns exactly one id per entry given, and one was given.
        ids.first().copied().unwrap_or_default()
    }

    /// How many entries `stream` holds now (0 when it does not exist).
    pub fn len(&self, stream: &str) -> usize {
        self.inner
            .data
            .lock()
            .streams
            .get(stream)
            .map_or(0, Stream::len)
    }

    /// Whether `stream` holds no entry (or does not exist).
    pub fn is_empty(&self, stream: &str) -> bool {
        self.len(stream) == 0
    }

    /// A copy of every entry `stream` holds, oldest first (empty when it
    /// does not exist).
    pub fn entries(&self, stream: &str) -> Vec<StreamEntry> {
        self.inner
            .data
            .lock()
            .streams
            .get(stream)
            .map(Stream::entries)
            .unwrap_or_default()
    }

    /// The names of the streams that exist now, sorted. A stream exists from
    /// its first append until [`MemoryHub::clear`], even when trimmed empty.
    pub fn streams(&self) -> Vec<String> {
        let mut names: Vec<String> = self.inner.data.lock().streams.keys().cloned().collect();
        names.sort();
        names
    }

    /// Total appends ever made to streams whose name starts with `prefix`,
    /// including entries since trimmed or cleared and entries injected with
    /// [`MemoryHub::xadd_raw`]. Lets a test prove that nothing was written,
    /// e.g. `hub.appends("fleet:events:") == 0`.
    pub fn appends(&self, prefix: &str) -> u64 {
        self.inner
            .data
            .lock()
            .appends
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(_, n)| *n)
            .sum()
    }

    /// Transport calls (appends, batches, bounds, counts, reads, liveness
    /// and record calls) made so far by the live clients named `name` and
    /// their readers: what one daemon costs the log, counted like Redis
    /// counts commands.
    pub fn calls(&self, name: &str) -> u64 {
        self.clients_named(name).iter().map(|c| c.calls()).sum()
    }

    /// The members of liveness set `key` with their deadlines (ms on the
    /// id clock), sorted by name.
    pub fn alive(&self, key: &str) -> Vec<(String, u64)> {
        let mut members: Vec<(String, u64)> = self
            .inner
            .data
            .lock()
            .alive
            .get(key)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        members.sort();
        members
    }

    /// The live clients named `name`.
    fn clients_named(&self, name: &str) -> Vec<Arc<ClientShared>> {
        self.inner
            .clients
            .lock()
            .get(name)
            .map(|v| v.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default()
    }

    /// The id clock: [`ID_BASE_MS`] plus tokio milliseconds since creation.
    /// It is also the clock of liveness deadlines, as Redis' `TIME` is.
    pub fn now_ms(&self) -> u64 {
        let elapsed = Instant::now().saturating_duration_since(self.inner.origin);
        let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        ID_BASE_MS.saturating_add(ms)
    }

    /// Appends `entries` to `stream` in order under one lock (so they are
    /// contiguous), trims to `max_len` if given, and wakes blocked readers.
    pub(crate) fn append(
        &self,
        stream: &str,
        entries: Vec<Vec<(String, Bytes)>>,
        max_len: Option<usize>,
    ) -> Vec<StreamId> {
        if entries.is_empty() {
            return Vec::new();
        }
        let now_ms = self.now_ms();
        let added = entries.len() as u64;
        let ids = {
            let mut data = self.inner.data.lock();
            *data.appends.entry(stream.to_owned()).or_default() += added;
            let s = data.streams.entry(stream.to_owned()).or_default();
            let ids: Vec<StreamId> = entries.into_iter().map(|f| s.push(now_ms, f)).collect();
            if let Some(max_len) = max_len {
                s.trim_to(max_len);
            }
            ids
        };
        tracing::trace!(stream, entries = ids.len(), "memory stream appended");
        self.wake_readers();
        ids
    }

    /// For each `(stream, id)` in order, up to `count` entries after `id`
    /// (all when 0); streams without such entries are left out. One lock,
    /// so the answer is one consistent state.
    pub(crate) fn read(&self, from: &[(String, StreamId)], count: usize) -> Vec<StreamBatch> {
        let data = self.inner.data.lock();
        from.iter()
            .filter_map(|(name, after)| {
                let entries = data.streams.get(name)?.read_after(*after, count);
                (!entries.is_empty()).then(|| (name.clone(), entries))
            })
            .collect()
    }

    /// One beat on liveness set `key` (see `PeerTransport::alive_beat`),
    /// under one lock, as the Redis script runs atomically.
    pub(crate) fn alive_beat(
        &self,
        key: &str,
        member: &str,
        ttl_ms: u64,
        since_ms: u64,
    ) -> model::AliveBeat {
        let now_ms = self.now_ms();
        let prune = u64::try_from(model::ALIVE_PRUNE.as_millis()).unwrap_or(u64::MAX);
        let mut data = self.inner.data.lock();
        let set = data.alive.entry(key.to_owned()).or_default();
        let was_alive = set.get(member).is_some_and(|d| *d > now_ms);
        set.insert(member.to_owned(), now_ms.saturating_add(ttl_ms));
        let mut expired: Vec<(String, u64)> = set
            .iter()
            .filter(|(_, d)| **d > since_ms && **d <= now_ms)
            .map(|(m, d)| (m.clone(), *d))
            .collect();
        expired.sort_by_key(|(m, d)| (*d, m.clone()));
        set.retain(|_, d| d.saturating_add(prune) >= now_ms);
        model::AliveBeat {
            now_ms,
            was_alive,
            expired,
        }
    }

    /// Every member of liveness set `key` and the clock.
    pub(crate) fn alive_set(&self, key: &str) -> model::AliveSet {
        model::AliveSet {
            now_ms: self.now_ms(),
            members: self.alive(key),
        }
    }

    /// Removes `member` from liveness set `key`.
    pub(crate) fn alive_remove(&self, key: &str, member: &str) {
        if let Some(set) = self.inner.data.lock().alive.get_mut(key) {
            set.remove(member);
        }
    }

    /// Sets `field` of record hash `key`.
    pub(crate) fn put_record(&self, key: &str, field: &str, value: Bytes) {
        self.inner
            .data
            .lock()
            .records
            .entry(key.to_owned())
            .or_default()
            .insert(field.to_owned(), value);
    }

    /// Every field of record hash `key`, sorted.
    pub(crate) fn records(&self, key: &str) -> Vec<(String, Bytes)> {
        let mut out: Vec<(String, Bytes)> = self
            .inner
            .data
            .lock()
            .records
            .get(key)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Removes `field` from record hash `key`.
    pub(crate) fn remove_record(&self, key: &str, field: &str) {
        if let Some(h) = self.inner.data.lock().records.get_mut(key) {
            h.remove(field);
        }
    }

    /// Entries held and ever added, `None` when the stream does not exist.
    pub(crate) fn counts(&self, stream: &str) -> Option<StreamCounts> {
        self.inner
            .data
            .lock()
            .streams
            .get(stream)
            .map(|s| StreamCounts {
                length: s.len() as u64,
                entries_added: s.added(),
            })
    }

    /// The oldest and newest ids of `stream`, `None` when empty or missing.
    pub(crate) fn bounds(&self, stream: &str) -> Option<(StreamId, StreamId)> {
        self.inner.data.lock().streams.get(stream)?.bounds()
    }

    /// What blocked readers wait on. A reader must create and `enable` its
    /// `Notified` before checking for entries, so no wake-up is missed.
    pub(crate) fn changed(&self) -> &Notify {
        &self.inner.changed
    }

    /// Wakes every blocked reader so it re-checks its streams and its link.
    pub(crate) fn wake_readers(&self) {
        self.inner.changed.notify_waiters();
    }
}

//! [`DaemonCache`]: the one place every read is answered from, and the
//! source of the change feed. Writes take one lock, update the state and
//! publish the change with its sequence number, so a snapshot and the feed
//! never disagree.

use crate::computers::{PeerEntry, differs};
use crate::config::CacheConfig;
use crate::feed::{Feed, FeedEvent, RingLimits};
use crate::interest::InterestTable;
use crate::json;
use crate::preparation::PreparationTable;
use crate::sessions::{Applied, SessionRecord, SessionTable};
use model::protocol::SessionClosed;
use model::{Clock, Computer, ComputerStats, EventName, Interest, Metrics, Project, Session, Todo};
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// The whole fleet's state, as this daemon knows it.
///
/// Cheap to clone (an `Arc`); share one between the API, the local store
/// and the peer protocol.
///
/// ```
/// use cache_core::{CacheConfig, DaemonCache};
/// use model::{Computer, Interest, SystemClock, Timestamp, Topic, ComputerFilter};
/// use std::sync::Arc;
///
/// let me = Computer {
///     name: "alpha".into(), online: true, is_self: true, host: "alpha".into(),
///     user: "me".into(), version: model::VERSION.into(), boot_id: "b1".into(),
///     started_at: Timestamp::from_millis(0), last_seen: Timestamp::from_millis(0),
///     remote_writes: false, stats: None,
///     interest: Interest::default(),
/// };
/// let cache = DaemonCache::new(me, CacheConfig::default(), Arc::new(SystemClock));
/// let guard = cache.watch(Topic::Sessions, &ComputerFilter::All);
/// assert_eq!(cache.interest().sessions, vec!["*".to_string()]);
/// drop(guard);
/// assert!(cache.interest().is_empty());
/// assert_eq!(&cache.sessions_json(None)[..], b"[]");
/// ```
#[derive(Clone)]
pub struct DaemonCache {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: CacheConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) epoch: String,
    pub(crate) local: String,
    pub(crate) state: RwLock<State>,
    pub(crate) interest: Mutex<InterestTable>,
    pub(crate) interest_tx: watch::Sender<Interest>,
    /// The remote computers whose watched preparation data the last sweep
    /// found past its TTL (see `sweep.rs`).
    pub(crate) due_tx: watch::Sender<Vec<String>>,
    pub(crate) metrics: Option<Arc<Metrics>>,
}

pub(crate) struct State {
    pub(crate) feed: Feed,
    pub(crate) me: Computer,
    pub(crate) sessions: SessionTable,
    pub(crate) peers: BTreeMap<String, PeerEntry>,
    pub(crate) preparation: PreparationTable,
}

impl State {
    pub(crate) fn publish(
        &mut self,
        metrics: Option<&Metrics>,
        event: EventName,
        computer: &str,
        data: bytes::Bytes,
        rev: Option<u64>,
    ) -> Arc<FeedEvent> {
        if let Some(m) = metrics {
            m.changes_published.inc();
        }
        self.feed.publish(event, computer, data, rev)
    }
}

impl std::fmt::Debug for DaemonCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaemonCache")
            .field("local", &self.inner.local)
            .field("epoch", &self.inner.epoch)
            .finish_non_exhaustive()
    }
}

impl DaemonCache {
    /// A cache for the computer `me` (its `boot_id` becomes the feed's epoch).
    pub fn new(me: Computer, config: CacheConfig, clock: Arc<dyn Clock>) -> Self {
        Self::build(me, config, clock, None)
    }

    /// Like [`DaemonCache::new`], counting into the daemon's metrics.
    pub fn with_metrics(
        me: Computer,
        config: CacheConfig,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self::build(me, config, clock, Some(metrics))
    }

    fn build(
        mut me: Computer,
        config: CacheConfig,
        clock: Arc<dyn Clock>,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        me.online = true;
        me.is_self = true;
        me.interest = Interest::default();
        let feed = Feed::new(
            &me.boot_id,
            RingLimits {
                events: config.replay_capacity,
                bytes: config.replay_max_bytes,
            },
            config.channel_capacity,
        );
        let (interest_tx, _) = watch::channel(Interest::default());
        let (due_tx, _) = watch::channel(Vec::new());
        let sessions = SessionTable::new(config.stale_retention);
        Self {
            inner: Arc::new(Inner {
                epoch: me.boot_id.clone(),
                local: me.name.clone(),
                config,
                clock,
                state: RwLock::new(State {
                    feed,
                    me,
                    sessions,
                    peers: BTreeMap::new(),
                    preparation: PreparationTable::default(),
                }),
                interest: Mutex::new(InterestTable::default()),
                interest_tx,
                due_tx,
                metrics,
            }),
        }
    }

    /// The feed's epoch: this daemon's boot id.
    pub fn epoch(&self) -> &str {
        &self.inner.epoch
    }

    /// This computer's name.
    pub fn local_name(&self) -> &str {
        &self.inner.local
    }

    /// The clock the cache judges time by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &CacheConfig {
        &self.inner.config
    }

    fn metrics(&self) -> Option<&Metrics> {
        self.inner.metrics.as_deref()
    }

    // ---- sessions -------------------------------------------------------

    /// Applies a session's new state: stored and published when it is newer
    /// than the held one (by `rev`), ignored otherwise. A `closed` status
    /// removes the session.
    pub fn put_session(&self, session: Session) -> Applied {
        // Serialized before the lock: it is the record, and what
        // `classify` compares.
        let record = SessionRecord::new(&session);
        let mut st = self.inner.state.write();
        let applied = st.sessions.classify(&record);
        match applied {
            Applied::Started | Applied::Updated => {
                let event = if applied == Applied::Started {
                    EventName::SessionStarted
                } else {
                    EventName::SessionUpdated
                };
                let (rev, data) = (record.rev, record.json.clone());
                st.sessions.insert(record);
                st.publish(self.metrics(), event, &session.computer, data, Some(rev));
            }
            Applied::Closed => {
                st.sessions.remove(&session.session_id, session.rev);
                let data = SessionClosed::encode(&session.session_id, &session.computer);
                st.publish(
                    self.metrics(),
                    EventName::SessionClosed,
                    &session.computer,
                    data,
                    Some(session.rev),
                );
            }
            Applied::Unchanged | Applied::Outdated => {}
        }
        applied
    }

    /// Removes a session that ended at revision `rev` (the owner's), unless
    /// the cache already holds a newer state.
    pub fn close_session(&self, computer: &str, session_id: &str, rev: u64) -> Applied {
        let mut st = self.inner.state.write();
        match st.sessions.get(session_id) {
            Some(held) if held.rev > rev || &*held.computer != computer => {
                return Applied::Outdated;
            }
            Some(_) => {}
            None => return Applied::Outdated,
        }
        st.sessions.remove(session_id, rev);
        st.publish(
            self.metrics(),
            EventName::SessionClosed,
            computer,
            SessionClosed::encode(session_id, computer),
            Some(rev),
        );
        Applied::Closed
    }

    /// Replaces everything held about one computer's sessions with `sessions`
    /// (a snapshot from its owner): newer ones applied, missing ones closed.
    pub fn replace_sessions(&self, computer: &str, sessions: Vec<Session>) {
        let keep: std::collections::HashSet<String> =
            sessions.iter().map(|s| s.session_id.clone()).collect();
        let gone: Vec<(String, u64)> = {
            let st = self.inner.state.read();
            st.sessions
                .ids_of(computer)
                .into_iter()
                .filter(|id| !keep.contains(id))
                .filter_map(|id| st.sessions.get(&id).map(|r| (id, r.rev)))
                .collect()
        };
        for (id, rev) in gone {
            self.close_session(computer, &id, rev);
        }
        for s in sessions {
            if s.computer == computer {
                self.put_session(s);
            }
        }
    }

    // ---- preparation ----------------------------------------------------

    /// Stores a computer's projects, publishing `projects_updated` when they
    /// changed (and `todos_updated` with no todos for each project that went).
    pub fn set_projects(&self, computer: &str, projects: Vec<Project>) -> bool {
        let now = self.inner.clock.monotonic();
        let mut st = self.inner.state.write();
        let (changed, removed) = st.preparation.set_projects(computer, projects, now);
        if changed {
            let data = st.preparation.projects_event(computer);
            st.publish(
                self.metrics(),
                EventName::ProjectsUpdated,
                computer,
                data,
                None,
            );
            for path in removed {
                let data = st.preparation.todos_event(computer, &path);
                st.publish(
                    self.metrics(),
                    EventName::TodosUpdated,
                    computer,
                    data,
                    None,
                );
            }
        }
        changed
    }

    /// Stores a project's todos, publishing `todos_updated` when they changed.
    pub fn set_todos(&self, computer: &str, project_path: &str, todos: Vec<Todo>) -> bool {
        let now = self.inner.clock.monotonic();
        let mut st = self.inner.state.write();
        let changed = st.preparation.set_todos(computer, project_path, todos, now);
        if changed {
            let data = st.preparation.todos_event(computer, project_path);
            st.publish(
                self.metrics(),
                EventName::TodosUpdated,
                computer,
                data,
                None,
            );
        }
        changed
    }

    // ---- computers ------------------------------------------------------

    /// Records a heartbeat from a peer announcing `period`: online at once,
    /// `computer_online` when it was unknown or offline, `computer_updated`
    /// when anything but `last_seen` changed.
    pub fn peer_heartbeat(&self, mut computer: Computer, period: Duration) {
        if computer.name == self.inner.local {
            return;
        }
        let now = self.inner.clock.monotonic();
        computer.online = true;
        computer.is_self = false;
        computer.last_seen = self.inner.clock.now();
        let mut st = self.inner.state.write();
        let event = match st.peers.get(&computer.name) {
            None => Some(EventName::ComputerOnline),
            Some(e) if e.offline_since.is_some() => Some(EventName::ComputerOnline),
            Some(e) if differs(&e.computer, &computer) => Some(EventName::ComputerUpdated),
            Some(_) => None,
        };
        let was_offline = st
            .peers
            .get(&computer.name)
            .is_some_and(|e| e.offline_since.is_some());
        let entry = PeerEntry {
            computer,
            last_heard: now,
            period,
            offline_since: None,
        };
        let (name, data) = (entry.computer.name.clone(), entry.json());
        st.peers.insert(name.clone(), entry);
        if let Some(event) = event {
            st.publish(self.metrics(), event, &name, data, None);
        }
        if was_offline {
            set_stale(&mut st, self.metrics(), &name, false);
        }
    }

    /// Records this computer's load (the daemon decides when it moved
    /// enough): `computer_updated` for it when it changed; the next
    /// heartbeat carries it to the peers.
    pub fn set_local_stats(&self, stats: ComputerStats) -> bool {
        let mut st = self.inner.state.write();
        if st.me.stats == Some(stats) {
            return false;
        }
        st.me.stats = Some(stats);
        st.me.last_seen = self.inner.clock.now();
        let name = st.me.name.clone();
        let data = json::to_bytes(&st.me);
        st.publish(
            self.metrics(),
            EventName::ComputerUpdated,
            &name,
            data,
            None,
        );
        true
    }

    /// Marks a peer offline at once (it said `leave`, or was judged gone):
    /// `computer_offline`, and its sessions become `stale`.
    pub fn peer_offline(&self, name: &str) {
        let now = self.inner.clock.monotonic();
        let mut st = self.inner.state.write();
        mark_offline(&mut st, self.metrics(), name, now);
    }

    // ---- feed -----------------------------------------------------------

    /// A receiver of every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedEvent>> {
        self.inner.state.read().feed.subscribe()
    }

    /// The sequence number of the last published change.
    pub fn seq(&self) -> u64 {
        self.inner.state.read().feed.seq()
    }
}

/// Marks a peer offline and its sessions stale, publishing both.
pub(crate) fn mark_offline(
    st: &mut State,
    metrics: Option<&Metrics>,
    name: &str,
    now: tokio::time::Instant,
) {
    let Some(entry) = st.peers.get_mut(name) else {
        return;
    };
    if entry.offline_since.is_some() {
        return;
    }
    entry.offline_since = Some(now);
    entry.computer.online = false;
    let data = entry.json();
    st.publish(metrics, EventName::ComputerOffline, name, data, None);
    set_stale(st, metrics, name, true);
}

/// Marks every session of `name` stale (its owner went offline) or fresh
/// again (the owner is heard from once more: its feed resumes, or a
/// snapshot replaces what was held), publishing each that changed.
fn set_stale(st: &mut State, metrics: Option<&Metrics>, name: &str, stale: bool) {
    for id in st.sessions.ids_of(name) {
        let Some(held) = st.sessions.get(&id) else {
            continue;
        };
        if held.stale == stale {
            continue;
        }
        let Some(mut s) = held.session() else {
            tracing::error!(session_id = %id, stale, "cached session JSON does not decode; staleness not changed");
            continue;
        };
        s.stale = stale;
        let record = SessionRecord::new(&s);
        let (rev, data) = (record.rev, record.json.clone());
        st.sessions.insert(record);
        st.publish(metrics, EventName::SessionUpdated, name, data, Some(rev));
    }
}

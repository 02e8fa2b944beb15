//! Reads: list answers and snapshots, built from bytes serialized when each
//! record changed. Nothing here waits on anything but the state lock.

use crate::cache::{DaemonCache, State};
use crate::feed::{FeedEvent, Since};
use crate::json;
use crate::sessions::SessionRecord;
use bytes::Bytes;
use model::protocol::frames;
use model::{Computer, ComputerFilter, Topic};
use std::sync::Arc;

/// What a new subscription starts with.
#[derive(Debug)]
pub enum Opening {
    /// The whole current state of the topic: the `snapshot` frame.
    Snapshot {
        /// The sequence number the snapshot is at.
        seq: u64,
        /// The serialized `snapshot` frame.
        frame: Bytes,
    },
    /// The client's `since` could be served: the changes it missed, in order.
    Replay {
        /// The sequence number after the last replayed change.
        seq: u64,
        /// The missed changes of this topic and filter.
        events: Vec<Arc<FeedEvent>>,
    },
}

/// Counts of what the cache holds, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Sessions, local and remote.
    pub sessions: usize,
    /// Projects.
    pub projects: usize,
    /// Todos.
    pub todos: usize,
    /// Computers, this one included.
    pub computers: usize,
}

impl State {
    /// Computers in answer order: this one first, then peers by name.
    fn computers_in_order(&self, filter: &ComputerFilter, now: model::Timestamp) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.peers.len() + 1);
        if filter.matches(&self.me.name) {
            let mut me = self.me.clone();
            me.last_seen = now;
            out.push(json::to_bytes(&me));
        }
        out.extend(
            self.peers
                .values()
                .filter(|p| filter.matches(&p.computer.name))
                .map(|p| p.json()),
        );
        out
    }

    /// Computer names in answer order, for preparation lists.
    fn prep_computers(&self, filter: &ComputerFilter) -> Vec<String> {
        let mut names = self.preparation.computers();
        names.sort_by(|a, b| (a != &self.me.name, a).cmp(&(b != &self.me.name, b)));
        names.retain(|c| filter.matches(c));
        names
    }

    fn sessions_json(&self, filter: &ComputerFilter) -> Bytes {
        match filter {
            ComputerFilter::All => self.sessions.list_json(),
            ComputerFilter::Only(_) => json::array(
                self.sessions
                    .iter(None)
                    .filter(|r| filter.matches(&r.computer))
                    .map(|r| &r.json),
            ),
        }
    }

    fn projects_json(&self, filter: &ComputerFilter) -> Bytes {
        let names = self.prep_computers(filter);
        json::array(
            names
                .iter()
                .filter_map(|c| self.preparation.projects.get(c))
                .flat_map(|p| p.items.iter()),
        )
    }

    fn todos_json(&self, filter: &ComputerFilter, project: Option<&str>) -> Bytes {
        let names = self.prep_computers(filter);
        json::array(
            names
                .iter()
                .filter_map(|c| self.preparation.todos.get(c))
                .flat_map(|m| m.iter())
                .filter(|(path, _)| project.is_none_or(|p| p == path.as_str()))
                .flat_map(|(_, t)| t.items.iter()),
        )
    }

    fn projects_with_todos_json(&self, filter: &ComputerFilter) -> Bytes {
        let names = self.prep_computers(filter);
        let empty = json::array([]);
        let mut items = Vec::new();
        for c in &names {
            let Some(list) = self.preparation.projects.get(c) else {
                continue;
            };
            let todos = self.preparation.todos.get(c);
            for (project, item) in list.projects.iter().zip(&list.items) {
                let t = todos
                    .and_then(|m| m.get(&project.path))
                    .map_or_else(|| empty.clone(), |t| json::array(&t.items));
                items.push(json::extend_object(item, "todos", &t));
            }
        }
        json::array(&items)
    }

    fn snapshot_data(&self, topic: Topic, filter: &ComputerFilter, now: model::Timestamp) -> Bytes {
        match topic {
            Topic::Sessions => frames::sessions_data(&self.sessions_json(filter)),
            Topic::Preparation => frames::preparation_data(
                &self.projects_json(filter),
                &self.todos_json(filter, None),
            ),
            Topic::Computers => {
                frames::computers_data(&json::array(&self.computers_in_order(filter, now)))
            }
        }
    }
}

impl DaemonCache {
    /// `GET /v1/sessions`: every session (local and remote), newest activity
    /// first, optionally of one computer.
    pub fn sessions_json(&self, computer: Option<&str>) -> Bytes {
        self.inner
            .state
            .read()
            .sessions_json(&ComputerFilter::from_option(computer))
    }

    /// One session, by id.
    pub fn session(&self, session_id: &str) -> Option<Arc<SessionRecord>> {
        self.inner.state.read().sessions.get(session_id).cloned()
    }

    /// The computer that owned session `session_id` when it ended, while its
    /// tombstone lasts (the stale retention): a change of that id at a
    /// revision not above the end's is refused by the cache, so a new
    /// session under the same id would not be seen.
    pub fn ended_session_owner(&self, session_id: &str) -> Option<String> {
        self.inner.state.read().sessions.ended_owner(session_id)
    }

    /// `GET /v1/projects`.
    pub fn projects_json(&self, computer: Option<&str>) -> Bytes {
        self.inner
            .state
            .read()
            .projects_json(&ComputerFilter::from_option(computer))
    }

    /// `GET /v1/todos`, optionally of one project.
    pub fn todos_json(&self, computer: Option<&str>, project: Option<&str>) -> Bytes {
        self.inner
            .state
            .read()
            .todos_json(&ComputerFilter::from_option(computer), project)
    }

    /// `GET /v1/projects-with-todos`.
    pub fn projects_with_todos_json(&self, computer: Option<&str>) -> Bytes {
        self.inner
            .state
            .read()
            .projects_with_todos_json(&ComputerFilter::from_option(computer))
    }

    /// `GET /v1/computers`: this computer first, then peers by name.
    pub fn computers_json(&self) -> Bytes {
        let now = self.inner.clock.now();
        json::array(
            &self
                .inner
                .state
                .read()
                .computers_in_order(&ComputerFilter::All, now),
        )
    }

    /// Every computer known, this one first.
    pub fn computers(&self) -> Vec<Computer> {
        let now = self.inner.clock.now();
        let st = self.inner.state.read();
        let mut me = st.me.clone();
        me.last_seen = now;
        std::iter::once(me)
            .chain(st.peers.values().map(|p| p.computer.clone()))
            .collect()
    }

    /// How many peers are online now.
    pub fn online_peers(&self) -> usize {
        self.inner
            .state
            .read()
            .peers
            .values()
            .filter(|p| p.offline_since.is_none())
            .count()
    }

    /// The current data of a topic, as a snapshot frame's `data` holds it.
    pub fn snapshot_data(&self, topic: Topic, filter: &ComputerFilter) -> (u64, Bytes) {
        let now = self.inner.clock.now();
        let st = self.inner.state.read();
        (st.feed.seq(), st.snapshot_data(topic, filter, now))
    }

    /// Starts a subscription: the changes since `since` when the replay ring
    /// still holds them all and the epoch matches, else a snapshot. Events
    /// with a sequence number above the returned one follow on the feed.
    pub fn open(&self, topic: Topic, filter: &ComputerFilter, since: Option<&Since>) -> Opening {
        let now = self.inner.clock.now();
        let st = self.inner.state.read();
        let seq = st.feed.seq();
        if let Some(events) = since
            .filter(|s| s.epoch == self.inner.epoch)
            .and_then(|s| st.feed.replay(s.seq))
        {
            let events = events
                .into_iter()
                .filter(|e| e.topic() == topic && filter.matches(&e.computer))
                .collect();
            return Opening::Replay { seq, events };
        }
        let epoch = st.feed.epoch_json();
        // The sessions list is cached as one buffer: copy it once, into the
        // frame, rather than into `data` and then again into the frame.
        let frame = match topic {
            Topic::Sessions => {
                let list = st.sessions_json(filter);
                frames::snapshot_frame(topic, epoch, seq, &frames::sessions_data_parts(&list))
            }
            _ => {
                let data = st.snapshot_data(topic, filter, now);
                frames::snapshot_frame(topic, epoch, seq, &[&data])
            }
        };
        Opening::Snapshot { seq, frame }
    }

    /// What the cache holds, counted.
    pub fn counts(&self) -> CacheCounts {
        let st = self.inner.state.read();
        CacheCounts {
            sessions: st.sessions.len(),
            projects: st.preparation.project_count(),
            todos: st.preparation.todo_count(),
            computers: st.peers.len() + 1,
        }
    }
}

//! Projects and todos per computer, each list kept with its JSON and the
//! time it was fetched, so that unwatched remote data can expire.
//!
//! The TTL is kept by hand, not in a `moka` cache like the tombstones
//! (`sessions.rs`): past it, what happens depends on interest at that
//! moment (watched data is kept and pulled again, unwatched data is
//! dropped), and the watched case must be noticed on time, by the sweeper,
//! so that a client never watches data older than the TTL. moka can only
//! drop an entry, inside its own calls, by its own clock; here time is the
//! cache's `Clock`, which the tests pause and advance
//! (`unwatched_remote_preparation_expires_watched_is_due` in
//! `tests/cache.rs`, and `peer-sync`'s `tests/preparation.rs`).

use crate::json;
use bytes::Bytes;
use model::protocol::{ProjectsUpdated, TodosUpdated};
use model::{Project, Todo};
use std::collections::BTreeMap;
use tokio::time::Instant;

pub(crate) struct ProjectList {
    pub(crate) projects: Vec<Project>,
    pub(crate) items: Vec<Bytes>,
    pub(crate) fetched: Instant,
}

pub(crate) struct TodoList {
    pub(crate) todos: Vec<Todo>,
    pub(crate) items: Vec<Bytes>,
    pub(crate) fetched: Instant,
}

#[derive(Default)]
pub(crate) struct PreparationTable {
    pub(crate) projects: BTreeMap<String, ProjectList>,
    /// computer -> project path -> todos
    pub(crate) todos: BTreeMap<String, BTreeMap<String, TodoList>>,
}

impl PreparationTable {
    /// Stores a computer's projects; `false` when they equal what is held.
    /// Todos of projects that disappeared are dropped and their paths returned.
    pub(crate) fn set_projects(
        &mut self,
        computer: &str,
        projects: Vec<Project>,
        now: Instant,
    ) -> (bool, Vec<String>) {
        if let Some(held) = self.projects.get_mut(computer) {
            held.fetched = now;
            if held.projects == projects {
                return (false, Vec::new());
            }
        }
        let mut removed = Vec::new();
        if let Some(todos) = self.todos.get_mut(computer) {
            todos.retain(|path, _| {
                let keep = projects.iter().any(|p| &p.path == path);
                if !keep {
                    removed.push(path.clone());
                }
                keep
            });
        }
        let items = projects.iter().map(json::to_bytes).collect();
        self.projects.insert(
            computer.to_owned(),
            ProjectList {
                projects,
                items,
                fetched: now,
            },
        );
        (true, removed)
    }

    /// Stores a project's todos; `false` when they equal what is held.
    pub(crate) fn set_todos(
        &mut self,
        computer: &str,
        project_path: &str,
        todos: Vec<Todo>,
        now: Instant,
    ) -> bool {
        let per_computer = self.todos.entry(computer.to_owned()).or_default();
        if let Some(held) = per_computer.get_mut(project_path) {
            held.fetched = now;
            if held.todos == todos {
                return false;
            }
        }
        let items = todos.iter().map(json::to_bytes).collect();
        per_computer.insert(
            project_path.to_owned(),
            TodoList {
                todos,
                items,
                fetched: now,
            },
        );
        true
    }

    pub(crate) fn remove_computer(&mut self, computer: &str) {
        self.projects.remove(computer);
        self.todos.remove(computer);
    }

    /// When a computer's preparation data was last fetched (the oldest part).
    pub(crate) fn fetched(&self, computer: &str) -> Option<Instant> {
        let p = self.projects.get(computer).map(|p| p.fetched);
        let t = self
            .todos
            .get(computer)
            .and_then(|m| m.values().map(|t| t.fetched).min());
        match (p, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(crate) fn computers(&self) -> Vec<String> {
        let mut v: Vec<String> = self.projects.keys().cloned().collect();
        for c in self.todos.keys() {
            if !self.projects.contains_key(c) {
                v.push(c.clone());
            }
        }
        v
    }

    pub(crate) fn project_count(&self) -> usize {
        self.projects.values().map(|p| p.projects.len()).sum()
    }

    pub(crate) fn todo_count(&self) -> usize {
        self.todos
            .values()
            .flat_map(|m| m.values())
            .map(|t| t.todos.len())
            .sum()
    }

    /// The JSON of `projects_updated` for a computer.
    pub(crate) fn projects_event(&self, computer: &str) -> Bytes {
        let items = self.projects.get(computer).map_or(&[][..], |p| &p.items);
        ProjectsUpdated::encode(computer, items)
    }

    /// The JSON of `todos_updated` for a project.
    pub(crate) fn todos_event(&self, computer: &str, project_path: &str) -> Bytes {
        let items = self
            .todos
            .get(computer)
            .and_then(|m| m.get(project_path))
            .map_or(&[][..], |t| &t.items);
        TodosUpdated::encode(computer, project_path, items)
    }
}

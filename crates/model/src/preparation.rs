//! A change to one computer's preparation data (its projects and their
//! todos), as the daemon's project watcher, a rescan or the start-up scan
//! reports it. `local-store` produces these; `cache-core` writes them with
//! `DaemonCache::write_preparation`, the one function that writes
//! preparation data read from disk into the cache.

use crate::{Project, Todo};

/// A change to a computer's projects or todos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreparationUpdate {
    /// The whole, new list of projects (sorted by path).
    Projects(Vec<Project>),
    /// The whole, new list of todos of one project (empty when the project
    /// lost its roadmap or stopped being a project).
    Todos {
        /// The project's path, as in [`Project::path`].
        project_path: String,
        /// Its todos, in roadmap order.
        todos: Vec<Todo>,
    },
}

/// Projects and, for each project path, its todos: the whole preparation
/// state of a computer.
pub type PreparationState = (Vec<Project>, Vec<(String, Vec<Todo>)>);

impl PreparationUpdate {
    /// The updates that write a whole state: the projects first, then each
    /// project's todos.
    pub fn all((projects, todos): PreparationState) -> impl Iterator<Item = Self> {
        std::iter::once(Self::Projects(projects)).chain(todos.into_iter().map(
            |(project_path, todos)| Self::Todos {
                project_path,
                todos,
            },
        ))
    }
}

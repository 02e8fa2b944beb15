//! The watcher's state and the blocking work of one burst: working out
//! which projects and todos a set of event paths touched, rescanning them,
//! and keeping the set of watches in step with the projects.

use super::{Batch, PreparationState, PreparationUpdate};
use crate::projects::{self, ProjectsConfig, Skipped};
use crate::todos;
use model::{Project, Todo};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};

/// The watcher's state; all its methods block on the file system.
pub(super) struct Engine {
    computer: String,
    cfg: ProjectsConfig,
    watcher: RecommendedWatcher,
    /// What is being watched now, and how.
    watched: BTreeMap<PathBuf, RecursiveMode>,
    /// Paths whose watch failed, logged once until they succeed.
    unwatchable: HashSet<PathBuf>,
    /// The existing roots, canonical.
    roots: Vec<PathBuf>,
    /// Configured paths that do not exist yet, under their watched parent.
    awaited: BTreeSet<PathBuf>,
    /// The projects last reported.
    projects: Vec<Project>,
    /// The todos last reported, by project path.
    todos: BTreeMap<String, Vec<Todo>>,
    /// What the last scan skipped (each logged once, when first seen).
    skipped: HashSet<Skipped>,
}

impl Engine {
    pub(super) fn new(computer: String, cfg: ProjectsConfig, watcher: RecommendedWatcher) -> Self {
        Self {
            computer,
            cfg,
            watcher,
            watched: BTreeMap::new(),
            unwatchable: HashSet::new(),
            roots: Vec::new(),
            awaited: BTreeSet::new(),
            projects: Vec::new(),
            todos: BTreeMap::new(),
            skipped: HashSet::new(),
        }
    }

    /// Scans, watches, and scans again: whatever changed before the
    /// watches were in place is in the second scan, whatever changes after
    /// produces events.
    pub(super) fn initial_scan(&mut self) -> PreparationState {
        self.rescan_projects();
        self.sync_watches();
        self.rescan_projects();
        self.sync_watches();
        let todos: Vec<(String, Vec<Todo>)> = self
            .projects
            .iter()
            .map(|p| {
                (
                    p.path.clone(),
                    todos::read_todos_counted(&self.computer, Path::new(&p.path), &self.cfg.skips),
                )
            })
            .collect();
        self.todos = todos.iter().cloned().collect();
        (self.projects.clone(), todos)
    }

    /// Works out what a burst touched and returns the updates to send.
    pub(super) fn apply(&mut self, batch: Batch) -> Vec<PreparationUpdate> {
        for path in &batch.moved {
            if self.watched.remove(path).is_some() {
                // The watch died with the directory; sync adds it again if
                // the path exists now. An error only means it is gone.
                let _ = self.watcher.unwatch(path);
            }
        }
        let (projects_dirty, mut todos_dirty) = if batch.rescan {
            let all = self.projects.iter().map(|p| p.path.clone()).collect();
            (true, all)
        } else {
            self.classify(&batch.paths)
        };

        let mut out = Vec::new();
        if projects_dirty {
            let before: BTreeSet<String> = self.projects.iter().map(|p| p.path.clone()).collect();
            if self.rescan_projects() {
                out.push(PreparationUpdate::Projects(self.projects.clone()));
            }
            let after: BTreeSet<String> = self.projects.iter().map(|p| p.path.clone()).collect();
            todos_dirty.extend(after.difference(&before).cloned());
            for gone in before.difference(&after) {
                if self.todos.remove(gone).is_some_and(|t| !t.is_empty()) {
                    out.push(PreparationUpdate::Todos {
                        project_path: gone.clone(),
                        todos: Vec::new(),
                    });
                }
            }
        }
        if projects_dirty || !batch.moved.is_empty() {
            self.sync_watches();
        }
        for path in todos_dirty {
            if !self.projects.iter().any(|p| p.path == path) {
                continue;
            }
            let todos =
                todos::read_todos_counted(&self.computer, Path::new(&path), &self.cfg.skips);
            let last = self.todos.get(&path).map_or(&[][..], Vec::as_slice);
            if last != todos.as_slice() {
                self.todos.insert(path.clone(), todos.clone());
                out.push(PreparationUpdate::Todos {
                    project_path: path,
                    todos,
                });
            }
        }
        out
    }

    /// Whether the paths touch the project list, and whose todos they touch.
    fn classify(&self, paths: &BTreeSet<PathBuf>) -> (bool, BTreeSet<String>) {
        let mut projects_dirty = false;
        let mut todos_dirty = BTreeSet::new();
        for path in paths {
            for project in &self.projects {
                let Ok(rel) = path.strip_prefix(&project.path) else {
                    continue;
                };
                let mut parts = rel.components();
                match parts.next() {
                    // The project directory itself (removed, renamed).
                    None => projects_dirty = true,
                    Some(Component::Normal(first)) => {
                        let first = first.to_str().unwrap_or("");
                        let direct = parts.next().is_none();
                        if first == "todos" {
                            todos_dirty.insert(project.path.clone());
                        }
                        if direct && is_project_file(first) {
                            projects_dirty = true;
                        }
                    }
                    Some(_) => {}
                }
            }
            if self.awaited.contains(path) || self.touches_root(path) {
                projects_dirty = true;
            }
        }
        (projects_dirty, todos_dirty)
    }

    /// A root, a root's entry, or a root entry's `.git` or `todos`.
    fn touches_root(&self, path: &Path) -> bool {
        let parent = path.parent();
        let grandparent = parent.and_then(Path::parent);
        let name = path.file_name().and_then(|n| n.to_str());
        self.roots.iter().any(|root| {
            path == root
                || parent == Some(root)
                || (grandparent == Some(root) && matches!(name, Some(".git" | "todos")))
        })
    }

    /// Rescans the projects; true if the list changed. Logs each skip the
    /// first time it is seen.
    fn rescan_projects(&mut self) -> bool {
        let scan = projects::scan(&self.computer, &self.cfg);
        let skipped: HashSet<Skipped> = scan.skipped.into_iter().collect();
        for s in skipped.difference(&self.skipped) {
            s.log(&self.cfg.skips);
        }
        self.skipped = skipped;
        let changed = scan.projects != self.projects;
        self.projects = scan.projects;
        changed
    }

    /// Makes the watches match the current roots and projects.
    fn sync_watches(&mut self) {
        let mut want: BTreeMap<PathBuf, RecursiveMode> = BTreeMap::new();
        let mut roots = Vec::new();
        let mut awaited = BTreeSet::new();
        for root in &self.cfg.roots {
            match std::fs::canonicalize(root) {
                Ok(r) if r.is_dir() => {
                    add(&mut want, r.clone(), RecursiveMode::NonRecursive);
                    // Unreadable roots and entries are logged by the scan.
                    for entry in std::fs::read_dir(&r).into_iter().flatten().flatten() {
                        let p = entry.path();
                        if p.is_dir() {
                            let p = std::fs::canonicalize(&p).unwrap_or(p);
                            add(&mut want, p, RecursiveMode::NonRecursive);
                        }
                    }
                    roots.push(r);
                }
                _ => await_path(root, &mut want, &mut awaited),
            }
        }
        for p in &self.cfg.projects {
            if std::fs::canonicalize(p).is_err() {
                await_path(p, &mut want, &mut awaited);
            }
        }
        for project in &self.projects {
            let dir = PathBuf::from(&project.path);
            let todos = dir.join("todos");
            if todos.is_dir() {
                add(&mut want, todos, RecursiveMode::Recursive);
            }
            add(&mut want, dir, RecursiveMode::NonRecursive);
        }
        self.roots = roots;
        self.awaited = awaited;

        let stale: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(p, mode)| want.get(*p) != Some(*mode))
            .map(|(p, _)| p.clone())
            .collect();
        for p in stale {
            self.watched.remove(&p);
            // An error only means the path is already gone.
            let _ = self.watcher.unwatch(&p);
        }
        for (p, mode) in want {
            if self.watched.contains_key(&p) {
                continue;
            }
            match self.watcher.watch(&p, mode) {
                Ok(()) => {
                    self.unwatchable.remove(&p);
                    self.watched.insert(p, mode);
                }
                Err(e) => {
                    if self.unwatchable.insert(p.clone()) {
                        tracing::warn!(
                            path = %p.display(),
                            error = %e,
                            reason = "cannot watch",
                            "changes under path not seen"
                        );
                    }
                }
            }
        }
    }
}

/// Whether a file directly in a project can change its record (whether it
/// is a project, its description).
fn is_project_file(name: &str) -> bool {
    matches!(name, ".git" | "todos") || projects::README_NAMES.contains(&name)
}

/// Adds a watch to `want`; recursive wins over non-recursive.
fn add(want: &mut BTreeMap<PathBuf, RecursiveMode>, p: PathBuf, mode: RecursiveMode) {
    let entry = want.entry(p).or_insert(mode);
    if mode == RecursiveMode::Recursive {
        *entry = mode;
    }
}

/// Watches the parent of a configured path that does not exist yet, and
/// remembers the path as its parent's events will name it.
fn await_path(
    p: &Path,
    want: &mut BTreeMap<PathBuf, RecursiveMode>,
    awaited: &mut BTreeSet<PathBuf>,
) {
    let (Some(parent), Some(name)) = (p.parent(), p.file_name()) else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    if let Ok(parent) = std::fs::canonicalize(parent)
        && parent.is_dir()
    {
        awaited.insert(parent.join(name));
        want.entry(parent).or_insert(RecursiveMode::NonRecursive);
    }
}

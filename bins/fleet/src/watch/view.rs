//! What each tab lists, after the filter: rows of group headers (one per computer) and
//! items (sessions, projects, todos, computers). Both the key handling (how far the
//! cursor may move) and the rendering read these, so they always agree.

use crate::watch::fleet::Fleet;
use model::{Computer, Project, Session, SessionStatus, Todo, TodoStatus};

/// A computer's header in a grouped list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Group<'a> {
    /// The computer's name.
    pub name: &'a str,
    /// Its record, once known.
    pub computer: Option<&'a Computer>,
    /// How many items of the group are listed.
    pub count: usize,
}

/// A row of the Sessions tab.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SessionRow<'a> {
    /// A computer's header.
    Group(Group<'a>),
    /// A session.
    Session(&'a Session),
    /// A computer without sessions.
    Empty,
}

/// A row of the Preparation tab.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PrepRow<'a> {
    /// A computer's header.
    Group(Group<'a>),
    /// A project, with the counts of its todos by status.
    Project(&'a Project, TodoCounts),
    /// A todo of the project above.
    Todo(&'a Todo),
    /// A computer without projects.
    Empty,
}

/// How many todos of a project are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TodoCounts {
    /// `- [ ]`
    pub pending: usize,
    /// `- [.]`
    pub ready: usize,
    /// `- [>]`
    pub in_progress: usize,
    /// `- [x]`
    pub done: usize,
}

impl TodoCounts {
    fn of(todos: &[&Todo]) -> Self {
        let mut c = Self::default();
        for t in todos {
            match t.status {
                TodoStatus::Pending => c.pending += 1,
                TodoStatus::Ready => c.ready += 1,
                TodoStatus::InProgress => c.in_progress += 1,
                TodoStatus::Done => c.done += 1,
            }
        }
        c
    }

    /// All of them.
    pub fn total(&self) -> usize {
        self.pending + self.ready + self.in_progress + self.done
    }
}

impl SessionRow<'_> {
    /// Whether the cursor can rest on it.
    pub fn selectable(&self) -> bool {
        matches!(self, Self::Session(_))
    }
}

impl PrepRow<'_> {
    /// Whether the cursor can rest on it.
    pub fn selectable(&self) -> bool {
        matches!(self, Self::Project(..) | Self::Todo(_))
    }
}

/// A case-insensitive filter; empty matches everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter(String);

impl Filter {
    /// A filter for `text` (compared case-insensitively).
    pub fn new(text: &str) -> Self {
        Self(text.trim().to_lowercase())
    }

    /// Whether it lets everything through.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any of `fields` contains the filter.
    pub fn matches<'s>(&self, fields: impl IntoIterator<Item = &'s str>) -> bool {
        self.0.is_empty()
            || fields
                .into_iter()
                .any(|f| f.to_lowercase().contains(&self.0))
    }
}

fn session_matches(filter: &Filter, s: &Session) -> bool {
    let stale = if s.stale { "stale" } else { "" };
    filter.matches([
        s.computer.as_str(),
        s.title.as_str(),
        s.project_path.as_deref().unwrap_or(""),
        s.agent.as_str(),
        s.status.as_str(),
        s.last_input.as_deref().unwrap_or(""),
        s.last_output.as_deref().unwrap_or(""),
        s.session_id.as_str(),
        stale,
    ])
}

/// The Sessions tab: per computer, a header and its sessions, newest activity first.
/// Without a filter every computer is listed, even with no session; with one, only the
/// computers with a matching session (or whose name matches: then all its sessions).
pub fn session_rows<'a>(fleet: &'a Fleet, filter: &Filter) -> Vec<SessionRow<'a>> {
    let mut rows = Vec::new();
    for name in fleet.computer_names() {
        let all = fleet.sessions_of(name);
        let listed: Vec<&Session> = if filter.matches([name]) {
            all
        } else {
            all.into_iter()
                .filter(|s| session_matches(filter, s))
                .collect()
        };
        if listed.is_empty() && !filter.is_empty() {
            continue;
        }
        rows.push(SessionRow::Group(Group {
            name,
            computer: fleet.computer(name),
            count: listed.len(),
        }));
        if listed.is_empty() {
            rows.push(SessionRow::Empty);
        }
        rows.extend(listed.into_iter().map(SessionRow::Session));
    }
    rows
}

/// The Preparation tab: per computer, a header, then each project with its todos. A
/// project whose own fields match the filter shows all its todos; otherwise only the
/// matching todos (and the project, when any matches).
pub fn preparation_rows<'a>(fleet: &'a Fleet, filter: &Filter) -> Vec<PrepRow<'a>> {
    let mut rows = Vec::new();
    for name in fleet.computer_names() {
        let computer_matches = filter.matches([name]);
        let mut group: Vec<PrepRow<'a>> = Vec::new();
        for project in fleet.projects_of(name) {
            let todos = fleet.todos_of(project);
            let counts = TodoCounts::of(&todos);
            let project_matches = computer_matches
                || filter.matches([
                    project.name.as_str(),
                    project.path.as_str(),
                    project.description.as_deref().unwrap_or(""),
                ]);
            let listed: Vec<&Todo> = if project_matches {
                todos
            } else {
                todos
                    .into_iter()
                    .filter(|t| {
                        filter.matches([
                            t.slug.as_str(),
                            t.description.as_deref().unwrap_or(""),
                            todo_status_word(t.status),
                        ])
                    })
                    .collect()
            };
            if !project_matches && listed.is_empty() {
                continue;
            }
            group.push(PrepRow::Project(project, counts));
            group.extend(listed.into_iter().map(PrepRow::Todo));
        }
        let count = group
            .iter()
            .filter(|r| matches!(r, PrepRow::Project(..)))
            .count();
        if count == 0 && !filter.is_empty() {
            continue;
        }
        rows.push(PrepRow::Group(Group {
            name,
            computer: fleet.computer(name),
            count,
        }));
        if group.is_empty() {
            rows.push(PrepRow::Empty);
        }
        rows.extend(group);
    }
    rows
}

/// The Computers tab: every computer matching the filter (name, host, user, version,
/// `online`/`offline`).
pub fn computer_rows<'a>(fleet: &'a Fleet, filter: &Filter) -> Vec<&'a Computer> {
    fleet
        .computers()
        .iter()
        .filter(|c| {
            filter.matches([
                c.name.as_str(),
                c.host.as_str(),
                c.user.as_str(),
                c.version.as_str(),
                if c.online { "online" } else { "offline" },
            ])
        })
        .collect()
}

/// A todo status as words.
pub fn todo_status_word(status: TodoStatus) -> &'static str {
    match status {
        TodoStatus::Pending => "pending",
        TodoStatus::Ready => "ready",
        TodoStatus::InProgress => "in progress",
        TodoStatus::Done => "done",
    }
}

/// A todo status as its roadmap box: `[ ]`, `[.]`, `[>]`, `[x]`.
pub fn todo_status_box(status: TodoStatus) -> &'static str {
    match status {
        TodoStatus::Pending => "[ ]",
        TodoStatus::Ready => "[.]",
        TodoStatus::InProgress => "[>]",
        TodoStatus::Done => "[x]",
    }
}

/// Whether a session is shown dimmed: stale (its owner is offline) or closed.
pub fn is_dimmed(s: &Session) -> bool {
    s.stale || s.status == SessionStatus::Closed
}

/// The sessions waiting for a person, on any computer, oldest wait first (a waiting
/// session's `last_activity` is when it started waiting). Not filtered: the "needs
/// you" band shows every wait.
pub fn waiting(fleet: &Fleet) -> Vec<&Session> {
    let mut out: Vec<&Session> = fleet
        .sessions()
        .filter(|s| s.status == SessionStatus::Waiting)
        .collect();
    out.sort_by(|a, b| {
        a.last_activity
            .cmp(&b.last_activity)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    out
}

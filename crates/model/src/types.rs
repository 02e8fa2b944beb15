//! The records of `PROTOCOL.md` section 2. Their JSON field names are the
//! contract: change them only by adding.

use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// One computer of the fleet, as this daemon knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Computer {
    /// The computer's name, unique in the fleet.
    pub name: String,
    /// Whether its daemon is alive (heartbeats arriving).
    pub online: bool,
    /// Whether this is the computer answering the request.
    #[serde(rename = "self")]
    pub is_self: bool,
    /// The host name of the machine.
    pub host: String,
    /// The user the daemon runs as.
    pub user: String,
    /// The daemon's version.
    pub version: String,
    /// Changes at every start of the daemon.
    pub boot_id: String,
    /// When the daemon started.
    pub started_at: Timestamp,
    /// When this daemon last heard from it, by its own clock.
    pub last_seen: Timestamp,
    /// Whether it applies session writes other computers forward to it
    /// (`--allow-remote-writes`); absent from older daemons: `false`.
    #[serde(default)]
    pub remote_writes: bool,
    /// Its load, as it last reported it; `null` until it reports any.
    #[serde(default)]
    pub stats: Option<ComputerStats>,
    /// What it watches, as in its heartbeat.
    pub interest: Interest,
}

/// A computer's load, refreshed by its own daemon at most every 10 s and
/// announced only when a value moved noticeably
/// ([`ComputerStats::moved_noticeably`]), so a quiet fleet stays quiet.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ComputerStats {
    /// The load average over one minute.
    pub load1: f64,
    /// The number of CPUs.
    pub cpus: u32,
    /// Memory in use, in bytes (total minus available).
    pub mem_used: u64,
    /// Memory installed, in bytes.
    pub mem_total: u64,
    /// Free space of the file system holding its data dir, in bytes.
    pub disk_free: u64,
}

// The load average is a finite number read from the kernel; two records
// compare equal when every field does.
impl Eq for ComputerStats {}

impl ComputerStats {
    /// Whether `self` differs from `before` enough to be worth announcing:
    /// the load by 0.5 and 20 %, used memory by 5 % of the total, free
    /// disk by 1 GiB and 5 %, or the CPU count or memory size at all.
    pub fn moved_noticeably(&self, before: &ComputerStats) -> bool {
        const GIB: u64 = 1 << 30;
        let load_moved = (self.load1 - before.load1).abs() >= 0.5f64.max(before.load1 * 0.2);
        let mem_moved = self.mem_used.abs_diff(before.mem_used) >= self.mem_total / 20;
        let disk_moved =
            self.disk_free.abs_diff(before.disk_free) >= GIB.max(before.disk_free / 20);
        self.cpus != before.cpus
            || self.mem_total != before.mem_total
            || load_moved
            || mem_moved
            || disk_moved
    }
}

/// What a daemon watches: for each topic, `["*"]` or the computers named.
///
/// Travels in heartbeats so that peers push only where someone is watching.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    /// Computers whose sessions are watched (`"*"` for all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<String>,
    /// Computers whose projects and todos are watched (`"*"` for all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preparation: Vec<String>,
    /// Computers whose records are watched (`"*"` for all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub computers: Vec<String>,
}

impl Interest {
    /// Whether nothing at all is watched.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.preparation.is_empty() && self.computers.is_empty()
    }
}

/// The state of an agent session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Working.
    Active,
    /// Open but doing nothing.
    Idle,
    /// Waiting for a person's input.
    Waiting,
    /// Ended.
    Closed,
}

impl SessionStatus {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Idle => "idle",
            Self::Waiting => "waiting",
            Self::Closed => "closed",
        }
    }

    /// Parses the contract's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "idle" => Self::Idle,
            "waiting" => Self::Waiting,
            "closed" => Self::Closed,
            _ => return None,
        })
    }
}

/// An AI agent session (or other long-lived work) on one computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// A UUID, unique in the fleet.
    pub session_id: String,
    /// The owning computer.
    pub computer: String,
    /// What a person calls it.
    pub title: String,
    /// The project it works in, if any.
    pub project_path: Option<String>,
    /// Which agent runs it (free text, e.g. `claude`).
    pub agent: String,
    /// The agent's thinking mode, if it has one.
    pub thinking_mode: Option<String>,
    /// Its state.
    pub status: SessionStatus,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub last_activity: Timestamp,
    /// The last thing a person typed into it.
    pub last_input: Option<String>,
    /// The last thing it answered.
    pub last_output: Option<String>,
    /// +1 at every change by the owning computer.
    pub rev: u64,
    /// True when the owner is offline and this is its last known state.
    #[serde(default)]
    pub stale: bool,
}

/// A project directory on one computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// The owning computer.
    pub computer: String,
    /// The directory name.
    pub name: String,
    /// The absolute path.
    pub path: String,
    /// The first paragraph of its README, if any.
    pub description: Option<String>,
}

/// The state of a todo in `todos/roadmap.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TodoStatus {
    /// `- [ ] slug`
    Pending,
    /// `- [.] slug`
    Ready,
    /// `- [>] slug`
    InProgress,
    /// `- [x] slug`
    Done,
}

/// One item of a project's roadmap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    /// The owning computer.
    pub computer: String,
    /// The project the roadmap belongs to.
    pub project_path: String,
    /// The item's identifier.
    pub slug: String,
    /// Its state.
    pub status: TodoStatus,
    /// The indented lines under the item, if any.
    pub description: Option<String>,
    /// Whether `todos/<slug>/requirements.md` exists.
    pub has_requirements: bool,
    /// Whether `todos/<slug>/implementation-plan.md` exists.
    pub has_impl_plan: bool,
}

/// A project with its todos, as `GET /v1/projects-with-todos` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectWithTodos {
    /// The project.
    #[serde(flatten)]
    pub project: Project,
    /// Its roadmap.
    pub todos: Vec<Todo>,
}

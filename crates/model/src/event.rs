//! Topics clients subscribe to and the events they receive (`PROTOCOL.md`
//! section 4).

use crate::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A subscription topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Agent sessions.
    Sessions,
    /// Projects and their todos.
    Preparation,
    /// The computers of the fleet.
    Computers,
}

impl Topic {
    /// Every topic, in a fixed order.
    pub const ALL: [Topic; 3] = [Topic::Sessions, Topic::Preparation, Topic::Computers];

    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sessions => "sessions",
            Self::Preparation => "preparation",
            Self::Computers => "computers",
        }
    }

    /// Parses the contract's spelling.
    ///
    /// # Errors
    /// [`Error::UnknownTopic`] for any other string.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "sessions" => Ok(Self::Sessions),
            "preparation" => Ok(Self::Preparation),
            "computers" => Ok(Self::Computers),
            other => Err(Error::UnknownTopic(other.to_owned())),
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name of a change, as clients and peers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventName {
    /// A new session; data is the Session.
    SessionStarted,
    /// A session changed; data is the Session.
    SessionUpdated,
    /// A session ended and is gone; data is `{session_id, computer}`.
    SessionClosed,
    /// A computer's projects changed; data is `{computer, projects}`.
    ProjectsUpdated,
    /// A project's todos changed; data is `{computer, project_path, todos}`.
    TodosUpdated,
    /// A computer came online; data is the Computer.
    ComputerOnline,
    /// A computer's record changed; data is the Computer.
    ComputerUpdated,
    /// A computer went offline; data is the Computer.
    ComputerOffline,
}

impl EventName {
    /// The topic whose subscribers receive this event.
    pub fn topic(self) -> Topic {
        match self {
            Self::SessionStarted | Self::SessionUpdated | Self::SessionClosed => Topic::Sessions,
            Self::ProjectsUpdated | Self::TodosUpdated => Topic::Preparation,
            Self::ComputerOnline | Self::ComputerUpdated | Self::ComputerOffline => {
                Topic::Computers
            }
        }
    }

    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionStarted => "session_started",
            Self::SessionUpdated => "session_updated",
            Self::SessionClosed => "session_closed",
            Self::ProjectsUpdated => "projects_updated",
            Self::TodosUpdated => "todos_updated",
            Self::ComputerOnline => "computer_online",
            Self::ComputerUpdated => "computer_updated",
            Self::ComputerOffline => "computer_offline",
        }
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which computers a subscription or a read covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ComputerFilter {
    /// Every computer of the fleet.
    #[default]
    All,
    /// Only the computers named.
    Only(BTreeSet<String>),
}

impl ComputerFilter {
    /// A filter for one computer, or all when `None`.
    pub fn from_option(computer: Option<&str>) -> Self {
        match computer {
            Some(c) => Self::Only(BTreeSet::from([c.to_owned()])),
            None => Self::All,
        }
    }

    /// Whether `computer` passes the filter.
    pub fn matches(&self, computer: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(set) => set.contains(computer),
        }
    }
}

//! [`Fleet`]: the view's mirror of the daemon's data, built only from WebSocket
//! snapshots and events. Pure: a snapshot replaces a topic, an event changes one record,
//! and a frame that does not match the contract is refused with the reason.

use model::protocol::{
    ComputersSnapshot, PreparationSnapshot, ProjectsUpdated, SessionClosed, SessionsSnapshot,
    TodosUpdated,
};
use model::{Computer, EventName, Project, Session, Todo, Topic};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Everything the view knows about the fleet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fleet {
    computers: Vec<Computer>,
    sessions: BTreeMap<String, Session>,
    projects: Vec<Project>,
    todos: Vec<Todo>,
    loaded: BTreeSet<Topic>,
}

fn decode<T: DeserializeOwned>(what: &str, data: Value) -> Result<T, String> {
    serde_json::from_value(data).map_err(|e| format!("bad {what} data: {e}"))
}

impl Fleet {
    /// Replaces everything of `topic` with a snapshot's `data`.
    ///
    /// # Errors
    /// The reason, when `data` is not the topic's snapshot shape; nothing changes then.
    pub fn load(&mut self, topic: Topic, data: Value) -> Result<(), String> {
        match topic {
            Topic::Sessions => {
                let d: SessionsSnapshot = decode("sessions snapshot", data)?;
                self.sessions = d
                    .sessions
                    .into_iter()
                    .map(|s| (s.session_id.clone(), s))
                    .collect();
            }
            Topic::Preparation => {
                let d: PreparationSnapshot = decode("preparation snapshot", data)?;
                self.projects = d.projects;
                self.todos = d.todos;
            }
            Topic::Computers => {
                let d: ComputersSnapshot = decode("computers snapshot", data)?;
                self.computers = d.computers;
                self.sort_computers();
            }
        }
        self.loaded.insert(topic);
        Ok(())
    }

    /// Applies one event.
    ///
    /// # Errors
    /// The reason, when `data` is not the event's shape; nothing changes then.
    pub fn change(&mut self, event: EventName, data: Value) -> Result<(), String> {
        match event {
            EventName::SessionStarted | EventName::SessionUpdated => {
                let s: Session = decode(event.as_str(), data)?;
                self.sessions.insert(s.session_id.clone(), s);
            }
            EventName::SessionClosed => {
                let c: SessionClosed = decode(event.as_str(), data)?;
                self.sessions.remove(&c.session_id);
            }
            EventName::ProjectsUpdated => {
                let p: ProjectsUpdated = decode(event.as_str(), data)?;
                self.projects.retain(|x| x.computer != p.computer);
                self.projects.extend(p.projects);
            }
            EventName::TodosUpdated => {
                let t: TodosUpdated = decode(event.as_str(), data)?;
                self.todos
                    .retain(|x| !(x.computer == t.computer && x.project_path == t.project_path));
                self.todos.extend(t.todos);
            }
            EventName::ComputerOnline | EventName::ComputerUpdated | EventName::ComputerOffline => {
                let c: Computer = decode(event.as_str(), data)?;
                match self.computers.iter_mut().find(|x| x.name == c.name) {
                    Some(held) => *held = c,
                    None => self.computers.push(c),
                }
                self.sort_computers();
            }
        }
        Ok(())
    }

    /// This computer first, then the others by name, as `GET /v1/computers` answers.
    fn sort_computers(&mut self) {
        self.computers
            .sort_by(|a, b| b.is_self.cmp(&a.is_self).then_with(|| a.name.cmp(&b.name)));
    }

    /// Whether a snapshot of `topic` has arrived.
    pub fn is_loaded(&self, topic: Topic) -> bool {
        self.loaded.contains(&topic)
    }

    /// The computers, this one first.
    pub fn computers(&self) -> &[Computer] {
        &self.computers
    }

    /// One computer's record, if known.
    pub fn computer(&self, name: &str) -> Option<&Computer> {
        self.computers.iter().find(|c| c.name == name)
    }

    /// The name of the computer whose daemon the view talks to.
    pub fn self_name(&self) -> Option<&str> {
        self.computers
            .iter()
            .find(|c| c.is_self)
            .map(|c| c.name.as_str())
    }

    /// Every session, in no particular order.
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// One computer's sessions, newest activity first.
    pub fn sessions_of(&self, computer: &str) -> Vec<&Session> {
        let mut out: Vec<&Session> = self
            .sessions
            .values()
            .filter(|s| s.computer == computer)
            .collect();
        out.sort_by(|a, b| {
            b.last_activity
                .cmp(&a.last_activity)
                .then_with(|| a.title.cmp(&b.title))
        });
        out
    }

    /// Every project.
    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    /// One computer's projects, by name.
    pub fn projects_of(&self, computer: &str) -> Vec<&Project> {
        let mut out: Vec<&Project> = self
            .projects
            .iter()
            .filter(|p| p.computer == computer)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.path.cmp(&b.path)));
        out
    }

    /// A project's todos, in roadmap order.
    pub fn todos_of(&self, project: &Project) -> Vec<&Todo> {
        self.todos
            .iter()
            .filter(|t| t.computer == project.computer && t.project_path == project.path)
            .collect()
    }

    /// The computers to show, in order: the known ones, then any other that owns a
    /// session or a project (its record not received yet), by name.
    pub fn computer_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.computers.iter().map(|c| c.name.as_str()).collect();
        let known: BTreeSet<&str> = names.iter().copied().collect();
        let others: BTreeSet<&str> = self
            .sessions
            .values()
            .map(|s| s.computer.as_str())
            .chain(self.projects.iter().map(|p| p.computer.as_str()))
            .filter(|n| !known.contains(n))
            .collect();
        names.extend(others);
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(id: &str, computer: &str, activity: &str) -> Value {
        json!({
            "session_id": id, "computer": computer, "title": id, "project_path": null,
            "agent": "claude", "thinking_mode": null, "status": "active",
            "created_at": "2026-11-27T10:00:00.000Z", "last_activity": activity,
            "last_input": null, "last_output": null, "rev": 1, "stale": false
        })
    }

    fn computer(name: &str, is_self: bool) -> Value {
        json!({
            "name": name, "online": true, "self": is_self, "host": "h", "user": "u",
            "version": "0.1.0", "boot_id": "b", "started_at": "2026-11-27T10:00:00.000Z",
            "last_seen": "2026-11-27T10:00:00.000Z", "interest": {}
        })
    }

    #[test]
    fn snapshots_replace_and_events_change() {
        let mut f = Fleet::default();
        assert!(!f.is_loaded(Topic::Sessions));
        f.load(
            Topic::Sessions,
            json!({"sessions": [session("a", "x", "2026-11-27T10:00:00.000Z")]}),
        )
        .unwrap();
        assert!(f.is_loaded(Topic::Sessions));
        f.change(
            EventName::SessionStarted,
            session("b", "x", "2026-11-27T10:05:00.000Z"),
        )
        .unwrap();
        let ids: Vec<&str> = f
            .sessions_of("x")
            .iter()
            .map(|s| s.session_id.as_str())
            .collect();
        assert_eq!(ids, ["b", "a"]);
        f.change(
            EventName::SessionClosed,
            json!({"session_id": "a", "computer": "x"}),
        )
        .unwrap();
        assert_eq!(f.sessions().count(), 1);
        f.load(Topic::Sessions, json!({"sessions": []})).unwrap();
        assert_eq!(f.sessions().count(), 0);
    }

    #[test]
    fn computers_keep_answer_order() {
        let mut f = Fleet::default();
        f.load(
            Topic::Computers,
            json!({"computers": [computer("m", false), computer("z", true)]}),
        )
        .unwrap();
        f.change(EventName::ComputerOnline, computer("a", false))
            .unwrap();
        let names: Vec<&str> = f.computers().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["z", "a", "m"]);
        assert_eq!(f.self_name(), Some("z"));
        f.change(
            EventName::SessionStarted,
            session("s", "ghost", "2026-11-27T10:00:00.000Z"),
        )
        .unwrap();
        assert_eq!(f.computer_names(), ["z", "a", "m", "ghost"]);
    }

    #[test]
    fn preparation_events_replace_their_part() {
        let project = |c: &str, p: &str| json!({"computer": c, "name": p, "path": format!("/{p}"), "description": null});
        let todo = |c: &str, p: &str, slug: &str| json!({"computer": c, "project_path": format!("/{p}"), "slug": slug, "status": "pending", "description": null, "has_requirements": false, "has_impl_plan": false});
        let mut f = Fleet::default();
        f.load(
            Topic::Preparation,
            json!({"projects": [project("x", "p"), project("y", "q")], "todos": [todo("x", "p", "t1")]}),
        )
        .unwrap();
        f.change(
            EventName::TodosUpdated,
            json!({"computer": "x", "project_path": "/p", "todos": [todo("x", "p", "t2"), todo("x", "p", "t3")]}),
        )
        .unwrap();
        let p = f.projects_of("x")[0].clone();
        let slugs: Vec<&str> = f.todos_of(&p).iter().map(|t| t.slug.as_str()).collect();
        assert_eq!(slugs, ["t2", "t3"]);
        f.change(
            EventName::ProjectsUpdated,
            json!({"computer": "y", "projects": []}),
        )
        .unwrap();
        assert_eq!(f.projects().len(), 1);
    }

    #[test]
    fn bad_data_is_refused_without_change() {
        let mut f = Fleet::default();
        assert!(f.load(Topic::Sessions, json!({"nope": 1})).is_err());
        assert!(!f.is_loaded(Topic::Sessions));
        assert!(
            f.change(EventName::SessionUpdated, json!({"x": 1}))
                .is_err()
        );
    }
}

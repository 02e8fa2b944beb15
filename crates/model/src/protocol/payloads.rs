//! The `data` of the events whose payload is not a record
//! (`PROTOCOL.md` section 4): `session_closed`, `projects_updated` and
//! `todos_updated`. The other events carry a Session or a Computer as is.
//!
//! Each payload has one type (decoded by whoever receives it: a peer daemon,
//! the `fleet` client) and one encoder that builds the same bytes from
//! records serialized once (used by the cache that publishes it).

use crate::protocol::json;
use crate::{Project, Todo};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// `session_closed`: the session ended and is gone.
/// `{"session_id":ID,"computer":C}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClosed {
    /// The session that ended.
    pub session_id: String,
    /// Its owner.
    pub computer: String,
}

impl SessionClosed {
    /// The payload's JSON, without building the struct.
    pub fn encode(session_id: &str, computer: &str) -> Bytes {
        json::object(&[
            ("session_id", &json::string(session_id)),
            ("computer", &json::string(computer)),
        ])
    }
}

/// `projects_updated`: a computer's whole list of projects.
/// `{"computer":C,"projects":[..]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectsUpdated {
    /// The owner of the projects.
    pub computer: String,
    /// Every project it has now (empty: none).
    pub projects: Vec<Project>,
}

impl ProjectsUpdated {
    /// The payload's JSON from projects serialized once each.
    pub fn encode(computer: &str, projects: &[Bytes]) -> Bytes {
        json::object(&[
            ("computer", &json::string(computer)),
            ("projects", &json::array(projects)),
        ])
    }
}

/// `todos_updated`: one project's whole list of todos.
/// `{"computer":C,"project_path":P,"todos":[..]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodosUpdated {
    /// The owner of the project.
    pub computer: String,
    /// The project's path.
    pub project_path: String,
    /// Every todo it has now, in roadmap order (empty: none, or the project
    /// went).
    pub todos: Vec<Todo>,
}

impl TodosUpdated {
    /// The payload's JSON from todos serialized once each.
    pub fn encode(computer: &str, project_path: &str, todos: &[Bytes]) -> Bytes {
        json::object(&[
            ("computer", &json::string(computer)),
            ("project_path", &json::string(project_path)),
            ("todos", &json::array(todos)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TodoStatus;

    fn project() -> Project {
        Project {
            computer: "me".into(),
            name: "p".into(),
            path: "/p".into(),
            description: None,
        }
    }

    fn todo() -> Todo {
        Todo {
            computer: "me".into(),
            project_path: "/p".into(),
            slug: "t1".into(),
            status: TodoStatus::Pending,
            description: None,
            has_requirements: false,
            has_impl_plan: false,
        }
    }

    const PROJECT: &str = r#"{"computer":"me","name":"p","path":"/p","description":null}"#;
    const TODO: &str = r#"{"computer":"me","project_path":"/p","slug":"t1","status":"pending","description":null,"has_requirements":false,"has_impl_plan":false}"#;

    /// The golden bytes (as `cache-core/tests/golden.rs` and
    /// `peer-sync/tests/golden.rs` pin them on the wire), from the encoder
    /// and from the type, and back.
    #[test]
    fn payloads_are_byte_exact() {
        let closed = r#"{"session_id":"s\"1","computer":"me"}"#;
        assert_eq!(&SessionClosed::encode("s\"1", "me")[..], closed.as_bytes());
        let typed = SessionClosed {
            session_id: "s\"1".into(),
            computer: "me".into(),
        };
        assert_eq!(serde_json::to_string(&typed).unwrap(), closed);
        assert_eq!(
            serde_json::from_str::<SessionClosed>(closed).unwrap(),
            typed
        );

        let p = Bytes::from(serde_json::to_vec(&project()).unwrap());
        assert_eq!(&p[..], PROJECT.as_bytes());
        let projects = format!(r#"{{"computer":"me","projects":[{PROJECT}]}}"#);
        assert_eq!(
            &ProjectsUpdated::encode("me", &[p])[..],
            projects.as_bytes()
        );
        let typed = ProjectsUpdated {
            computer: "me".into(),
            projects: vec![project()],
        };
        assert_eq!(serde_json::to_string(&typed).unwrap(), projects);
        assert_eq!(
            serde_json::from_str::<ProjectsUpdated>(&projects).unwrap(),
            typed
        );
        assert_eq!(
            &ProjectsUpdated::encode("me", &[])[..],
            br#"{"computer":"me","projects":[]}"#
        );

        let t = Bytes::from(serde_json::to_vec(&todo()).unwrap());
        let todos = format!(r#"{{"computer":"me","project_path":"/p","todos":[{TODO}]}}"#);
        assert_eq!(
            &TodosUpdated::encode("me", "/p", &[t])[..],
            todos.as_bytes()
        );
        let typed = TodosUpdated {
            computer: "me".into(),
            project_path: "/p".into(),
            todos: vec![todo()],
        };
        assert_eq!(serde_json::to_string(&typed).unwrap(), todos);
        assert_eq!(serde_json::from_str::<TodosUpdated>(&todos).unwrap(), typed);
        assert_eq!(
            &TodosUpdated::encode("me", "/p", &[])[..],
            br#"{"computer":"me","project_path":"/p","todos":[]}"#
        );
    }
}

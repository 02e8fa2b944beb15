//! `GET /v1/projects`, `/v1/projects-with-todos` and `/v1/todos`: what each
//! computer is preparing, from the cache.

use super::{Answer, ok_bytes};
use crate::error::ApiError;
use crate::parts::ApiParts;
use crate::query::Query;

/// Answers projects, optionally of one computer.
pub(crate) fn projects(api: &ApiParts, query: Option<&str>) -> Answer {
    let q = Query::parse(query, &["computer"])?;
    ok_bytes(api.cache.projects_json(q.computer()?))
}

/// Answers projects with their todos, optionally of one computer.
pub(crate) fn projects_with_todos(api: &ApiParts, query: Option<&str>) -> Answer {
    let q = Query::parse(query, &["computer"])?;
    ok_bytes(api.cache.projects_with_todos_json(q.computer()?))
}

/// Answers todos, optionally of one computer and one project.
pub(crate) fn todos(api: &ApiParts, query: Option<&str>) -> Answer {
    let q = Query::parse(query, &["computer", "project"])?;
    let project = q.get("project");
    if project.is_some_and(str::is_empty) {
        return Err(ApiError::BadField(
            "query parameter \"project\" must not be empty".into(),
        ));
    }
    ok_bytes(api.cache.todos_json(q.computer()?, project))
}

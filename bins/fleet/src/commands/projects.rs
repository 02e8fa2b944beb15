//! `fleet projects [--computer X]`: the projects with a summary of their todos
//! (`GET /v1/projects-with-todos`); `--json` prints `GET /v1/projects` as answered.

use crate::client::http::{HttpClient, with_query};
use crate::commands::{print, print_body};
use crate::error::FleetError;
use crate::table::Table;
use crate::text::{one_line, truncate};
use model::{ProjectWithTodos, TodoStatus};

/// Descriptions longer than this are cut in the table.
const DESCRIPTION_WIDTH: usize = 50;

/// Runs the command.
///
/// # Errors
/// When the daemon cannot be asked or the output cannot be written.
pub async fn run(
    client: &HttpClient,
    json: bool,
    computer: Option<&str>,
) -> Result<(), FleetError> {
    let params = [("computer", computer)];
    if json {
        let answer = client.get(&with_query("/v1/projects", &params)).await?;
        return print_body(&answer.body);
    }
    let answer = client
        .get(&with_query("/v1/projects-with-todos", &params))
        .await?;
    let projects: Vec<ProjectWithTodos> = answer.json()?;
    print(&table(&projects))
}

/// `2 in progress, 1 pending, 3 done`, or `-` without todos.
pub fn todo_summary(p: &ProjectWithTodos) -> String {
    let count = |status| p.todos.iter().filter(|t| t.status == status).count();
    let parts: Vec<String> = [
        (count(TodoStatus::InProgress), "in progress"),
        (count(TodoStatus::Ready), "ready"),
        (count(TodoStatus::Pending), "pending"),
        (count(TodoStatus::Done), "done"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The human table.
pub fn table(projects: &[ProjectWithTodos]) -> String {
    if projects.is_empty() {
        return "No projects.\n".into();
    }
    let mut t = Table::new(&["COMPUTER", "NAME", "PATH", "TODOS", "DESCRIPTION"]);
    for p in projects {
        t.row(vec![
            p.project.computer.clone(),
            p.project.name.clone(),
            p.project.path.clone(),
            todo_summary(p),
            p.project
                .description
                .as_deref()
                .map(|d| truncate(&one_line(d), DESCRIPTION_WIDTH))
                .unwrap_or_default(),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Project, Todo};

    #[test]
    fn todos_are_summed_up() {
        let todo = |slug: &str, status| Todo {
            computer: "alpha".into(),
            project_path: "/p/fleet".into(),
            slug: slug.into(),
            status,
            description: None,
            has_requirements: false,
            has_impl_plan: false,
        };
        let p = ProjectWithTodos {
            project: Project {
                computer: "alpha".into(),
                name: "fleet".into(),
                path: "/p/fleet".into(),
                description: Some("The fleet\ncache.".into()),
            },
            todos: vec![
                todo("a", TodoStatus::Done),
                todo("b", TodoStatus::InProgress),
                todo("c", TodoStatus::Done),
            ],
        };
        assert_eq!(
            table(&[p]),
            "COMPUTER  NAME   PATH      TODOS                  DESCRIPTION\n\
             alpha     fleet  /p/fleet  1 in progress, 2 done  The fleet cache.\n"
        );
        assert_eq!(table(&[]), "No projects.\n");
    }
}

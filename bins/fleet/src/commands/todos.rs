//! `fleet todos [--computer X] [--project PATH]`: `GET /v1/todos`, in roadmap order.

use crate::client::http::{HttpClient, with_query};
use crate::commands::{absolute, print, print_body};
use crate::error::FleetError;
use crate::table::Table;
use crate::text::{base_name, one_line, truncate};
use crate::watch::view::todo_status_word;
use model::Todo;

/// Descriptions longer than this are cut in the table.
const DESCRIPTION_WIDTH: usize = 60;

/// Runs the command. A relative `--project` is made absolute first.
///
/// # Errors
/// When the daemon cannot be asked or the output cannot be written.
pub async fn run(
    client: &HttpClient,
    json: bool,
    computer: Option<&str>,
    project: Option<&str>,
) -> Result<(), FleetError> {
    let project = project.map(absolute);
    let answer = client
        .get(&with_query(
            "/v1/todos",
            &[("computer", computer), ("project", project.as_deref())],
        ))
        .await?;
    if json {
        return print_body(&answer.body);
    }
    let todos: Vec<Todo> = answer.json()?;
    print(&table(&todos))
}

/// The human table.
pub fn table(todos: &[Todo]) -> String {
    if todos.is_empty() {
        return "No todos.\n".into();
    }
    let mut t = Table::new(&[
        "COMPUTER",
        "PROJECT",
        "TODO",
        "STATUS",
        "DOCS",
        "DESCRIPTION",
    ]);
    for todo in todos {
        let docs: Vec<&str> = [
            (todo.has_requirements, "requirements"),
            (todo.has_impl_plan, "plan"),
        ]
        .into_iter()
        .filter(|(has, _)| *has)
        .map(|(_, what)| what)
        .collect();
        t.row(vec![
            todo.computer.clone(),
            base_name(&todo.project_path).to_owned(),
            todo.slug.clone(),
            todo_status_word(todo.status).into(),
            if docs.is_empty() {
                "-".into()
            } else {
                docs.join(", ")
            },
            todo.description
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
    use model::TodoStatus;

    #[test]
    fn todos_show_status_and_docs() {
        let todo = Todo {
            computer: "alpha".into(),
            project_path: "/p/fleet".into(),
            slug: "watch-view".into(),
            status: TodoStatus::InProgress,
            description: Some("  The live view.\n  With tabs.".into()),
            has_requirements: true,
            has_impl_plan: true,
        };
        assert_eq!(
            table(&[todo]),
            "COMPUTER  PROJECT  TODO        STATUS       DOCS                DESCRIPTION\n\
             alpha     fleet    watch-view  in progress  requirements, plan  The live view. With tabs.\n"
        );
    }
}

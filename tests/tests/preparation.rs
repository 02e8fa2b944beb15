//! Preparation watching (PROTOCOL.md sections 2 and 4): editing a `--project`'s
//! `todos/roadmap.md` or README on disk reaches `preparation` subscribers as
//! `todos_updated` / `projects_updated` with the parsed data, within seconds, and the REST
//! reads follow.

mod common;

use std::path::{Path, PathBuf};

use common::{PATIENCE, percent_encode};
use fleet_tests::{DaemonFixture, Value, json};

/// A project directory `proj` with a README and a one-item roadmap.
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("fcw")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let path = std::fs::canonicalize(dir.path())
        .expect("canonical")
        .join("proj");
    std::fs::create_dir_all(path.join("todos")).expect("mkdir");
    std::fs::write(path.join("README.md"), "# Proj\n\nFirst version.\n").expect("write");
    std::fs::write(path.join("todos/roadmap.md"), "- [ ] start\n").expect("write");
    (dir, path)
}

fn todo(computer: &str, path: &str, slug: &str, status: &str, description: Value) -> Value {
    json!({
        "computer": computer,
        "project_path": path,
        "slug": slug,
        "status": status,
        "description": description,
        "has_requirements": false,
        "has_impl_plan": false,
    })
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[tokio::test]
async fn editing_the_roadmap_sends_todos_updated() {
    let (_dir, path) = project();
    let daemon = DaemonFixture::builder().project(&path).start().await;
    let me = daemon.computer().to_owned();
    let project_path = utf8(&path);

    let mut ws = daemon.ws().await;
    let snapshot = ws.subscribe("preparation").await;
    assert_eq!(
        snapshot["data"]["todos"],
        json!([todo(&me, project_path, "start", "pending", Value::Null)]),
        "{snapshot}"
    );
    assert_eq!(
        snapshot["data"]["projects"][0]["path"], project_path,
        "{snapshot}"
    );

    std::fs::create_dir_all(path.join("todos/second")).expect("mkdir");
    std::fs::write(path.join("todos/second/implementation-plan.md"), "plan\n").expect("write");
    std::fs::write(
        path.join("todos/roadmap.md"),
        "# Roadmap\n\n- [x] start\n- [>] second\n  Why it matters.\n- [.] third\n",
    )
    .expect("write");

    let mut second = todo(
        &me,
        project_path,
        "second",
        "in_progress",
        json!("Why it matters."),
    );
    second["has_impl_plan"] = json!(true);
    let expected = json!([
        todo(&me, project_path, "start", "done", Value::Null),
        second,
        todo(&me, project_path, "third", "ready", Value::Null),
    ]);
    // Bounded: the watcher may report intermediate states of the write first.
    let event = ws
        .next_matching(PATIENCE, "todos_updated with the edited roadmap", |v| {
            v["type"] == "event" && v["event"] == "todos_updated" && v["data"]["todos"] == expected
        })
        .await;
    assert_eq!(event["topic"], "preparation", "{event}");
    assert_eq!(event["data"]["computer"], me.as_str(), "{event}");
    assert_eq!(event["data"]["project_path"], project_path, "{event}");

    let (_, todos) = daemon
        .http_get(&format!(
            "/v1/todos?project={}",
            percent_encode(project_path)
        ))
        .await;
    assert_eq!(todos, expected, "REST reads the same todos");
}

#[tokio::test]
async fn editing_the_readme_sends_projects_updated() {
    let (_dir, path) = project();
    let daemon = DaemonFixture::builder().project(&path).start().await;
    let me = daemon.computer().to_owned();
    let mut ws = daemon.ws().await;
    let snapshot = ws.subscribe("preparation").await;
    assert_eq!(
        snapshot["data"]["projects"][0]["description"], "First version.",
        "{snapshot}"
    );

    std::fs::write(
        path.join("README.md"),
        "# Proj\n\nSecond version,\non two lines.\n\nNot this.\n",
    )
    .expect("write");
    let event = ws
        .next_matching(PATIENCE, "projects_updated with the new README", |v| {
            v["type"] == "event"
                && v["event"] == "projects_updated"
                && v["data"]["projects"][0]["description"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("Second version,"))
        })
        .await;
    assert_eq!(event["data"]["computer"], me.as_str(), "{event}");
    let projects = event["data"]["projects"].as_array().expect("projects");
    assert_eq!(projects.len(), 1, "{event}");
    assert_eq!(projects[0]["path"], utf8(&path), "{event}");
    assert_eq!(projects[0]["name"], "proj", "{event}");
    let (_, listed) = daemon.http_get("/v1/projects").await;
    assert_eq!(&listed, &event["data"]["projects"], "REST reads the same");
}

//! Projects and todos over REST (PROTOCOL.md sections 2 and 3), through the Unix socket
//! of a real daemon with two `--project` directories: `/v1/projects`,
//! `/v1/projects-with-todos` and `/v1/todos` with their `computer` and `project` filters
//! (a project path percent-encoded), and the parsing of `todos/roadmap.md`.

mod common;

use std::path::{Path, PathBuf};

use common::percent_encode;
use fleet_tests::{DaemonFixture, StatusCode, Value, json};

/// Two projects: `alpha` with a README and four todos, and `beta b+c` (a path that needs
/// percent-encoding) with one todo.
struct Projects {
    _dir: tempfile::TempDir,
    alpha: PathBuf,
    beta: PathBuf,
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn projects() -> Projects {
    let dir = tempfile::Builder::new()
        .prefix("fcp")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
    let alpha = root.join("alpha");
    write(
        &alpha.join("README.md"),
        "# Alpha\n\nThe alpha project.\n\nDetails follow.\n",
    );
    write(
        &alpha.join("todos/roadmap.md"),
        "# Roadmap\n\n- [ ] first-thing\n  Do the first thing.\n  Carefully.\n- [.] ready-one\n- [>] doing-it\n- [x] done-it\n",
    );
    write(&alpha.join("todos/first-thing/requirements.md"), "reqs\n");
    write(
        &alpha.join("todos/doing-it/implementation-plan.md"),
        "plan\n",
    );
    let beta = root.join("beta b+c");
    write(&beta.join("todos/roadmap.md"), "- [ ] only-one\n");
    Projects {
        _dir: dir,
        alpha,
        beta,
    }
}

fn alpha_todos(computer: &str, path: &str) -> Value {
    let todo = |slug: &str, status: &str, description: Value, req: bool, plan: bool| {
        json!({
            "computer": computer,
            "project_path": path,
            "slug": slug,
            "status": status,
            "description": description,
            "has_requirements": req,
            "has_impl_plan": plan,
        })
    };
    json!([
        todo(
            "first-thing",
            "pending",
            json!("Do the first thing.\nCarefully."),
            true,
            false
        ),
        todo("ready-one", "ready", Value::Null, false, false),
        todo("doing-it", "in_progress", Value::Null, false, true),
        todo("done-it", "done", Value::Null, false, false),
    ])
}

#[tokio::test]
async fn projects_todos_and_their_filters() {
    let p = projects();
    let daemon = DaemonFixture::builder()
        .project(&p.alpha)
        .project(&p.beta)
        .start()
        .await;
    let me = daemon.computer().to_owned();
    let alpha_path = p.alpha.to_str().expect("UTF-8 path").to_owned();
    let beta_path = p.beta.to_str().expect("UTF-8 path").to_owned();
    let alpha = json!({
        "computer": me, "name": "alpha", "path": alpha_path,
        "description": "The alpha project.",
    });
    let beta = json!({
        "computer": me, "name": "beta b+c", "path": beta_path, "description": null,
    });

    let (status, projects) = daemon.http_get("/v1/projects").await;
    assert_eq!(status, StatusCode::OK, "{projects}");
    assert_same_items(&projects, &[alpha.clone(), beta.clone()]);
    let (status, own) = daemon
        .http_get(&format!("/v1/projects?computer={me}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_same_items(&own, &[alpha.clone(), beta.clone()]);
    let (status, other) = daemon.http_get("/v1/projects?computer=elsewhere").await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_eq!(other, json!([]));

    let expected_alpha_todos = alpha_todos(&me, &alpha_path);
    let beta_todos = json!([{
        "computer": me, "project_path": beta_path, "slug": "only-one", "status": "pending",
        "description": null, "has_requirements": false, "has_impl_plan": false,
    }]);

    let (status, with_todos) = daemon.http_get("/v1/projects-with-todos").await;
    assert_eq!(status, StatusCode::OK, "{with_todos}");
    let mut alpha_with = alpha.clone();
    alpha_with["todos"] = expected_alpha_todos.clone();
    let mut beta_with = beta.clone();
    beta_with["todos"] = beta_todos.clone();
    assert_same_items(&with_todos, &[alpha_with.clone(), beta_with.clone()]);
    let (status, with_todos_own) = daemon
        .http_get(&format!("/v1/projects-with-todos?computer={me}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{with_todos_own}");
    assert_same_items(&with_todos_own, &[alpha_with, beta_with]);
    let (status, none) = daemon
        .http_get("/v1/projects-with-todos?computer=elsewhere")
        .await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none, json!([]));

    let (status, all) = daemon.http_get("/v1/todos").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let mut every: Vec<Value> = expected_alpha_todos.as_array().expect("array").clone();
    every.extend(beta_todos.as_array().expect("array").iter().cloned());
    assert_same_items(&all, &every);

    let (status, by_computer) = daemon.http_get(&format!("/v1/todos?computer={me}")).await;
    assert_eq!(status, StatusCode::OK, "{by_computer}");
    assert_same_items(&by_computer, &every);
    let (status, none) = daemon.http_get("/v1/todos?computer=elsewhere").await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none, json!([]));

    // The project filter, percent-encoded: `/`, space and `+` must survive.
    let (status, only_alpha) = daemon
        .http_get(&format!(
            "/v1/todos?project={}",
            percent_encode(&alpha_path)
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{only_alpha}");
    assert_eq!(only_alpha, expected_alpha_todos, "roadmap order is kept");
    let (status, only_beta) = daemon
        .http_get(&format!(
            "/v1/todos?computer={me}&project={}",
            percent_encode(&beta_path)
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{only_beta}");
    assert_eq!(only_beta, beta_todos);
    let (status, unknown) = daemon
        .http_get(&format!(
            "/v1/todos?project={}",
            percent_encode("/no/such/project")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{unknown}");
    assert_eq!(unknown, json!([]));
}

#[track_caller]
fn assert_same_items(got: &Value, expected: &[Value]) {
    let got = got
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {got}"));
    assert_eq!(
        got.len(),
        expected.len(),
        "got {got:?}\nexpected {expected:?}"
    );
    for item in expected {
        assert!(got.contains(item), "missing {item}\nin {got:?}");
    }
}

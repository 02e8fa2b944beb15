//! Every read route answers the cache's state.

use super::*;
use model::{Project, Todo, TodoStatus};

fn project(computer: &str, path: &str) -> Project {
    Project {
        computer: computer.into(),
        name: path.rsplit('/').next().unwrap().into(),
        path: path.into(),
        description: None,
    }
}

fn todo(computer: &str, project_path: &str, slug: &str) -> Todo {
    Todo {
        computer: computer.into(),
        project_path: project_path.into(),
        slug: slug.into(),
        status: TodoStatus::Pending,
        description: None,
        has_requirements: false,
        has_impl_plan: false,
    }
}

#[tokio::test]
async fn health_reports_who_answers() {
    let f = fixture();
    f.cache
        .peer_heartbeat(computer("beta"), Duration::from_secs(2));
    let a = call(&f.api, Method::GET, "/v1/health", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[CONTENT_TYPE], "application/json");
    assert_eq!(
        a.json(),
        serde_json::json!({
            "status": "ok", "computer": "alpha", "version": "9.9.9",
            "boot_id": "boot-alpha", "redis": "connected", "peers": 1,
        })
    );
}

#[tokio::test]
async fn computers_lists_this_one_first() {
    let f = fixture();
    f.cache
        .peer_heartbeat(computer("beta"), Duration::from_secs(2));
    let a = call(&f.api, Method::GET, "/v1/computers", None).await;
    assert_eq!(a.status, StatusCode::OK);
    let names: Vec<_> = a
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(a.json()[0]["self"], true);
}

#[tokio::test]
async fn sessions_are_the_cache_bytes_and_filter_by_computer() {
    let f = fixture();
    f.cache.put_session(session("s-local", LOCAL, 1));
    f.cache.put_session(session("s-remote", "beta", 5));
    let a = call(&f.api, Method::GET, "/v1/sessions", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, f.cache.sessions_json(None));
    assert_eq!(a.json().as_array().unwrap().len(), 2);

    let a = call(&f.api, Method::GET, "/v1/sessions?computer=beta", None).await;
    let list = a.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["session_id"], "s-remote");

    let a = call(&f.api, Method::GET, "/v1/sessions/s-remote", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, f.cache.session("s-remote").unwrap().json);
}

#[tokio::test]
async fn preparation_reads() {
    let f = fixture();
    f.cache.set_projects(
        LOCAL,
        vec![project(LOCAL, "/home/x"), project(LOCAL, "/home/y")],
    );
    f.cache
        .set_todos(LOCAL, "/home/x", vec![todo(LOCAL, "/home/x", "first")]);
    f.cache
        .set_todos(LOCAL, "/home/y", vec![todo(LOCAL, "/home/y", "second")]);
    f.cache
        .set_projects("beta", vec![project("beta", "/srv/z")]);

    let a = call(&f.api, Method::GET, "/v1/projects", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json().as_array().unwrap().len(), 3);
    let a = call(&f.api, Method::GET, "/v1/projects?computer=beta", None).await;
    assert_eq!(a.json()[0]["path"], "/srv/z");

    let a = call(
        &f.api,
        Method::GET,
        "/v1/projects-with-todos?computer=alpha",
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v[0]["todos"][0]["slug"], "first");
    assert_eq!(v[1]["todos"][0]["slug"], "second");

    let a = call(
        &f.api,
        Method::GET,
        "/v1/todos?computer=alpha&project=%2Fhome%2Fy",
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["slug"], "second");
    let a = call(&f.api, Method::GET, "/v1/todos", None).await;
    assert_eq!(a.json().as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn metrics_render_cache_sizes_and_requests() {
    let f = fixture();
    f.cache.put_session(session("s1", LOCAL, 1));
    call(&f.api, Method::GET, "/v1/sessions", None).await;
    call(&f.api, Method::GET, "/v1/nothing", None).await;
    let a = call(&f.api, Method::GET, "/metrics", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[CONTENT_TYPE], "text/plain; version=0.0.4");
    let text = std::str::from_utf8(&a.body).unwrap();
    assert!(
        text.contains(r#"fleet_cache_records{kind="sessions"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"fleet_cache_records{kind="computers"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/sessions",method="GET",status="200""#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="unknown",method="GET",status="404""#),
        "{text}"
    );
    assert!(
        text.contains(r#"fleet_dropped_inputs_total{source="rest",reason="not_found"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("fleet_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

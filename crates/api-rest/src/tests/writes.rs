//! Session writes and refreshes that succeed.

use super::*;
use hyper::header::LOCATION;
use model::Topic;

#[tokio::test]
async fn create_answers_201_and_the_session_is_readable() {
    let f = fixture();
    let a = call(
        &f.api,
        Method::POST,
        "/v1/sessions",
        Some(r#"{"title":"fix the bug","project_path":"/home/x","agent":"claude"}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let s = a.json();
    let id = s["session_id"].as_str().unwrap().to_owned();
    assert_eq!(s["computer"], LOCAL);
    assert_eq!(s["title"], "fix the bug");
    assert_eq!(s["status"], "active");
    assert_eq!(a.headers[LOCATION], format!("/v1/sessions/{id}").as_str());

    let got = call(&f.api, Method::GET, &format!("/v1/sessions/{id}"), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json(), s);
}

#[tokio::test]
async fn patch_changes_a_local_session() {
    let f = fixture();
    f.cache.put_session(session("s1", LOCAL, 1));
    let a = call(
        &f.api,
        Method::PATCH,
        "/v1/sessions/s1",
        Some(r#"{"status":"waiting","last_input":"go on","thinking_mode":null}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let s = a.json();
    assert_eq!(s["status"], "waiting");
    assert_eq!(s["last_input"], "go on");
    assert_eq!(s["rev"], 2);
    assert_eq!(f.cache.session("s1").unwrap().rev, 2);
}

#[tokio::test]
async fn an_empty_patch_answers_the_current_state_without_a_write() {
    let f = fixture();
    f.cache.put_session(session("s1", LOCAL, 3));
    let a = call(&f.api, Method::PATCH, "/v1/sessions/s1", Some("{}")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, f.cache.session("s1").unwrap().json);
    assert_eq!(f.cache.session("s1").unwrap().rev, 3);
}

#[tokio::test]
async fn delete_ends_a_local_session() {
    let f = fixture();
    f.cache.put_session(session("s1", LOCAL, 1));
    let a = call(&f.api, Method::DELETE, "/v1/sessions/s1", None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(a.body.is_empty());
    assert!(f.cache.session("s1").is_none());
    let a = call(&f.api, Method::GET, "/v1/sessions/s1", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn refresh_is_accepted_with_or_without_a_body() {
    let f = fixture();
    let a = call(&f.api, Method::POST, "/v1/refresh", None).await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert_eq!(a.json(), serde_json::json!({"status": "accepted"}));
    let a = call(
        &f.api,
        Method::POST,
        "/v1/refresh",
        Some(r#"{"computer":"beta","topics":["sessions","preparation"]}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    let asked = f.refresher.asked.lock().clone();
    assert_eq!(
        asked,
        vec![
            RefreshScope::new(None, None),
            RefreshScope {
                computer: Some("beta".into()),
                topics: vec![Topic::Sessions, Topic::Preparation],
            },
        ]
    );
}

#[tokio::test]
async fn create_with_a_chosen_id_answers_201_then_200_with_the_current_state() {
    let f = fixture();
    let body = r#"{"title":"t","agent":"claude","session_id":"0b7e2c1a-claude.1:x"}"#;
    let a = call(&f.api, Method::POST, "/v1/sessions", Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json()["session_id"], "0b7e2c1a-claude.1:x");
    assert_eq!(a.headers[LOCATION], "/v1/sessions/0b7e2c1a-claude.1:x");
    let changed = call(
        &f.api,
        Method::PATCH,
        "/v1/sessions/0b7e2c1a-claude.1:x",
        Some(r#"{"status":"waiting"}"#),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    let again = call(&f.api, Method::POST, "/v1/sessions", Some(body)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), changed.json(), "the current state, unchanged");
}

#[tokio::test]
async fn create_with_another_computers_id_is_a_conflict() {
    let f = fixture();
    f.cache.put_session(session("theirs", "beta", 4));
    let a = call(
        &f.api,
        Method::POST,
        "/v1/sessions",
        Some(r#"{"title":"t","session_id":"theirs"}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.json()["error"]["code"], "conflict");
    assert_eq!(f.cache.session("theirs").unwrap().rev, 4);
}

#[tokio::test]
async fn a_bad_chosen_id_is_a_bad_field() {
    let f = fixture();
    for id in ["", "a/b", "with space", &"x".repeat(129)] {
        let body = serde_json::json!({"title": "t", "session_id": id}).to_string();
        let a = call(&f.api, Method::POST, "/v1/sessions", Some(&body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{id:?}");
        assert!(
            a.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("session_id"),
            "{id:?}"
        );
    }
}

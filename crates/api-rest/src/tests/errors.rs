//! Every refusal: its status, code, headers, and that nothing was written.

use super::*;
use hyper::header::{ALLOW, CONTENT_LENGTH};

async fn check(
    f: &Fixture,
    method: Method,
    uri: &str,
    body: Option<&str>,
    status: u16,
    code: &str,
) {
    let a = call(&f.api, method.clone(), uri, body).await;
    assert_eq!(a.status.as_u16(), status, "{method} {uri}: {:?}", a.body);
    assert_eq!(a.error_code(), code, "{method} {uri}");
}

#[tokio::test]
async fn bad_bodies_are_400() {
    let f = fixture();
    for (body, code) in [
        ("{", "bad_json"),
        ("not json", "bad_json"),
        ("", "bad_json"),
        (r#"{"title":"t","colour":"red"}"#, "bad_field"),
        (r#"{"title":42}"#, "bad_field"),
        (r#"{"agent":"claude"}"#, "bad_field"),
        (r#"{"title":"   "}"#, "bad_field"),
        (r#"{"title":"t","status":"closed"}"#, "bad_field"),
        (r#"{"title":"t","status":"sleeping"}"#, "bad_field"),
        ("[1,2]", "bad_field"),
    ] {
        check(&f, Method::POST, "/v1/sessions", Some(body), 400, code).await;
    }
    f.cache.put_session(session("s1", LOCAL, 1));
    check(
        &f,
        Method::PATCH,
        "/v1/sessions/s1",
        Some(r#"{"rev":9}"#),
        400,
        "bad_field",
    )
    .await;
    check(
        &f,
        Method::PATCH,
        "/v1/sessions/s1",
        Some(r#"{"title":""}"#),
        400,
        "bad_field",
    )
    .await;
    check(
        &f,
        Method::PATCH,
        "/v1/sessions/s1",
        Some("{]"),
        400,
        "bad_json",
    )
    .await;
    assert_eq!(f.cache.counts().sessions, 1);
    assert_eq!(f.cache.session("s1").unwrap().rev, 1);

    let a = call(&f.api, Method::POST, "/v1/sessions", Some(r#"{"title":1}"#)).await;
    let message = a.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("invalid type"), "{message}");
    let text = f.metrics.render();
    assert!(
        text.contains(r#"fleet_dropped_inputs_total{source="rest",reason="bad_field"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn bad_queries_are_400() {
    let f = fixture();
    for uri in [
        "/v1/sessions?computr=alpha",
        "/v1/sessions?computer=a%20b",
        "/v1/sessions?computer=",
        "/v1/sessions?computer=a&computer=b",
        "/v1/projects?computer=-x",
        "/v1/todos?project=%zz",
        "/v1/todos?project=",
        "/v1/health?verbose=1",
        "/v1/computers?computer=alpha",
    ] {
        check(&f, Method::GET, uri, None, 400, "bad_field").await;
    }
}

#[tokio::test]
async fn unknown_paths_and_ids_are_404() {
    let f = fixture();
    check(&f, Method::GET, "/v1/nothing", None, 404, "not_found").await;
    check(&f, Method::GET, "/", None, 404, "not_found").await;
    check(&f, Method::GET, "/v1/sessions/nope", None, 404, "not_found").await;
    check(
        &f,
        Method::PATCH,
        "/v1/sessions/nope",
        Some(r#"{"title":"t"}"#),
        404,
        "not_found",
    )
    .await;
    check(
        &f,
        Method::DELETE,
        "/v1/sessions/nope",
        None,
        404,
        "not_found",
    )
    .await;
    // No upgrader configured.
    check(&f, Method::GET, "/v1/ws", None, 404, "not_found").await;
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let f = fixture();
    for (method, uri, allow) in [
        (Method::DELETE, "/v1/sessions", "GET, POST"),
        (Method::POST, "/v1/sessions/s1", "GET, PATCH, DELETE"),
        (Method::GET, "/v1/refresh", "POST"),
        (Method::POST, "/v1/health", "GET"),
        (Method::PUT, "/metrics", "GET"),
        (Method::POST, "/v1/ws", "GET"),
    ] {
        let a = call(&f.api, method.clone(), uri, None).await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_eq!(a.error_code(), "method_not_allowed");
        assert_eq!(a.headers[ALLOW], allow, "{method} {uri}");
    }
}

#[tokio::test]
async fn a_body_over_one_mib_is_413() {
    let f = fixture();
    let big = format!(r#"{{"title":"{}"}}"#, "x".repeat(crate::MAX_BODY_BYTES));
    assert!(big.len() > crate::MAX_BODY_BYTES);
    // Without Content-Length: refused while reading.
    check(
        &f,
        Method::POST,
        "/v1/sessions",
        Some(&big),
        413,
        "body_too_large",
    )
    .await;
    // Exactly 1 MiB + 1 declared up front: refused before reading.
    let req = Request::post("/v1/sessions")
        .header(CONTENT_TYPE, "application/json")
        .header(CONTENT_LENGTH, crate::MAX_BODY_BYTES + 1)
        .body(Full::new(Bytes::from(vec![
            b' ';
            crate::MAX_BODY_BYTES + 1
        ])))
        .unwrap();
    let a = send(&f.api, req).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.error_code(), "body_too_large");
    // Exactly 1 MiB + 1 with no Content-Length.
    let req = Request::post("/v1/refresh")
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(vec![
            b' ';
            crate::MAX_BODY_BYTES + 1
        ])))
        .unwrap();
    assert_eq!(
        send(&f.api, req).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(f.cache.counts().sessions, 0);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let f = fixture();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let req = Request::post("/v1/sessions");
        let req = match content_type {
            Some(ct) => req.header(CONTENT_TYPE, ct),
            None => req,
        };
        let a = send(
            &f.api,
            req.body(Full::new(Bytes::from_static(br#"{"title":"t"}"#)))
                .unwrap(),
        )
        .await;
        assert_eq!(
            a.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(a.error_code(), "unsupported_media_type");
    }
    let ok = Request::post("/v1/sessions")
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Full::new(Bytes::from_static(br#"{"title":"t"}"#)))
        .unwrap();
    assert_eq!(send(&f.api, ok).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn writes_to_another_computers_session_without_a_fleet_link_are_503() {
    let f = fixture();
    f.cache.put_session(session("remote", "beta", 4));
    check(
        &f,
        Method::PATCH,
        "/v1/sessions/remote",
        Some(r#"{"title":"mine now"}"#),
        503,
        "peer_unreachable",
    )
    .await;
    check(
        &f,
        Method::PATCH,
        "/v1/sessions/remote",
        Some("{}"),
        503,
        "peer_unreachable",
    )
    .await;
    check(
        &f,
        Method::DELETE,
        "/v1/sessions/remote",
        None,
        503,
        "peer_unreachable",
    )
    .await;
    let held = f.cache.session("remote").unwrap();
    assert_eq!(held.rev, 4);
    assert_eq!(held.session().unwrap().title, "title remote");
}

#[tokio::test]
async fn refresh_refusals() {
    let f = fixture();
    check(
        &f,
        Method::POST,
        "/v1/refresh",
        Some(r#"{"topics":["weather"]}"#),
        400,
        "bad_field",
    )
    .await;
    check(
        &f,
        Method::POST,
        "/v1/refresh",
        Some(r#"{"computer":"a b"}"#),
        400,
        "bad_field",
    )
    .await;
    check(
        &f,
        Method::POST,
        "/v1/refresh",
        Some(r#"{"topics":"sessions"}"#),
        400,
        "bad_field",
    )
    .await;
    check(&f, Method::POST, "/v1/refresh", Some("{"), 400, "bad_json").await;
    assert!(f.refresher.asked.lock().is_empty());
    *f.refresher.down.lock() = true;
    check(&f, Method::POST, "/v1/refresh", None, 503, "unavailable").await;
}

#[tokio::test]
async fn an_unavailable_store_is_503() {
    let f = fixture();
    *f.store.down.lock() = true;
    check(
        &f,
        Method::POST,
        "/v1/sessions",
        Some(r#"{"title":"t"}"#),
        503,
        "unavailable",
    )
    .await;
}

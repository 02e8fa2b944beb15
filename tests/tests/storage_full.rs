//! Session writes when the data dir's disk is full or read-only, on a real daemon whose
//! `--data-dir` is a file system the test mounts (root only, as in CI): writes answer 507
//! `storage_full` or 503 `storage_unavailable` at once, reads and health go on, nothing is
//! half written (the store rolls back and the cache keeps the last committed state), and
//! writes work again once space returns.

mod common;

use std::time::{Duration, Instant};

use common::{assert_error, create_titled, id_of};
use fleet_tests::mounts::{Ext4Image, Filler, Tmpfs};
use fleet_tests::{DaemonFixture, StatusCode, Value, assert_eventually, json};

/// A refused write is answered within this (generous) bound.
const ANSWER_BOUND: Duration = Duration::from_secs(5);

/// The sessions the daemon lists, by id and title.
async fn titles(daemon: &DaemonFixture) -> Vec<(String, String)> {
    let (status, list) = daemon.http_get("/v1/sessions").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut out: Vec<(String, String)> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| (id_of(s), s["title"].as_str().unwrap_or_default().to_owned()))
        .collect();
    out.sort();
    out
}

/// Tries every kind of session write on `id`; each must be refused with `status` and
/// `code`, quickly.
async fn assert_writes_refused(daemon: &DaemonFixture, id: &str, status: StatusCode, code: &str) {
    let path = format!("/v1/sessions/{id}");
    for (what, answer) in [
        ("POST", {
            let t = Instant::now();
            let a = daemon
                .http_post_json("/v1/sessions", &json!({"title": "new"}))
                .await;
            eprintln!("figures: refused POST answered in {:?}", t.elapsed());
            assert!(t.elapsed() < ANSWER_BOUND, "answered in {:?}", t.elapsed());
            a
        }),
        (
            "PATCH",
            daemon
                .http_patch_json(&path, &json!({"title": "changed"}))
                .await,
        ),
        ("DELETE", daemon.http_delete(&path).await),
    ] {
        let (got, body): (StatusCode, Value) = answer;
        assert_eq!(got, status, "{what}: {body}");
        assert_error(got, &body, status, Some(code));
    }
}

#[tokio::test]
async fn a_full_disk_refuses_session_writes_with_507_until_space_returns() {
    let disk = Tmpfs::mount(2048);
    let mut daemon = DaemonFixture::builder()
        .data_dir(disk.path().join("data"))
        .start()
        .await;
    let kept = id_of(&create_titled(&daemon, "kept").await);
    let before = titles(&daemon).await;

    let filler = Filler::fill(disk.path());
    assert_writes_refused(
        &daemon,
        &kept,
        StatusCode::INSUFFICIENT_STORAGE,
        "storage_full",
    )
    .await;
    // Reads and health go on; the cache holds the last committed state.
    assert_eq!(titles(&daemon).await, before);
    daemon.health().await;
    let (status, one) = daemon.http_get(&format!("/v1/sessions/{kept}")).await;
    assert_eq!(
        (status, one["title"].as_str()),
        (StatusCode::OK, Some("kept"))
    );
    assert_eq!(
        daemon.logs().matches("session store cannot write").count(),
        1,
        "logged once:\n{}",
        daemon.log_tail(30)
    );

    filler.remove();
    let (status, _) = assert_eventually!(
        daemon
            .http_patch_json(&format!("/v1/sessions/{kept}"), &json!({"title": "after"}))
            .await,
        |a: &(StatusCode, Value)| a.0 == StatusCode::OK
    );
    assert_eq!(status, StatusCode::OK);
    let (status, created) = daemon
        .http_post_json("/v1/sessions", &json!({"title": "later"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(daemon.logs().contains("session store writes work again"));

    // The store holds exactly what was answered as written.
    let expected = titles(&daemon).await;
    assert_eq!(expected.len(), 2, "{expected:?}");
    daemon.restart().await;
    assert_eq!(titles(&daemon).await, expected);
}

#[tokio::test]
async fn a_read_only_disk_refuses_session_writes_with_503() {
    let disk = Ext4Image::mount(16);
    let daemon = DaemonFixture::builder()
        .data_dir(disk.path().join("data"))
        .start()
        .await;
    let kept = id_of(&create_titled(&daemon, "kept").await);
    let before = titles(&daemon).await;

    disk.force_read_only();
    assert_writes_refused(
        &daemon,
        &kept,
        StatusCode::SERVICE_UNAVAILABLE,
        "storage_unavailable",
    )
    .await;
    assert_eq!(titles(&daemon).await, before);
    daemon.health().await;
    let (status, _) = daemon.http_get("/v1/computers").await;
    assert_eq!(status, StatusCode::OK);
}

//! The embedding example (`examples/embed.rs`) runs as a test, so that it
//! cannot rot: two caches joined by peer-sync over the in-memory
//! transport, a session written on one shows up in the other.

#[path = "../examples/embed.rs"]
mod embed;

#[tokio::test]
async fn the_embedding_example_sees_the_other_computers_session() {
    let json = embed::demo().await.expect("the example succeeds");
    let session: model::Session = serde_json::from_str(&json).expect("a session's JSON");
    assert_eq!(session.computer, "alpha");
    assert_eq!(session.title, "embed the fleet cache");
}

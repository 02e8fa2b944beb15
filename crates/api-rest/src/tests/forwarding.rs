//! Writes of another computer's session: forwarded through
//! [`RemoteSessions`](crate::RemoteSessions) and answered with the owner's
//! status and body; the owner's side ([`crate::apply_forwarded`]) answers
//! as its local API would, and never forwards on.

use super::*;
use crate::{ForwardError, RemoteSessions};
use model::forwarded::{ForwardedWrite, WriteOp, WriteReply};

/// Records what is forwarded and answers with a canned reply (or, when
/// none, as an unreachable owner).
#[derive(Default)]
struct FakeRemote {
    sent: Mutex<Vec<(String, ForwardedWrite)>>,
    reply: Mutex<Option<WriteReply>>,
}

#[async_trait::async_trait]
impl RemoteSessions for FakeRemote {
    async fn locate(&self, session_id: &str) -> Option<String> {
        (session_id == "elsewhere").then(|| "beta".to_owned())
    }

    async fn forward(
        &self,
        owner: &str,
        write: ForwardedWrite,
    ) -> Result<WriteReply, ForwardError> {
        self.sent.lock().push((owner.to_owned(), write));
        self.reply
            .lock()
            .clone()
            .ok_or_else(|| ForwardError::Unreachable {
                owner: owner.to_owned(),
                reason: "did not answer within 3s".into(),
            })
    }
}

fn with_remote() -> (Fixture, Arc<FakeRemote>) {
    let remote = Arc::new(FakeRemote::default());
    let f = fixture_full(crate::RestConfig::default(), Some(remote.clone()));
    f.cache
        .peer_heartbeat(computer("beta"), Duration::from_secs(2));
    f.cache.put_session(session("remote", "beta", 4));
    (f, remote)
}

#[tokio::test]
async fn patch_delete_and_post_are_forwarded_and_answered_as_the_owner_did() {
    let (f, remote) = with_remote();
    let mut owner_view = session("remote", "beta", 5);
    owner_view.title = "renamed".into();
    *remote.reply.lock() = Some(WriteReply {
        status: 200,
        body: serde_json::to_value(&owner_view).unwrap(),
    });
    let a = call(
        &f.api,
        Method::PATCH,
        "/v1/sessions/remote",
        Some(r#"{"title":"renamed"}"#),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["title"], "renamed");
    let (owner, write) = remote.sent.lock()[0].clone();
    assert_eq!(owner, "beta");
    assert_eq!(write.op, WriteOp::Update);
    assert_eq!(write.session_id.as_deref(), Some("remote"));
    assert_eq!(write.body, Some(serde_json::json!({"title": "renamed"})));

    *remote.reply.lock() = Some(WriteReply {
        status: 204,
        body: serde_json::json!({}),
    });
    let a = call(&f.api, Method::DELETE, "/v1/sessions/remote", None).await;
    assert_eq!(a.status, 204);
    assert!(a.body.is_empty());
    assert_eq!(remote.sent.lock()[1].1.op, WriteOp::End);
    // A session the cache does not hold is looked up in the fleet first.
    let a = call(&f.api, Method::DELETE, "/v1/sessions/elsewhere", None).await;
    assert_eq!(a.status, 204);
    assert_eq!(
        remote.sent.lock().pop().unwrap().1.session_id.as_deref(),
        Some("elsewhere")
    );
    let a = call(&f.api, Method::DELETE, "/v1/sessions/nowhere", None).await;
    assert_eq!(a.status, 404, "not found anywhere");

    let created = session("00000000-0000-4000-8000-00000000beef", "beta", 1);
    *remote.reply.lock() = Some(WriteReply {
        status: 201,
        body: serde_json::to_value(&created).unwrap(),
    });
    let a = call(
        &f.api,
        Method::POST,
        "/v1/sessions",
        Some(r#"{"title":"t","computer":"beta"}"#),
    )
    .await;
    assert_eq!(a.status, 201);
    assert_eq!(
        a.headers["location"],
        "/v1/sessions/00000000-0000-4000-8000-00000000beef"
    );
    let (_, write) = remote.sent.lock()[2].clone();
    assert_eq!(write.op, WriteOp::Create);
    assert_eq!(write.body.unwrap()["computer"], "beta");

    // The owner's refusal passes through as it is.
    *remote.reply.lock() = Some(WriteReply::error(403, "remote_writes_disabled", "off"));
    let a = call(&f.api, Method::DELETE, "/v1/sessions/remote", None).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.error_code(), "remote_writes_disabled");
    assert_eq!(
        f.cache.session("remote").unwrap().rev,
        4,
        "the cache waits for the owner's event"
    );
}

#[tokio::test]
async fn an_unreachable_owner_is_503_and_bad_input_never_leaves() {
    let (f, remote) = with_remote();
    let a = call(&f.api, Method::DELETE, "/v1/sessions/remote", None).await;
    assert_eq!(a.status, 503);
    assert_eq!(a.error_code(), "peer_unreachable");
    // Refused here, before anything is sent.
    let a = call(
        &f.api,
        Method::PATCH,
        "/v1/sessions/remote",
        Some(r#"{"rev":1}"#),
    )
    .await;
    assert_eq!(a.error_code(), "bad_field");
    let a = call(
        &f.api,
        Method::POST,
        "/v1/sessions",
        Some(r#"{"title":"t","computer":"nobody"}"#),
    )
    .await;
    assert_eq!(
        (a.status.as_u16(), a.error_code().as_str()),
        (404, "not_found")
    );
    let a = call(
        &f.api,
        Method::POST,
        "/v1/sessions",
        Some(r#"{"title":"t","computer":"bad name"}"#),
    )
    .await;
    assert_eq!(a.error_code(), "bad_field");
    assert_eq!(remote.sent.lock().len(), 1, "only the DELETE was sent");
    // "computer" naming this one creates here.
    let a = call(
        &f.api,
        Method::POST,
        "/v1/sessions",
        Some(r#"{"title":"t","computer":"alpha"}"#),
    )
    .await;
    assert_eq!(a.status, 201);
    assert_eq!(a.json()["computer"], LOCAL);
}

async fn owner_applies(
    f: &Fixture,
    op: WriteOp,
    id: Option<&str>,
    body: Option<serde_json::Value>,
) -> WriteReply {
    crate::apply_forwarded(
        &f.cache,
        f.store.as_ref(),
        ForwardedWrite {
            op,
            session_id: id.map(str::to_owned),
            body,
        },
    )
    .await
}

#[tokio::test]
async fn the_owner_answers_a_forwarded_write_as_its_local_api() {
    let f = fixture();
    f.cache.put_session(session("s1", LOCAL, 1));
    f.cache.put_session(session("theirs", "gamma", 1));
    let r = owner_applies(
        &f,
        WriteOp::Update,
        Some("s1"),
        Some(serde_json::json!({"title": "new"})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["title"], "new");
    assert_eq!(r.body["rev"], 2);
    let r = owner_applies(
        &f,
        WriteOp::Update,
        Some("s1"),
        Some(serde_json::json!({"colour": 1})),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (400, Some("bad_field"))
    );
    let r = owner_applies(&f, WriteOp::End, Some("theirs"), None).await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (409, Some("conflict")),
        "never forwarded on"
    );
    let r = owner_applies(&f, WriteOp::End, Some("missing"), None).await;
    assert_eq!(r.status, 404);
    let r = owner_applies(&f, WriteOp::End, None, None).await;
    assert_eq!(r.status, 400);
    let r = owner_applies(
        &f,
        WriteOp::Create,
        None,
        Some(serde_json::json!({"title": "t", "computer": LOCAL})),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["computer"], LOCAL);
    let r = owner_applies(
        &f,
        WriteOp::Create,
        None,
        Some(serde_json::json!({"title": "t", "computer": "gamma"})),
    )
    .await;
    assert_eq!(r.status, 409);
    let r = owner_applies(&f, WriteOp::End, Some("s1"), None).await;
    assert_eq!((r.status, r.body.clone()), (204, serde_json::json!({})));
    assert!(f.cache.session("s1").is_none());
}

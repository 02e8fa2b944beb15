//! Forwarded session writes over the in-memory transport with paused
//! time: answered after the owner applied them, refused without the
//! owner's opt-in, an offline owner (at once) and a silent one (after 3 s),
//! a request delivered twice (applied once, both answered alike), a reply
//! after its asker gave up (dropped and counted), signed requests and a
//! forged one.

mod common;

use common::*;
use model::forwarded::{ForwardedWrite, WriteOp, WriteReply};
use parking_lot::Mutex;
use peer_sync::{ApplyWrites, ForwardError};

/// The owner's write path, as the daemon's would be: applies to the cache
/// (after an optional delay, standing in for a slow commit) and answers as
/// the local API would.
struct Owner {
    cache: DaemonCache,
    delay: Mutex<Duration>,
    applied: Mutex<Vec<(String, ForwardedWrite)>>,
}

#[async_trait::async_trait]
impl ApplyWrites for Owner {
    async fn apply(&self, from: &str, write: ForwardedWrite) -> WriteReply {
        let delay = *self.delay.lock();
        tokio::time::sleep(delay).await;
        self.applied.lock().push((from.to_owned(), write.clone()));
        let id = write.session_id.clone().unwrap_or_default();
        let Some(held) = self.cache.session(&id).and_then(|r| r.session()) else {
            return WriteReply::error(404, "not_found", "no such session");
        };
        match write.op {
            WriteOp::End => {
                self.cache.close_session(&held.computer, &id, held.rev + 1);
                WriteReply {
                    status: 204,
                    body: serde_json::json!({}),
                }
            }
            _ => {
                let mut s = held;
                s.rev += 1;
                if let Some(t) = write
                    .body
                    .as_ref()
                    .and_then(|b| b.get("title"))
                    .and_then(|t| t.as_str())
                {
                    s.title = t.to_owned();
                }
                self.cache.put_session(s.clone());
                WriteReply {
                    status: 200,
                    body: serde_json::to_value(&s).unwrap(),
                }
            }
        }
    }
}

struct Pair {
    a: Node,
    b: Node,
    owner: Arc<Owner>,
}

impl Pair {
    /// `b`'s forwarder: where every test's writes to `a` start.
    fn forwarder(&self) -> peer_sync::Forwarder {
        self.b.sync.as_ref().expect("b runs").forwarder()
    }
}

/// `a` owns session `s1`; `b` forwards to it. `a` applies forwarded
/// writes only when `allow`.
async fn pair(hub: &MemoryHub, allow: bool, delay: Duration, secret: Option<&[u8]>) -> Pair {
    let cfg = PeerSyncConfig {
        allow_remote_writes: allow,
        ..config(secret)
    };
    // The owner applies to the node's own cache: bound once it exists.
    let late = Arc::new(LateOwner(Mutex::new(None)));
    let mut a = Node::start_applying(
        hub,
        "a",
        cfg,
        CacheConfig::default(),
        Some(late.clone() as Arc<dyn ApplyWrites>),
    );
    let owner = Arc::new(Owner {
        cache: a.cache.clone(),
        delay: Mutex::new(delay),
        applied: Mutex::new(Vec::new()),
    });
    *late.0.lock() = Some(owner.clone());
    a.touch("s1");
    let b = Node::start_with(hub, "b", config(secret));
    until(Duration::from_secs(5), "peers see each other", || {
        a.cache.online_peers() == 1 && b.cache.online_peers() == 1
    })
    .await;
    Pair { a, b, owner }
}

/// Hands calls to an [`Owner`] set after the node started (the owner
/// applies to the node's own cache).
struct LateOwner(Mutex<Option<Arc<Owner>>>);

#[async_trait::async_trait]
impl ApplyWrites for LateOwner {
    async fn apply(&self, from: &str, write: ForwardedWrite) -> WriteReply {
        let owner = self.0.lock().clone();
        match owner {
            Some(o) => o.apply(from, write).await,
            None => WriteReply::error(503, "unavailable", "not ready"),
        }
    }
}

fn update(title: &str) -> ForwardedWrite {
    ForwardedWrite {
        op: WriteOp::Update,
        session_id: Some("s1".into()),
        body: Some(serde_json::json!({ "title": title })),
    }
}

fn end() -> ForwardedWrite {
    ForwardedWrite {
        op: WriteOp::End,
        session_id: Some("s1".into()),
        body: None,
    }
}

#[tokio::test(start_paused = true)]
async fn an_update_is_answered_after_the_owner_applied_it() {
    let hub = MemoryHub::new();
    let p = pair(&hub, true, Duration::ZERO, None).await;
    let started = tokio::time::Instant::now();
    let reply = p.forwarder().forward("a", update("renamed")).await;
    let reply = reply.expect("answered");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["title"], "renamed");
    assert_eq!(reply.body["rev"], 2);
    assert!(started.elapsed() < Duration::from_secs(3));
    let held = p.a.cache.session("s1").and_then(|r| r.session()).unwrap();
    assert_eq!(
        held.title, "renamed",
        "committed on the owner before the answer"
    );
    assert_eq!(p.owner.applied.lock().len(), 1);
    assert_eq!(
        p.owner.applied.lock()[0].0,
        "b",
        "the owner knows who asked"
    );

    let reply = p.forwarder().forward("a", end()).await.unwrap();
    assert_eq!(reply.status, 204);
    assert!(p.a.cache.session("s1").is_none(), "ended on the owner");
}

#[tokio::test(start_paused = true)]
async fn without_the_owners_opt_in_the_answer_is_403() {
    let hub = MemoryHub::new();
    let p = pair(&hub, false, Duration::ZERO, None).await;
    let reply = p.forwarder().forward("a", update("x")).await.unwrap();
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"]["code"], "remote_writes_disabled");
    assert!(p.owner.applied.lock().is_empty(), "nothing applied");
    assert_eq!(p.a.session_title("s1"), "s1 rev 1");
    assert!(
        !p.b.computer("a").remote_writes,
        "the heartbeat says it refuses"
    );
}

#[tokio::test(start_paused = true)]
async fn an_offline_owner_fails_at_once() {
    let hub = MemoryHub::new();
    let mut p = pair(&hub, true, Duration::ZERO, None).await;
    assert!(
        p.b.computer("a").remote_writes,
        "the heartbeat says it accepts"
    );
    p.a.stop().await;
    until(Duration::from_secs(1), "b sees a leave", || {
        p.b.cache.online_peers() == 0
    })
    .await;
    let started = tokio::time::Instant::now();
    let err = p.forwarder().forward("a", end()).await.unwrap_err();
    assert_eq!(err, ForwardError::Offline { owner: "a".into() });
    assert_eq!(started.elapsed(), Duration::ZERO, "no waiting");
    let err = p.forwarder().forward("nobody", end()).await.unwrap_err();
    assert!(
        matches!(err, ForwardError::Offline { .. }),
        "never heard of"
    );
    assert_eq!(hub.appends("fleet:inbox:{a}"), 0, "nothing sent");
}

#[tokio::test(start_paused = true)]
async fn a_silent_owner_fails_after_three_seconds() {
    let hub = MemoryHub::new();
    let p = pair(&hub, true, Duration::ZERO, None).await;
    // a stops reading and writing, but is not yet judged offline by b.
    hub.cut("a");
    let started = tokio::time::Instant::now();
    let err = p.forwarder().forward("a", end()).await.unwrap_err();
    assert_eq!(
        err,
        ForwardError::Silent {
            owner: "a".into(),
            waited: Duration::from_secs(3)
        }
    );
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert!(p.owner.applied.lock().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_request_delivered_twice_is_applied_once_and_answered_alike() {
    let hub = MemoryHub::new();
    let p = pair(&hub, true, Duration::ZERO, None).await;
    let reply = p.forwarder().forward("a", update("once")).await.unwrap();
    assert_eq!(reply.status, 200);
    // The transport delivers the same request again (a re-sent XADD).
    let request = hub.entries("fleet:inbox:{a}").pop().expect("the request");
    let fields: Vec<(String, Bytes)> = request.fields.clone();
    hub.xadd_raw("fleet:inbox:{a}", fields);
    until(Duration::from_secs(1), "the duplicate answered", || {
        hub.entries("fleet:inbox:{b}").len() == 2
    })
    .await;
    assert_eq!(p.owner.applied.lock().len(), 1, "applied once");
    let held = p.a.cache.session("s1").and_then(|r| r.session()).unwrap();
    assert_eq!(held.rev, 2, "no second change");
    let replies: Vec<Bytes> = hub
        .entries("fleet:inbox:{b}")
        .iter()
        .map(|e| body_of(&e.fields))
        .collect();
    assert_eq!(
        replies[0], replies[1],
        "the duplicate gets the first answer"
    );
    assert_eq!(p.a.dropped("duplicate_request"), 1);
    until(
        Duration::from_secs(1),
        "the second reply dropped on b",
        || p.b.dropped("late_reply") == 1,
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_reply_after_the_asker_gave_up_is_dropped_and_counted() {
    let hub = MemoryHub::new();
    let p = pair(&hub, true, Duration::from_secs(5), None).await;
    let err = p
        .forwarder()
        .forward("a", update("slow"))
        .await
        .unwrap_err();
    assert!(matches!(err, ForwardError::Silent { .. }), "{err}");
    assert_eq!(p.b.dropped("late_reply"), 0);
    until(Duration::from_secs(5), "the late reply arrives", || {
        p.b.dropped("late_reply") == 1
    })
    .await;
    assert_eq!(p.a.session_title("s1"), "slow", "the owner did apply it");
    // The asker goes on: the next write is answered normally.
    *p.owner.delay.lock() = Duration::ZERO;
    let reply = p.forwarder().forward("a", end()).await.unwrap();
    assert_eq!(reply.status, 204);
}

#[tokio::test(start_paused = true)]
async fn signed_requests_work_and_a_forged_one_is_dropped() {
    let hub = MemoryHub::new();
    let secret: &[u8] = b"fleet secret";
    let p = pair(&hub, true, Duration::ZERO, Some(secret)).await;
    let reply = p.forwarder().forward("a", update("signed")).await.unwrap();
    assert_eq!(reply.status, 200);
    assert!(
        hub.entries("fleet:inbox:{a}")
            .iter()
            .all(|e| e.fields.iter().any(|(k, _)| k == "sig")),
        "the request is signed"
    );
    assert!(
        hub.entries("fleet:inbox:{b}")
            .iter()
            .all(|e| e.fields.iter().any(|(k, _)| k == "sig")),
        "the reply is signed"
    );
    // The same request signed with another secret, and one unsigned.
    let body = br#"{"id":"forged-1","op":"end","session_id":"s1"}"#;
    let forged = Envelope {
        kind: Kind::Request,
        from: "b".into(),
        boot: "x".into(),
        body: Bytes::from_static(body),
    };
    for secret in [Some(b"wrong".as_slice()), None] {
        let fields = forged
            .to_fields(secret)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        hub.xadd_raw("fleet:inbox:{a}", fields);
    }
    until(Duration::from_secs(1), "both dropped", || {
        p.a.dropped("bad_signature") == 1 && p.a.dropped("unsigned") == 1
    })
    .await;
    run_for(Duration::from_secs(1)).await;
    assert_eq!(
        p.owner.applied.lock().len(),
        1,
        "only the signed one applied"
    );
    assert!(p.a.cache.session("s1").is_some(), "not ended");
}

#[tokio::test(start_paused = true)]
async fn a_reply_from_another_computer_is_refused() {
    let hub = MemoryHub::new();
    let p = pair(&hub, true, Duration::from_secs(1), None).await;
    let forwarder = p.forwarder();
    let ask = tokio::spawn(async move { forwarder.forward("a", end()).await });
    until(Duration::from_millis(500), "the request sent", || {
        !hub.entries("fleet:inbox:{a}").is_empty()
    })
    .await;
    let request = hub.entries("fleet:inbox:{a}").pop().unwrap();
    let id: serde_json::Value = serde_json::from_slice(&body_of(&request.fields)).unwrap();
    // Someone but the owner answers first, claiming a refusal.
    let fake = Envelope::new(
        Kind::Response,
        "mallory",
        "m1",
        &serde_json::json!({"id": id["id"], "status": 403, "body": {}}),
    );
    let fields = fake
        .to_fields(None)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    hub.xadd_raw("fleet:inbox:{b}", fields);
    let reply = ask.await.unwrap().unwrap();
    assert_eq!(reply.status, 204, "the owner's answer, not the forger's");
    assert_eq!(p.b.dropped("forged_from"), 1);
}

fn body_of(fields: &[(String, Bytes)]) -> Bytes {
    fields
        .iter()
        .find(|(k, _)| k == "body")
        .map(|(_, v)| v.clone())
        .unwrap()
}

trait NodeExt {
    fn session_title(&self, id: &str) -> String;
    fn computer(&self, name: &str) -> Computer;
}

impl NodeExt for Node {
    fn session_title(&self, id: &str) -> String {
        self.cache
            .session(id)
            .and_then(|r| r.session())
            .map(|s| s.title)
            .unwrap_or_default()
    }

    fn computer(&self, name: &str) -> Computer {
        self.cache
            .computers()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
    }
}

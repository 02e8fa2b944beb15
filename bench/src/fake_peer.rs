//! [`FakePeers`]: computers that exist only in the bench, speaking the
//! protocol of `PROTOCOL.md` section 5 directly with fred: each heartbeats
//! on `NS:presence` and answers snapshot requests in its inbox with its own
//! sessions. A daemon that refreshes from them ends up holding their
//! sessions in its cache, without a real daemon per computer.
//!
//! A snapshot response is one entry, and an entry's body may not pass
//! 1 MiB, so many sessions are spread over many fake computers (1,000
//! sessions of ~450 bytes each make a ~450 KB response).

use crate::redis_client::Redis;
use anyhow::{Context as _, bail};
use bytes::Bytes;
use fred::interfaces::StreamsInterface as _;
use fred::types::Value;
use fred::types::streams::XReadResponse;
use model::wire::{
    Envelope, HeartbeatBody, INBOX_MAXLEN, Keys, Kind, PRESENCE_MAXLEN, RequestBody, ResponseBody,
    SnapshotData,
};
use model::{Computer, Interest, Session, SessionStatus, Timestamp, Topic};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::task::JoinSet;

/// Heartbeat period the fake computers announce.
const PERIOD: Duration = Duration::from_secs(2);

/// Running fake computers; dropping the value stops them.
pub struct FakePeers {
    json_bytes: usize,
    tasks: JoinSet<anyhow::Result<()>>,
}

struct Ghost {
    name: String,
    boot: String,
    started: Timestamp,
    sessions: Vec<Session>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn session(owner: &str, i: usize, at: i64) -> Session {
    let i64_i = i64::try_from(i).unwrap_or(i64::MAX);
    Session {
        session_id: uuid::Uuid::new_v4().to_string(),
        computer: owner.to_owned(),
        title: format!(
            "refactor the {owner} parser, step {i}: split the tokenizer from the AST builder"
        ),
        project_path: Some(format!("/home/dev/src/{owner}/project-{:03}", i % 50)),
        agent: "claude".into(),
        thinking_mode: Some("extended".into()),
        status: SessionStatus::Active,
        created_at: Timestamp::from_millis(at - 3_600_000),
        last_activity: Timestamp::from_millis(at - i64_i),
        last_input: None,
        last_output: None,
        rev: 1,
        stale: false,
    }
}

fn fields(env: &Envelope) -> Vec<(&'static str, Value)> {
    env.to_fields(None)
        .into_iter()
        .map(|(k, v)| (k, Value::Bytes(v)))
        .collect()
}

impl FakePeers {
    /// Starts `count` fake computers (`ghost-000`, ...) owning `per_peer`
    /// sessions each, heartbeating on the Redis at `url`.
    ///
    /// # Errors
    /// When Redis cannot be reached.
    pub async fn start(
        url: &str,
        namespace: &str,
        count: usize,
        per_peer: usize,
    ) -> anyhow::Result<Self> {
        let at = now_ms();
        let ghosts: Vec<Ghost> = (0..count)
            .map(|g| {
                let name = format!("ghost-{g:03}");
                let sessions = (0..per_peer).map(|i| session(&name, i, at)).collect();
                Ghost {
                    name,
                    boot: uuid::Uuid::new_v4().to_string(),
                    started: Timestamp::from_millis(at),
                    sessions,
                }
            })
            .collect();
        let json_bytes = ghosts
            .iter()
            .flat_map(|g| &g.sessions)
            .map(|s| serde_json::to_vec(s).map_or(0, |v| v.len()))
            .sum();
        let ghosts = Arc::new(ghosts);
        let keys = Keys::new(namespace);
        let mut tasks = JoinSet::new();
        let heart = Redis::connect(url).await?;
        tasks.spawn(heartbeats(heart, keys.clone(), ghosts.clone()));
        let reader = Redis::connect(url).await?;
        let writer = Redis::connect(url).await?;
        tasks.spawn(answer_requests(reader, writer, keys, ghosts));
        Ok(Self { json_bytes, tasks })
    }

    /// The size of all their sessions as JSON, one by one.
    pub fn json_bytes(&self) -> usize {
        self.json_bytes
    }

    /// Fails if a fake computer's task has stopped with an error.
    ///
    /// # Errors
    /// The task's error.
    pub fn check(&mut self) -> anyhow::Result<()> {
        if let Some(done) = self.tasks.try_join_next() {
            done.context("a fake peer task panicked")??;
            bail!("a fake peer task stopped");
        }
        Ok(())
    }
}

/// Every fake computer announces itself every period, in one pipeline.
async fn heartbeats(redis: Redis, keys: Keys, ghosts: Arc<Vec<Ghost>>) -> anyhow::Result<()> {
    let presence = keys.presence();
    let period_ms = u64::try_from(PERIOD.as_millis()).unwrap_or(2000);
    let mut tick = tokio::time::interval(PERIOD);
    loop {
        tick.tick().await;
        let now = Timestamp::from_millis(now_ms());
        let pipeline = redis.client.pipeline();
        for g in ghosts.iter() {
            let body = HeartbeatBody {
                computer: Computer {
                    name: g.name.clone(),
                    online: true,
                    is_self: true,
                    host: g.name.clone(),
                    user: "bench".into(),
                    version: model::VERSION.into(),
                    boot_id: g.boot.clone(),
                    started_at: g.started,
                    last_seen: now,
                    remote_writes: false,
                    stats: None,
                    interest: Interest::default(),
                },
                period_ms,
                push_gen: model::wire::PushGen::default(),
                // Ghosts are previous-version peers: no liveness beats.
                alive_ms: None,
            };
            let env = Envelope::new(Kind::Heartbeat, &g.name, &g.boot, &body);
            let cap = (
                "MAXLEN",
                "~",
                i64::try_from(PRESENCE_MAXLEN).unwrap_or(i64::MAX),
            );
            let () = pipeline
                .xadd(presence.as_str(), false, cap, "*", fields(&env))
                .await
                .context("queue heartbeat")?;
        }
        for reply in pipeline.try_all::<Value>().await {
            reply.context("heartbeat XADD")?;
        }
    }
}

/// Reads every fake computer's inbox and answers each snapshot request
/// with that computer's sessions (events position `0-0`: it never pushes).
async fn answer_requests(
    reader: Redis,
    writer: Redis,
    keys: Keys,
    ghosts: Arc<Vec<Ghost>>,
) -> anyhow::Result<()> {
    let inboxes: Vec<String> = ghosts.iter().map(|g| keys.inbox(&g.name)).collect();
    let index: HashMap<&str, usize> = inboxes
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let mut positions: Vec<String> = vec!["0-0".to_owned(); inboxes.len()];
    loop {
        let v: Value = reader
            .client
            .xread(Some(100), Some(1_000), inboxes.clone(), positions.clone())
            .await
            .context("XREAD of the fake inboxes")?;
        if v.is_null() {
            continue;
        }
        let map: XReadResponse<String, String, String, Bytes> =
            v.into_xread_response().context("parse XREAD reply")?;
        for (inbox, entries) in map {
            let Some(&i) = index.get(inbox.as_str()) else {
                continue;
            };
            let Some(ghost) = ghosts.get(i) else {
                continue;
            };
            for (id, entry) in entries {
                positions[i] = id;
                let entry: Vec<(String, Bytes)> = entry.into_iter().collect();
                let Ok(env) = Envelope::from_fields(&entry, None) else {
                    continue;
                };
                if env.kind != Kind::Request {
                    continue;
                }
                let Ok(req) = env.parse_body::<RequestBody>() else {
                    continue;
                };
                let body = ResponseBody {
                    id: req.id,
                    ok: true,
                    data: SnapshotData {
                        sessions: req
                            .topics
                            .contains(&Topic::Sessions)
                            .then(|| ghost.sessions.clone()),
                        projects: None,
                        todos: None,
                    },
                    events_id: "0-0".into(),
                    error: None,
                    push_gen: model::wire::PushGen::default(),
                };
                let answer = Envelope::new(Kind::Response, &ghost.name, &ghost.boot, &body);
                let cap = (
                    "MAXLEN",
                    "~",
                    i64::try_from(INBOX_MAXLEN).unwrap_or(i64::MAX),
                );
                let _: Value = writer
                    .client
                    .xadd(keys.inbox(&env.from), false, cap, "*", fields(&answer))
                    .await
                    .context("XADD of a snapshot response")?;
            }
        }
    }
}

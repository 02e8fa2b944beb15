//! The naive design, for comparison: a reader with no cache that, on every
//! read, asks every peer for its sessions through Redis with the project's
//! own snapshot request (`model::wire` [`RequestBody`] into `NS:inbox:{C}`,
//! all peers at once in one pipeline), waits for every [`ResponseBody`] in
//! its own inbox with a blocking `XREAD`, and merges them newest first as
//! `GET /v1/sessions` would answer.

use crate::redis_client::Redis;
use anyhow::{Context as _, bail};
use bytes::Bytes;
use fred::interfaces::StreamsInterface as _;
use fred::types::Value;
use fred::types::streams::XReadResponse;
use model::wire::{Envelope, INBOX_MAXLEN, Keys, Kind, RequestBody, ResponseBody};
use model::{Session, Topic};
use std::collections::HashMap;
use std::time::Duration;

/// A reader computer that pulls everything at read time.
pub struct NaiveReader {
    writer: Redis,
    reader: Redis,
    keys: Keys,
    me: String,
    boot: String,
    peers: Vec<String>,
    inbox_pos: String,
}

/// What one naive read produced.
#[derive(Debug)]
pub struct NaiveAnswer {
    /// Sessions merged.
    pub sessions: usize,
    /// The merged JSON array, as a client would receive it.
    pub json: Bytes,
}

impl NaiveReader {
    /// A reader named `me` (a computer name of its own) asking `peers`,
    /// with one connection to send on and one to block reading on.
    ///
    /// # Errors
    /// When Redis cannot be reached.
    pub async fn connect(
        url: &str,
        namespace: &str,
        me: &str,
        peers: Vec<String>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            writer: Redis::connect(url).await?,
            reader: Redis::connect(url).await?,
            keys: Keys::new(namespace),
            me: me.to_owned(),
            boot: uuid::Uuid::new_v4().to_string(),
            peers,
            inbox_pos: "0-0".to_owned(),
        })
    }

    /// One read: a snapshot request to every peer in one pipeline, then
    /// blocking reads of the own inbox until every peer answered, then the
    /// merge (newest `last_activity` first) and its serialization.
    ///
    /// # Errors
    /// When Redis fails, an answer is malformed or refused, or `timeout`
    /// passes before every peer answered.
    pub async fn read(&mut self, timeout: Duration) -> anyhow::Result<NaiveAnswer> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pending: HashMap<String, &str> = HashMap::with_capacity(self.peers.len());
        let pipeline = self.writer.client.pipeline();
        for peer in &self.peers {
            let id = uuid::Uuid::new_v4().to_string();
            let body = RequestBody {
                id: id.clone(),
                op: "snapshot".into(),
                topics: vec![Topic::Sessions],
            };
            let env = Envelope::new(Kind::Request, &self.me, &self.boot, &body);
            let fields: Vec<(&str, Value)> = env
                .to_fields(None)
                .into_iter()
                .map(|(k, v)| (k, Value::Bytes(v)))
                .collect();
            let cap = (
                "MAXLEN",
                "~",
                i64::try_from(INBOX_MAXLEN).unwrap_or(i64::MAX),
            );
            let () = pipeline
                .xadd(self.keys.inbox(peer), false, cap, "*", fields)
                .await
                .context("queue XADD")?;
            pending.insert(id, peer.as_str());
        }
        for reply in pipeline.try_all::<Value>().await {
            reply.context("XADD of a snapshot request")?;
        }

        let inbox = self.keys.inbox(&self.me);
        let mut sessions: Vec<Session> = Vec::new();
        while !pending.is_empty() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                bail!("{} peers did not answer within {timeout:?}", pending.len());
            }
            let block_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX).max(1);
            let v: Value = self
                .reader
                .client
                .xread(
                    Some(100),
                    Some(block_ms),
                    inbox.as_str(),
                    self.inbox_pos.as_str(),
                )
                .await
                .context("XREAD of the inbox")?;
            if v.is_null() {
                continue;
            }
            let map: XReadResponse<String, String, String, Bytes> =
                v.into_xread_response().context("parse XREAD reply")?;
            for (_, entries) in map {
                for (id, fields) in entries {
                    self.inbox_pos = id;
                    let fields: Vec<(String, Bytes)> = fields.into_iter().collect();
                    let env = Envelope::from_fields(&fields, None)
                        .map_err(|e| anyhow::anyhow!("bad entry in the inbox: {e}"))?;
                    if env.kind != Kind::Response {
                        continue;
                    }
                    let body: ResponseBody = env
                        .parse_body()
                        .map_err(|e| anyhow::anyhow!("bad response body: {e}"))?;
                    if pending.remove(&body.id).is_none() {
                        continue;
                    }
                    if !body.ok {
                        bail!("{} refused the snapshot: {:?}", env.from, body.error);
                    }
                    sessions.extend(body.data.sessions.unwrap_or_default());
                }
            }
        }
        sessions.sort_by(|a, b| {
            b.last_activity
                .cmp(&a.last_activity)
                .then_with(|| a.session_id.cmp(&b.session_id))
        });
        let json = serde_json::to_vec(&sessions).context("serialize the merged sessions")?;
        Ok(NaiveAnswer {
            sessions: sessions.len(),
            json: Bytes::from(json),
        })
    }
}

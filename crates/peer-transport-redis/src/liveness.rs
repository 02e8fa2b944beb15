//! The liveness set and the record hash on Redis: what makes presence cost
//! O(1) commands per daemon per period.
//!
//! - A beat is one `EVAL` of [`BEAT`] on the sorted set `NS:alive`: it
//!   reads the server's own `TIME` (so every daemon judges deadlines on one
//!   clock), sets the member's score to `now + ttl`, reports the members
//!   whose deadline fell since the caller's last beat, and prunes members
//!   dead for longer than [`model::ALIVE_PRUNE`]. One key per call: fine on
//!   Redis Cluster.
//! - [`MEMBERS`] reads the whole set with the server's clock (a daemon that
//!   joins, or checks its view now and then).
//! - Records are plain `HSET` / `HGETALL` / `HDEL` on `NS:computers`.
//!
//! Every command goes through `custom` with the key's hash slot, so it is
//! routed to the right node of a cluster. Pure reply parsing is at the end.

use bytes::Bytes;
use fred::clients::Client;
use fred::interfaces::ClientLike;
use fred::types::{ClusterHash, CustomCommand, Value};
use model::{ALIVE_PRUNE, AliveBeat, AliveSet, TransportError};
use std::time::Duration;

use crate::error::{bad_reply, transport_error};

/// `KEYS[1]` the set, `ARGV` member, ttl ms, since ms, prune ms. Returns
/// `{now, was_alive, {member, deadline, ...}}`.
pub(crate) const BEAT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
local was = 0
if old and tonumber(old) > now then was = 1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local since = tonumber(ARGV[3])
local expired = {}
if since < now then
  expired = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. since, now, 'WITHSCORES')
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[4])))
return {now, was, expired}
";

/// `KEYS[1]` the set. Returns `{now, {member, deadline, ...}}`.
pub(crate) const MEMBERS: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return {now, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}
";

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A command routed by `key`'s hash slot.
fn command(name: &'static str, key: &str) -> CustomCommand {
    let slot = fred::util::redis_keyslot(key.as_bytes());
    CustomCommand::new_static(name, ClusterHash::Custom(slot), false)
}

async fn eval(
    client: &Client,
    script: &'static str,
    key: &str,
    args: Vec<Value>,
) -> Result<Value, TransportError> {
    let mut all: Vec<Value> = vec![script.into(), 1i64.into(), key.into()];
    all.extend(args);
    client
        .custom::<Value, _>(command("EVAL", key), all)
        .await
        .map_err(|e| transport_error("EVAL", &e))
}

/// One beat of `member` on the set `key` (see the module doc).
pub(crate) async fn beat(
    client: &Client,
    key: &str,
    member: &str,
    ttl: Duration,
    since_ms: u64,
) -> Result<AliveBeat, TransportError> {
    let args = vec![
        member.into(),
        millis(ttl).to_string().into(),
        since_ms.to_string().into(),
        millis(ALIVE_PRUNE).to_string().into(),
    ];
    parse_beat(eval(client, BEAT, key, args).await?)
}

/// The whole set `key` with the server's clock.
pub(crate) async fn members(client: &Client, key: &str) -> Result<AliveSet, TransportError> {
    parse_members(eval(client, MEMBERS, key, Vec::new()).await?)
}

/// `ZREM key member`.
pub(crate) async fn remove(client: &Client, key: &str, member: &str) -> Result<(), TransportError> {
    let args: Vec<Value> = vec![key.into(), member.into()];
    client
        .custom::<Value, _>(command("ZREM", key), args)
        .await
        .map(|_| ())
        .map_err(|e| transport_error("ZREM", &e))
}

/// `HSET key field value`.
pub(crate) async fn put_record(
    client: &Client,
    key: &str,
    field: &str,
    value: &[u8],
) -> Result<(), TransportError> {
    let args: Vec<Value> = vec![
        key.into(),
        field.into(),
        Value::Bytes(Bytes::copy_from_slice(value)),
    ];
    client
        .custom::<Value, _>(command("HSET", key), args)
        .await
        .map(|_| ())
        .map_err(|e| transport_error("HSET", &e))
}

/// `HGETALL key`.
pub(crate) async fn records(
    client: &Client,
    key: &str,
) -> Result<Vec<(String, Bytes)>, TransportError> {
    let args: Vec<Value> = vec![key.into()];
    let v = client
        .custom::<Value, _>(command("HGETALL", key), args)
        .await
        .map_err(|e| transport_error("HGETALL", &e))?;
    parse_records(v)
}

/// `HDEL key field`.
pub(crate) async fn remove_record(
    client: &Client,
    key: &str,
    field: &str,
) -> Result<(), TransportError> {
    let args: Vec<Value> = vec![key.into(), field.into()];
    client
        .custom::<Value, _>(command("HDEL", key), args)
        .await
        .map(|_| ())
        .map_err(|e| transport_error("HDEL", &e))
}

fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Integer(i) => u64::try_from(*i).ok(),
        Value::Double(d) if *d >= 0.0 => Some(d.round() as u64),
        other => {
            let text = other.as_str()?;
            text.parse::<u64>().ok().or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .filter(|d| *d >= 0.0)
                    .map(|d| d.round() as u64)
            })
        }
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.to_string())
}

/// `[member, score, ...]` (or a RESP3 map) as pairs.
fn scored(command: &'static str, v: Value) -> Result<Vec<(String, u64)>, TransportError> {
    let flat = match v {
        Value::Array(a) => a,
        Value::Map(m) => Value::Map(m).into_array(),
        Value::Null => Vec::new(),
        other => {
            return Err(bad_reply(
                command,
                format!("expected members and scores, got {:?}", other.kind()),
            ));
        }
    };
    // RESP3 may nest each pair as an array.
    let flat: Vec<Value> = flat
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(pair) => pair,
            v => vec![v],
        })
        .collect();
    if !flat.len().is_multiple_of(2) {
        return Err(bad_reply(command, "odd member/score list"));
    }
    flat.chunks(2)
        .map(|pair| match (text(&pair[0]), number(&pair[1])) {
            (Some(m), Some(s)) => Ok((m, s)),
            _ => Err(bad_reply(command, "bad member or score")),
        })
        .collect()
}

pub(crate) fn parse_beat(v: Value) -> Result<AliveBeat, TransportError> {
    let Value::Array(parts) = v else {
        return Err(bad_reply("EVAL", "expected a beat reply array"));
    };
    let mut parts = parts.into_iter();
    let (Some(now), Some(was), Some(expired)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad_reply("EVAL", "short beat reply"));
    };
    Ok(AliveBeat {
        now_ms: number(&now).ok_or_else(|| bad_reply("EVAL", "bad clock"))?,
        was_alive: number(&was).is_some_and(|w| w == 1),
        expired: scored("EVAL", expired)?,
    })
}

pub(crate) fn parse_members(v: Value) -> Result<AliveSet, TransportError> {
    let Value::Array(parts) = v else {
        return Err(bad_reply("EVAL", "expected a members reply array"));
    };
    let mut parts = parts.into_iter();
    let (Some(now), Some(members)) = (parts.next(), parts.next()) else {
        return Err(bad_reply("EVAL", "short members reply"));
    };
    Ok(AliveSet {
        now_ms: number(&now).ok_or_else(|| bad_reply("EVAL", "bad clock"))?,
        members: scored("EVAL", members)?,
    })
}

fn parse_records(v: Value) -> Result<Vec<(String, Bytes)>, TransportError> {
    let flat = match v {
        Value::Array(a) => a,
        Value::Map(m) => Value::Map(m).into_array(),
        Value::Null => Vec::new(),
        other => {
            return Err(bad_reply(
                "HGETALL",
                format!("expected fields and values, got {:?}", other.kind()),
            ));
        }
    };
    if !flat.len().is_multiple_of(2) {
        return Err(bad_reply("HGETALL", "odd field/value list"));
    }
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        let Some(field) = text(&k) else {
            return Err(bad_reply("HGETALL", "field is not text"));
        };
        let value = match v {
            Value::String(s) => s.into_inner(),
            Value::Bytes(b) => b,
            _ => return Err(bad_reply("HGETALL", "value is not a string")),
        };
        out.push((field, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beat_replies_parse_and_bad_ones_are_errors() {
        let v = Value::Array(vec![
            Value::Integer(1_700_000_000_500),
            Value::Integer(1),
            Value::Array(vec!["a".into(), "1700000000400".into()]),
        ]);
        let b = parse_beat(v).unwrap();
        assert_eq!(b.now_ms, 1_700_000_000_500);
        assert!(b.was_alive);
        assert_eq!(b.expired, vec![("a".to_owned(), 1_700_000_000_400)]);
        assert!(parse_beat(Value::Integer(3)).is_err());
        let odd = Value::Array(vec![
            Value::Integer(1),
            Value::Integer(0),
            Value::Array(vec!["a".into()]),
        ]);
        assert!(parse_beat(odd).is_err());
        let set = parse_members(Value::Array(vec![
            Value::Integer(5),
            Value::Array(vec!["b".into(), "7".into(), "c".into(), "1.7e12".into()]),
        ]))
        .unwrap();
        assert_eq!(set.members[1], ("c".to_owned(), 1_700_000_000_000));
    }
}

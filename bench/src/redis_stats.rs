//! What Redis itself counts: calls per command (`INFO commandstats`, reset
//! with `CONFIG RESETSTAT`) and how many entries were ever appended to a
//! stream (`XINFO STREAM`'s `entries-added`, Redis 7), which tells appends
//! to events streams apart from heartbeats on the presence stream.

use crate::redis_client::Redis;
use anyhow::Context as _;
use fred::interfaces::{ClientLike as _, StreamsInterface as _};
use fred::types::{InfoKind, Value};
use std::collections::BTreeMap;

/// Calls per command, lower-case (`xadd`, `xread`, ...).
pub type CommandCalls = BTreeMap<String, u64>;

/// `CONFIG RESETSTAT`: command counters start again from zero.
///
/// # Errors
/// When Redis refuses.
pub async fn reset(redis: &Redis) -> anyhow::Result<()> {
    let _: Value = redis
        .client
        .custom(fred::cmd!("CONFIG"), vec!["RESETSTAT"])
        .await
        .context("CONFIG RESETSTAT")?;
    Ok(())
}

/// `INFO commandstats` as calls per command.
///
/// # Errors
/// When Redis fails.
pub async fn command_calls(redis: &Redis) -> anyhow::Result<CommandCalls> {
    let text: String = redis
        .client
        .info(Some(InfoKind::CommandStats))
        .await
        .context("INFO commandstats")?;
    Ok(parse_commandstats(&text))
}

/// Lines `cmdstat_<name>:calls=N,usec=...` (sub-commands as `config|resetstat`).
fn parse_commandstats(text: &str) -> CommandCalls {
    let mut out = CommandCalls::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("cmdstat_") else {
            continue;
        };
        let Some((name, fields)) = rest.split_once(':') else {
            continue;
        };
        let calls = fields
            .split(',')
            .find_map(|f| f.strip_prefix("calls="))
            .and_then(|n| n.parse().ok());
        if let Some(calls) = calls {
            out.insert(name.to_ascii_lowercase(), calls);
        }
    }
    out
}

/// Entries ever appended to stream `key` (0 when it does not exist).
///
/// # Errors
/// When Redis fails otherwise, or the reply has no `entries-added`.
pub async fn entries_added(redis: &Redis, key: &str) -> anyhow::Result<u64> {
    let reply: Result<Value, _> = redis.client.xinfo_stream(key, false, None).await;
    let info = match reply {
        Ok(v) => v,
        Err(e) if e.details().to_ascii_lowercase().contains("no such key") => return Ok(0),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("XINFO STREAM {key}"))),
    };
    field(info, "entries-added")
        .with_context(|| format!("XINFO STREAM {key}: no entries-added (Redis 7 or later needed)"))
}

fn field(info: Value, name: &str) -> Option<u64> {
    match info {
        Value::Array(items) => {
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                if k.as_str().is_some_and(|k| k == name) {
                    return v.as_u64();
                }
            }
            None
        }
        Value::Map(map) => map
            .inner()
            .into_iter()
            .find(|(k, _)| k.as_str().is_some_and(|k| k == name))
            .and_then(|(_, v)| v.as_u64()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commandstats() {
        let text = "# Commandstats\r\ncmdstat_xadd:calls=12,usec=80,usec_per_call=6.67,rejected_calls=0,failed_calls=0\r\ncmdstat_config|resetstat:calls=1,usec=5\r\n";
        let calls = parse_commandstats(text);
        assert_eq!(calls.get("xadd"), Some(&12));
        assert_eq!(calls.get("config|resetstat"), Some(&1));
        assert_eq!(calls.len(), 2);
    }
}

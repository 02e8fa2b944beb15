//! Turning Redis replies (fred [`Value`]s) into ids and entries, without
//! losing bytes: field values stay the exact bytes that were written.
//! Pure functions, no I/O.

use bytes::Bytes;
use fred::types::Value;
use model::TransportError;
use model::{StreamBatch, StreamEntry, StreamId};

use crate::error::bad_reply;

/// An entry id as returned by `XADD` or inside entries.
pub(crate) fn stream_id(command: &'static str, v: &Value) -> Result<StreamId, TransportError> {
    let text = v
        .as_str()
        .ok_or_else(|| bad_reply(command, format!("expected an entry id, got {:?}", v.kind())))?;
    StreamId::parse(&text).ok_or_else(|| bad_reply(command, format!("bad entry id {text:?}")))
}

/// The raw bytes of a bulk string (fred gives `String` when they are valid
/// UTF-8 and `Bytes` otherwise; both share the received buffer).
fn raw_bytes(command: &'static str, v: Value) -> Result<Bytes, TransportError> {
    match v {
        Value::String(s) => Ok(s.into_inner()),
        Value::Bytes(b) => Ok(b),
        Value::Integer(i) => Ok(Bytes::from(i.to_string())),
        Value::Null => Ok(Bytes::new()),
        other => Err(bad_reply(
            command,
            format!("expected a string, got {:?}", other.kind()),
        )),
    }
}

/// One `[id, [field, value, ...]]` entry.
pub(crate) fn entry(command: &'static str, v: Value) -> Result<StreamEntry, TransportError> {
    let Value::Array(parts) = v else {
        return Err(bad_reply(
            command,
            format!("expected an entry array, got {:?}", v.kind()),
        ));
    };
    let mut parts = parts.into_iter();
    let (Some(id), fields) = (parts.next(), parts.next()) else {
        return Err(bad_reply(command, "empty entry"));
    };
    let id = stream_id(command, &id)?;
    let flat = match fields {
        // An entry deleted while it was being read has no fields.
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(flat)) => flat,
        Some(Value::Map(map)) => Value::Map(map).into_array(),
        Some(other) => {
            return Err(bad_reply(
                command,
                format!("expected entry fields, got {:?}", other.kind()),
            ));
        }
    };
    if flat.len() % 2 != 0 {
        return Err(bad_reply(
            command,
            format!("entry {id} has an odd number of field items"),
        ));
    }
    let mut fields = Vec::with_capacity(flat.len() / 2);
    let mut items = flat.into_iter();
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        let name = raw_bytes(command, name)?;
        // A field name that is not UTF-8 was not written by a daemon: keep
        // it (lossily) so that validation upstream drops the entry, rather
        // than failing the read and retrying the same entry forever.
        let name = String::from_utf8_lossy(&name).into_owned();
        fields.push((name, raw_bytes(command, value)?));
    }
    Ok(StreamEntry { id, fields })
}

/// The reply of `XRANGE` / `XREVRANGE`: a list of entries.
pub(crate) fn entries(command: &'static str, v: Value) -> Result<Vec<StreamEntry>, TransportError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.into_iter().map(|e| entry(command, e)).collect(),
        other => Err(bad_reply(
            command,
            format!("expected a list of entries, got {:?}", other.kind()),
        )),
    }
}

/// The reply of `XREAD`: nil on timeout, else per stream its entries
/// (`[[key, [entry...]]...]` in RESP2, a map in RESP3).
pub(crate) fn xread(v: Value) -> Result<Vec<StreamBatch>, TransportError> {
    const CMD: &str = "XREAD";
    let pairs: Vec<(Value, Value)> = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(streams) => streams
            .into_iter()
            .map(|s| match s {
                Value::Array(kv) if kv.len() == 2 => {
                    let mut kv = kv.into_iter();
                    match (kv.next(), kv.next()) {
                        (Some(k), Some(v)) => Ok((k, v)),
                        _ => Err(bad_reply(CMD, "bad stream pair")),
                    }
                }
                other => Err(bad_reply(
                    CMD,
                    format!("expected [stream, entries], got {:?}", other.kind()),
                )),
            })
            .collect::<Result<_, _>>()?,
        Value::Map(map) => map
            .inner()
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
        other => {
            return Err(bad_reply(
                CMD,
                format!("expected streams, got {:?}", other.kind()),
            ));
        }
    };
    let mut out = Vec::with_capacity(pairs.len());
    for (key, list) in pairs {
        let key = raw_bytes(CMD, key)?;
        let key = String::from_utf8(key.to_vec())
            .map_err(|_| bad_reply(CMD, "stream name is not UTF-8"))?;
        let list = entries(CMD, list)?;
        if !list.is_empty() {
            out.push((key, list));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::from(x)
    }

    fn entry_value(id: &str, fields: Vec<Value>) -> Value {
        Value::Array(vec![s(id), Value::Array(fields)])
    }

    #[test]
    fn xread_nil_is_empty() {
        assert_eq!(xread(Value::Null).expect("nil"), vec![]);
    }

    #[test]
    fn xread_resp2_keeps_bytes_and_order() {
        let raw = Bytes::from_static(&[0xff, 0x00, 0x80]);
        let reply = Value::Array(vec![Value::Array(vec![
            s("fleet:events:{a}"),
            Value::Array(vec![
                entry_value(
                    "5-1",
                    vec![s("kind"), s("event"), s("body"), Value::Bytes(raw.clone())],
                ),
                entry_value("6-0", vec![]),
            ]),
        ])]);
        let got = xread(reply).expect("valid");
        assert_eq!(got.len(), 1);
        let (key, list) = &got[0];
        assert_eq!(key, "fleet:events:{a}");
        assert_eq!(list[0].id, StreamId::new(5, 1));
        assert_eq!(
            list[0].fields,
            vec![
                ("kind".to_string(), Bytes::from_static(b"event")),
                ("body".to_string(), raw)
            ]
        );
        assert_eq!(list[1].id, StreamId::new(6, 0));
        assert!(list[1].fields.is_empty());
    }

    #[test]
    fn malformed_replies_are_protocol_errors() {
        for bad in [
            Value::Integer(3),
            Value::Array(vec![s("only-key")]),
            Value::Array(vec![Value::Array(vec![
                s("k"),
                Value::Array(vec![s("not-an-entry")]),
            ])]),
            Value::Array(vec![Value::Array(vec![
                s("k"),
                Value::Array(vec![entry_value("x-y", vec![])]),
            ])]),
            Value::Array(vec![Value::Array(vec![
                s("k"),
                Value::Array(vec![entry_value("1-1", vec![s("odd")])]),
            ])]),
        ] {
            assert!(
                matches!(xread(bad.clone()), Err(TransportError::Protocol { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn non_utf8_field_names_do_not_fail_the_read() {
        let e = entry(
            "XRANGE",
            entry_value(
                "1-0",
                vec![Value::Bytes(Bytes::from_static(&[0xff])), s("v")],
            ),
        )
        .expect("kept");
        assert_eq!(e.fields[0].0, "\u{fffd}");
    }

    #[test]
    fn xrange_lists() {
        assert!(
            entries("XRANGE", Value::Array(vec![]))
                .expect("empty")
                .is_empty()
        );
        let one = entries(
            "XRANGE",
            Value::Array(vec![entry_value("7-2", vec![s("a"), s("b")])]),
        )
        .expect("one");
        assert_eq!(one[0].id, StreamId::new(7, 2));
    }
}

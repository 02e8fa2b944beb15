//! Building JSON answers by concatenating bytes that were serialized once,
//! when the record changed: a list answer costs a copy, not a serialization.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

/// Serializes a record once. Contract types serialize infallibly (no maps
/// with non-string keys, no failing `Serialize` impls), so the error branch
/// is unreachable in practice; it still yields valid JSON (`null`).
pub(crate) fn to_bytes<T: Serialize>(value: &T) -> Bytes {
    match serde_json::to_vec(value) {
        Ok(mut v) => {
            // The Vec grew by doubling; a record lives long, so give back
            // the slack (up to half of every buffer) before keeping it.
            v.shrink_to_fit();
            Bytes::from(v)
        }
        Err(e) => {
            tracing::error!(error = %e, "serializing a cache record failed");
            Bytes::from_static(b"null")
        }
    }
}

/// A JSON string literal for `s`.
pub(crate) fn string(s: &str) -> Bytes {
    to_bytes(&s)
}

/// Joins pre-serialized JSON values into a JSON array.
pub(crate) fn array<'a>(items: impl IntoIterator<Item = &'a Bytes>) -> Bytes {
    let items = items.into_iter();
    let mut out = BytesMut::with_capacity(2 + items.size_hint().0 * 256);
    out.put_u8(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(item);
    }
    out.put_u8(b']');
    out.freeze()
}

/// Builds a JSON object from keys and pre-serialized values.
pub(crate) fn object(fields: &[(&str, &[u8])]) -> Bytes {
    let len: usize = fields.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let mut out = BytesMut::with_capacity(len + 2);
    out.put_u8(b'{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_u8(b'"');
        out.put_slice(k.as_bytes());
        out.put_slice(b"\":");
        out.put_slice(v);
    }
    out.put_u8(b'}');
    out.freeze()
}

/// Concatenates byte slices into one buffer of exactly their total size.
pub(crate) fn concat<'a>(parts: impl Iterator<Item = &'a [u8]> + Clone) -> Bytes {
    let len = parts.clone().map(<[u8]>::len).sum();
    let mut out = BytesMut::with_capacity(len);
    for p in parts {
        out.put_slice(p);
    }
    out.freeze()
}

/// Appends a field to a serialized JSON object (`{...}` becomes
/// `{...,"key":value}`).
pub(crate) fn extend_object(object: &[u8], key: &str, value: &[u8]) -> Bytes {
    let body = object.strip_suffix(b"}").unwrap_or(object);
    let mut out = BytesMut::with_capacity(object.len() + key.len() + value.len() + 4);
    out.put_slice(body);
    if body.len() > 1 {
        out.put_u8(b',');
    }
    out.put_u8(b'"');
    out.put_slice(key.as_bytes());
    out.put_slice(b"\":");
    out.put_slice(value);
    out.put_u8(b'}');
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_valid_json() {
        let a = Bytes::from_static(b"{\"a\":1}");
        let arr = array([&a, &a]);
        assert_eq!(&arr[..], b"[{\"a\":1},{\"a\":1}]");
        assert_eq!(&array([])[..], b"[]");
        let obj = object(&[("x", &arr), ("y", b"2")]);
        let v: serde_json::Value = serde_json::from_slice(&obj).unwrap();
        assert_eq!(v["y"], 2);
        let ext = extend_object(&a, "todos", b"[]");
        assert_eq!(&ext[..], b"{\"a\":1,\"todos\":[]}");
        assert_eq!(&extend_object(b"{}", "k", b"1")[..], b"{\"k\":1}");
    }
}

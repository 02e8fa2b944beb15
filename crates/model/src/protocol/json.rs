//! JSON built from bytes that were serialized once: a list answer is the
//! concatenation `[a,b,c]` of records each serialized when it changed, and a
//! payload or frame wraps such bytes in a few fixed keys. Costs a copy, not
//! a serialization.
//!
//! The caller vouches that every value passed in is valid JSON; keys are
//! the contract's fixed field names, written without escaping.

use bytes::{BufMut, Bytes, BytesMut};

/// A JSON string literal for `s` (quoted and escaped).
pub fn string(s: &str) -> Bytes {
    // Serializing a `str` into memory has no failure path in serde_json (it
    // fails only on I/O errors and non-string map keys); the fallback is
    // still valid JSON.
    serde_json::to_vec(s).map_or_else(|_| Bytes::from_static(b"\"\""), Bytes::from)
}

/// Joins pre-serialized JSON values into a JSON array: `[a,b,c]`.
pub fn array<'a>(items: impl IntoIterator<Item = &'a Bytes>) -> Bytes {
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

/// Builds a JSON object from keys and pre-serialized values, in the order
/// given: `{"k1":v1,"k2":v2}`.
pub fn object(fields: &[(&str, &[u8])]) -> Bytes {
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
pub fn concat<'a>(parts: impl Iterator<Item = &'a [u8]> + Clone) -> Bytes {
    let len = parts.clone().map(<[u8]>::len).sum();
    let mut out = BytesMut::with_capacity(len);
    for p in parts {
        out.put_slice(p);
    }
    out.freeze()
}

/// Appends a field to a serialized JSON object (`{...}` becomes
/// `{...,"key":value}`): a project becomes a project with its todos.
pub fn extend_object(object: &[u8], key: &str, value: &[u8]) -> Bytes {
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
        assert_eq!(&obj[..], b"{\"x\":[{\"a\":1},{\"a\":1}],\"y\":2}");
        let ext = extend_object(&a, "todos", b"[]");
        assert_eq!(&ext[..], b"{\"a\":1,\"todos\":[]}");
        assert_eq!(&extend_object(b"{}", "k", b"1")[..], b"{\"k\":1}");
        assert_eq!(&string("a\"b\n")[..], br#""a\"b\n""#);
        assert_eq!(
            &concat([b"ab".as_slice(), b"", b"c"].into_iter())[..],
            b"abc"
        );
    }
}

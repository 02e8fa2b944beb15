//! What a REST client sends, through `api-rest`'s decoders (the
//! `api_rest::fuzzing` entry points): the request target (route, session
//! id, query string), the body under its headers, and the JSON body into
//! the request types of `model` with their validation.
//!
//! Input: one selector byte, then `TARGET \n CONTENT-TYPE \n BODY` (a
//! missing part is empty; an empty content type sends none). Selector:
//! bits 0-1 pick the route's query parameters (none, `computer`,
//! `computer` and `project`, `project`); bits 2-3 the body type
//! (`NewSession`, `SessionPatch`, `RefreshRequest`); bit 4 sends a
//! `Content-Length` of the body's length, bit 5 `Transfer-Encoding:
//! chunked`.
//!
//! Properties: accepted query values, percent-encoded again, decode to the
//! same values; a session id taken from a path is what its segment
//! decodes to; a body that is read is the body sent; a request that
//! validates has a non-blank title within the size limit.

use api_rest::fuzzing::{self, Refused};
use bytes::Bytes;
use hyper::HeaderMap;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, TRANSFER_ENCODING};
use model::validate::MAX_TEXT_FIELD_BYTES;
use model::{NewSession, RefreshRequest, SessionPatch};

const ALLOWED: [&[&str]; 4] = [&[], &["computer"], &["computer", "project"], &["project"]];

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |b| *b == b'\n');
    let target = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let content_type = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    let (path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target.as_ref(), None),
    };
    route(path);
    query(raw_query, ALLOWED[usize::from(sel & 3)]);

    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(content_type)
        && !content_type.is_empty()
    {
        headers.insert(CONTENT_TYPE, v);
    }
    if sel & 16 != 0 {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    if sel & 32 != 0 {
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
    }
    if let Ok(read) = fuzzing::read_body(&headers, Bytes::copy_from_slice(body)) {
        assert_eq!(read.as_ref(), body);
    }
    match (sel >> 2) & 3 {
        0 => {
            if let Ok(s) = fuzzing::json_body::<NewSession>(body)
                && s.validate().is_ok()
            {
                assert!(!s.title.trim().is_empty() && s.title.len() <= MAX_TEXT_FIELD_BYTES);
            }
        }
        1 => {
            if let Ok(p) = fuzzing::json_body::<SessionPatch>(body)
                && p.validate().is_ok()
            {
                let _ = p.is_empty();
                if let Some(t) = &p.title {
                    assert!(!t.trim().is_empty() && t.len() <= MAX_TEXT_FIELD_BYTES);
                }
            }
        }
        _ => {
            let _: Result<RefreshRequest, Refused> = fuzzing::optional_json_body(body);
        }
    }
}

fn route(path: &str) {
    let (pattern, id) = fuzzing::route(path);
    if let Some(id) = id {
        assert_eq!(pattern, "/v1/sessions/{id}");
        let raw = path
            .strip_prefix("/v1/sessions/")
            .expect("a session route starts so");
        assert_eq!(fuzzing::path_segment(raw).as_ref(), Ok(&id));
    }
}

fn query(raw: Option<&str>, allowed: &[&str]) {
    let Ok(values) = fuzzing::query(raw, allowed) else {
        return;
    };
    let again: Vec<String> = allowed
        .iter()
        .zip(&values)
        .filter_map(|(name, v)| v.as_ref().map(|v| format!("{name}={}", encode(v))))
        .collect();
    let again = again.join("&");
    assert_eq!(
        fuzzing::query(Some(&again), allowed).as_ref(),
        Ok(&values),
        "{again}"
    );
}

/// Percent-encodes every byte but the unreserved ones.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

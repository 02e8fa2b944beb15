//! Request bodies: the 1 MiB limit (checked on `Content-Length` up front
//! and enforced while reading), the `application/json` content type, and
//! JSON decoding that tells bad JSON (`bad_json`) from bad fields
//! (`bad_field`).

use crate::error::ApiError;
use crate::timed_body::BodyTimedOut;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::HeaderMap;
use hyper::body::Body;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

/// The largest request body the API reads: 1 MiB (`PROTOCOL.md` section 3).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Reads the whole body, empty when the client sent none.
///
/// Refuses a body over [`MAX_BODY_BYTES`] (413), a non-empty body whose
/// content type is not JSON (415), and one cut off by its
/// [`TimedBody`](crate::timed_body::TimedBody) deadline (408).
pub(crate) async fn read<B>(headers: &HeaderMap, body: B) -> Result<Bytes, ApiError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = declared_length(headers)?;
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(ApiError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let announced = declared.is_some_and(|n| n > 0) || headers.contains_key(TRANSFER_ENCODING);
    if announced {
        check_json_type(headers)?;
    }
    let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return Err(ApiError::BodyTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        Err(e) if timed_out(&*e).is_some() => {
            let timeout = timed_out(&*e).map_or(0, |t| t.timeout.as_millis());
            return Err(ApiError::RequestTimeout {
                timeout_ms: u64::try_from(timeout).unwrap_or(u64::MAX),
            });
        }
        Err(e) => {
            return Err(ApiError::BadRequest(format!(
                "could not read the request body: {e}"
            )));
        }
    };
    if !announced && !bytes.is_empty() {
        check_json_type(headers)?;
    }
    Ok(bytes)
}

/// The [`BodyTimedOut`] in `e`, itself or as its source (`Limited` keeps
/// the inner body's error boxed as it is).
fn timed_out<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyTimedOut> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(t) = err.downcast_ref::<BodyTimedOut>() {
            return Some(t);
        }
        current = err.source();
    }
    None
}

/// Decodes a JSON body into `T`.
///
/// Every body of the API is a JSON object: serde would also build a
/// struct from an array of its fields in order (`["title"]`), which the
/// contract does not allow, so any other JSON value is refused
/// (`bad_field`).
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(ApiError::BadJson(
            "the request body is empty: expected a JSON object".into(),
        ));
    };
    let value = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        Category::Data => ApiError::BadField(format!("bad field in the request body: {e}")),
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::BadJson(format!("the request body is not valid JSON: {e}"))
        }
    })?;
    if *first != b'{' {
        return Err(ApiError::BadField(
            "the request body must be a JSON object".into(),
        ));
    }
    Ok(value)
}

/// Decodes an optional JSON body: `T::default()` when the body is empty.
pub(crate) fn decode_optional<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        decode(bytes)
    }
}

fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(CONTENT_LENGTH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest(format!("bad Content-Length {value:?}")))
}

/// Accepts `application/json`, with parameters, as long as any `charset`
/// is UTF-8.
fn check_json_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Err(ApiError::UnsupportedMediaType(
            "a request body must have Content-Type: application/json".into(),
        ));
    };
    let refused = || {
        ApiError::UnsupportedMediaType(format!(
            "Content-Type {value:?} is not accepted: send application/json"
        ))
    };
    let text = value.to_str().map_err(|_| refused())?;
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(refused());
    }
    for param in parts {
        if let Some((name, val)) = param.split_once('=')
            && name.trim().eq_ignore_ascii_case("charset")
        {
            let val = val.trim().trim_matches('"');
            if !val.eq_ignore_ascii_case("utf-8") && !val.eq_ignore_ascii_case("utf8") {
                return Err(refused());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(hyper::header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.insert(n.clone(), HeaderValue::from_static(v));
        }
        h
    }

    async fn check(h: &HeaderMap, body: &'static [u8]) -> Result<Bytes, ApiError> {
        read(h, Full::new(Bytes::from_static(body))).await
    }

    #[tokio::test]
    async fn content_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=\"UTF-8\"",
        ] {
            let h = headers(&[(CONTENT_TYPE, ok)]);
            assert!(check(&h, b"{}").await.is_ok(), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/json; charset=latin1",
            "application/jsonx",
        ] {
            let h = headers(&[(CONTENT_TYPE, bad)]);
            assert_eq!(
                check(&h, b"{}").await.unwrap_err().code(),
                "unsupported_media_type"
            );
        }
        assert_eq!(
            check(&HeaderMap::new(), b"{}").await.unwrap_err().code(),
            "unsupported_media_type"
        );
        // No body, no content type needed.
        assert!(check(&HeaderMap::new(), b"").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn declared_length_over_the_limit_is_refused_before_reading() {
        let h = headers(&[
            (CONTENT_LENGTH, "1048577"),
            (CONTENT_TYPE, "application/json"),
        ]);
        assert_eq!(check(&h, b"{}").await.unwrap_err().code(), "body_too_large");
        let h = headers(&[(CONTENT_LENGTH, "ten")]);
        assert_eq!(check(&h, b"").await.unwrap_err().code(), "bad_request");
    }

    #[test]
    fn json_errors_are_classified() {
        assert_eq!(
            decode::<model::NewSession>(b"{").unwrap_err().code(),
            "bad_json"
        );
        assert_eq!(
            decode::<model::NewSession>(b"").unwrap_err().code(),
            "bad_json"
        );
        assert_eq!(
            decode::<model::NewSession>(br#"{"title":1}"#)
                .unwrap_err()
                .code(),
            "bad_field"
        );
        assert_eq!(
            decode::<model::NewSession>(br#"{"title":"t","x":1}"#)
                .unwrap_err()
                .code(),
            "bad_field"
        );
        let r: model::RefreshRequest = decode_optional(b" ").unwrap();
        assert_eq!(r, model::RefreshRequest::default());
    }

    #[test]
    fn only_a_json_object_is_a_body() {
        // serde builds a struct from an array of its fields; the API does not.
        for body in [&br#"["t"]"#[..], b" [null, null]", br#""t""#, b"null", b"1"] {
            let text = String::from_utf8_lossy(body);
            assert_eq!(
                decode::<model::RefreshRequest>(body).unwrap_err().code(),
                "bad_field",
                "{text}"
            );
            assert_eq!(
                decode::<model::NewSession>(body).unwrap_err().code(),
                "bad_field",
                "{text}"
            );
        }
        assert_eq!(
            decode_optional::<model::RefreshRequest>(b"[null,null]")
                .unwrap_err()
                .code(),
            "bad_field"
        );
        assert_eq!(
            decode::<model::NewSession>(b"[").unwrap_err().code(),
            "bad_json"
        );
        let s: model::NewSession = decode(b" \n{\"title\":\"t\"}").unwrap();
        assert_eq!(s.title, "t");
    }
}

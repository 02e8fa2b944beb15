//! Bearer-token authentication of the TCP listener: `Authorization: Bearer
//! <token>`, compared in constant time.

use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

/// Whether `headers` carry the bearer token `expected`.
///
/// The scheme is case-insensitive (RFC 7235); the token is compared in
/// constant time. An empty `expected` token matches nothing, so a
/// misconfigured listener fails closed.
pub(crate) fn authorized(headers: &HeaderMap, expected: &[u8]) -> bool {
    if expected.is_empty() {
        return false;
    }
    let Some(value) = headers.get(AUTHORIZATION) else {
        return false;
    };
    let raw = value.as_bytes();
    let Some(space) = raw.iter().position(|b| *b == b' ') else {
        return false;
    };
    let (scheme, rest) = raw.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return false;
    }
    let presented = rest.trim_ascii();
    presented.ct_eq(expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn with(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn checks_the_bearer_token() {
        assert!(authorized(&with("Bearer s3cret"), b"s3cret"));
        assert!(authorized(&with("bearer  s3cret"), b"s3cret"));
        for bad in [
            "Bearer s3cre",
            "Bearer s3cretx",
            "Basic s3cret",
            "s3cret",
            "Bearer ",
        ] {
            assert!(!authorized(&with(bad), b"s3cret"), "{bad}");
        }
        assert!(!authorized(&HeaderMap::new(), b"s3cret"));
        assert!(!authorized(&with("Bearer "), b""));
    }
}

//! An error answer as raw HTTP/1.1 bytes, for the answers written beside
//! hyper rather than through it: the 503 of a full listener (written
//! straight to the accepted socket) and the JSON replacing hyper's own
//! bodiless parse-error answers (`json_errors.rs`). Both close the
//! connection.

use crate::error::ApiError;
use crate::response::APPLICATION_JSON;

/// The whole answer to `err`: status line, `content-type`,
/// `content-length`, `connection: close`, the extra `headers` (complete
/// lines without their CRLF, e.g. hyper's `date: ...`), then the JSON body.
pub(crate) fn error_answer(err: &ApiError, headers: &[&[u8]]) -> Vec<u8> {
    let status = err.status();
    let body = err.body();
    let mut out = Vec::with_capacity(160 + body.len());
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\ncontent-type: ");
    out.extend_from_slice(APPLICATION_JSON.as_bytes());
    out.extend_from_slice(b"\r\ncontent-length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\nconnection: close\r\n");
    for line in headers {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_complete_http() {
        let raw = error_answer(
            &ApiError::TooManyConnections { limit: 3 },
            &[b"date: Thu, 01 Jan 1970 00:00:00 GMT"],
        );
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\ncontent-type: application/json\r\n"));
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())));
        assert!(head.contains("\r\nconnection: close\r\n"));
        assert!(head.ends_with("\r\ndate: Thu, 01 Jan 1970 00:00:00 GMT"));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "too_many_connections");
    }
}

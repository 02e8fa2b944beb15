//! Sorts fred's connection errors into a [`LinkCause`], so that health and
//! logs can say *why* the link is down. Pure: no I/O (the one question an
//! error cannot answer, "is that a plain server behind a TLS URL?", is
//! asked by `probe.rs`).

use fred::error::{Error as FredError, ErrorKind};
use model::{LinkCause, LinkFailure};

/// The cause of a failed connection or command, with fred's words as the
/// detail.
pub(crate) fn classify(e: &FredError) -> LinkFailure {
    LinkFailure::new(cause(e.kind(), e.details()), e.to_string())
}

/// The cause from fred's error kind and details. Server error replies keep
/// their code as the first word (`WRONGPASS ...`, `NOPERM ...`); I/O errors
/// carry the `Debug` form of `std::io::Error`, in which rustls' own errors
/// appear by name (`InvalidCertificate(UnknownIssuer)`).
pub(crate) fn cause(kind: &ErrorKind, details: &str) -> LinkCause {
    let lower = details.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if matches!(kind, ErrorKind::Auth) || has(&["wrongpass", "noauth", "invalid password"]) {
        return LinkCause::Authentication;
    }
    if has(&["noperm"]) {
        return LinkCause::Permission;
    }
    // An alert from the server is about what *we* sent (no client
    // certificate, or one it does not trust: `AlertReceived(CertificateRequired)`),
    // not about the server's certificate.
    if has(&["alertreceived"]) {
        return LinkCause::Tls;
    }
    if has(&[
        "invalidcertificate",
        "invalid peer certificate",
        "unknownissuer",
        "certificate",
        "notvalidforname",
        "badsignature",
    ]) {
        return LinkCause::TlsCertificate;
    }
    // What rustls says when the answer to its hello is not TLS at all (a
    // plain server's `-ERR` reply, for instance).
    if has(&[
        "invalidcontenttype",
        "corrupt message",
        "invalidmessage",
        "wrong version number",
    ]) {
        return LinkCause::NotTls;
    }
    if has(&["connectionrefused", "connection refused"]) {
        return LinkCause::Refused;
    }
    if matches!(kind, ErrorKind::Timeout) || has(&["timedout", "timed out"]) {
        return LinkCause::TimedOut;
    }
    if has(&[
        "connectionreset",
        "connection reset",
        "connectionaborted",
        "brokenpipe",
        "broken pipe",
        "unexpectedeof",
        "eof",
        "closed",
        "canceled",
    ]) || matches!(kind, ErrorKind::Canceled)
    {
        return LinkCause::Lost;
    }
    if matches!(kind, ErrorKind::Tls) || has(&["handshake", "alert"]) {
        return LinkCause::Tls;
    }
    LinkCause::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Error texts as fred 10 reports them (seen against real servers).
    #[test]
    fn real_fred_errors_get_their_cause() {
        let cases: [(ErrorKind, &str, LinkCause); 12] = [
            (
                ErrorKind::IO,
                r#"Os { code: 111, kind: ConnectionRefused, message: "Connection refused" }"#,
                LinkCause::Refused,
            ),
            (
                ErrorKind::Timeout,
                "Request timed out.",
                LinkCause::TimedOut,
            ),
            (
                ErrorKind::IO,
                "Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) }",
                LinkCause::TlsCertificate,
            ),
            (
                ErrorKind::IO,
                "Custom { kind: InvalidData, error: InvalidCertificate(NotValidForName) }",
                LinkCause::TlsCertificate,
            ),
            (
                ErrorKind::IO,
                "IO Error: Custom { kind: InvalidData, error: AlertReceived(CertificateRequired) }",
                LinkCause::Tls,
            ),
            (
                ErrorKind::IO,
                "Custom { kind: InvalidData, error: AlertReceived(BadCertificate) }",
                LinkCause::Tls,
            ),
            (
                ErrorKind::IO,
                "Custom { kind: InvalidData, error: InvalidMessage(InvalidContentType) }",
                LinkCause::NotTls,
            ),
            (
                ErrorKind::Auth,
                "WRONGPASS invalid username-password pair or user is disabled.",
                LinkCause::Authentication,
            ),
            (
                ErrorKind::Auth,
                "NOAUTH Authentication required.",
                LinkCause::Authentication,
            ),
            (
                ErrorKind::Unknown,
                "NOPERM User fleet has no permissions to run the 'xadd' command",
                LinkCause::Permission,
            ),
            (
                ErrorKind::IO,
                r#"Os { code: 104, kind: ConnectionReset, message: "Connection reset by peer" }"#,
                LinkCause::Lost,
            ),
            (ErrorKind::Unknown, "something new", LinkCause::Other),
        ];
        for (kind, details, want) in cases {
            assert_eq!(cause(&kind, details), want, "{kind:?}: {details}");
        }
    }

    #[test]
    fn only_settings_problems_need_an_operator() {
        let e = FredError::new(ErrorKind::Auth, "WRONGPASS invalid username-password pair");
        let f = classify(&e);
        assert_eq!(f.cause, LinkCause::Authentication);
        assert!(f.cause.needs_operator());
        assert!(f.detail.contains("WRONGPASS"), "{}", f.detail);
        let refused = classify(&FredError::new(ErrorKind::IO, "Connection refused"));
        assert!(!refused.cause.needs_operator());
        let tls = classify(&FredError::new(ErrorKind::Tls, "HandshakeFailure"));
        assert_eq!(tls.cause, LinkCause::Tls);
        assert!(tls.cause.needs_operator());
    }
}

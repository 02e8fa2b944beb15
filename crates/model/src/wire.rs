//! The entries daemons exchange (`PROTOCOL.md` section 5): the envelope
//! (`v, kind, from, boot, body, sig`), optional HMAC-SHA256 signing, and
//! the stream keys. Pure: decoding an entry from outside never panics and
//! says exactly why it refused. The bodies an envelope carries are defined
//! in [`crate::protocol::peer`] and re-exported here.

use crate::transport::Field;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub use crate::protocol::peer::{
    EventBody, HeartbeatBody, PushGen, RequestBody, ResponseBody, SnapshotData,
};

/// The largest body an entry may carry (1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Approximate length limits of the streams.
pub const PRESENCE_MAXLEN: usize = 1000;
/// See [`PRESENCE_MAXLEN`].
pub const EVENTS_MAXLEN: usize = 10_000;
/// See [`PRESENCE_MAXLEN`].
pub const INBOX_MAXLEN: usize = 1000;

/// The stream keys of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    ns: String,
}

impl Keys {
    /// Keys under namespace `ns`.
    pub fn new(ns: &str) -> Self {
        Self { ns: ns.to_owned() }
    }

    /// `NS:presence`.
    pub fn presence(&self) -> String {
        format!("{}:presence", self.ns)
    }

    /// `NS:alive`: the liveness set (sorted set: computer -> the deadline
    /// of its last beat, on the Redis server's clock).
    pub fn alive(&self) -> String {
        format!("{}:alive", self.ns)
    }

    /// `NS:computers`: every beating computer's last full heartbeat entry
    /// (hash: computer -> the entry as a record), read by a daemon that
    /// joins or lost track of the presence stream.
    pub fn computers(&self) -> String {
        format!("{}:computers", self.ns)
    }

    /// `NS:events:{C}` (the braces are a Redis Cluster hash tag).
    pub fn events(&self, computer: &str) -> String {
        format!("{}:events:{{{computer}}}", self.ns)
    }

    /// `NS:inbox:{C}`.
    pub fn inbox(&self, computer: &str) -> String {
        format!("{}:inbox:{{{computer}}}", self.ns)
    }

    /// The computer whose `events` or `inbox` stream `key` is.
    pub fn owner_of<'a>(&self, key: &'a str) -> Option<&'a str> {
        let rest = key.strip_prefix(self.ns.as_str())?.strip_prefix(':')?;
        let rest = rest
            .strip_prefix("events:")
            .or_else(|| rest.strip_prefix("inbox:"))?;
        rest.strip_prefix('{')?.strip_suffix('}')
    }
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A daemon's periodic announcement.
    Heartbeat,
    /// A daemon stopping gracefully.
    Leave,
    /// A change to the sender's own data.
    Event,
    /// A request to another daemon.
    Request,
    /// The reply to a request.
    Response,
}

impl Kind {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Heartbeat => "heartbeat",
            Self::Leave => "leave",
            Self::Event => "event",
            Self::Request => "request",
            Self::Response => "response",
        }
    }

    fn parse(s: &[u8]) -> Option<Self> {
        Some(match s {
            b"heartbeat" => Self::Heartbeat,
            b"leave" => Self::Leave,
            b"event" => Self::Event,
            b"request" => Self::Request,
            b"response" => Self::Response,
            _ => return None,
        })
    }
}

/// Why an entry was refused. `reason()` is the short word logged and counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A required field is absent.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// `v` is not `1`.
    #[error("unsupported version")]
    Version,
    /// `kind` is not one of the five.
    #[error("unknown kind")]
    Kind,
    /// A field that must be text is not UTF-8.
    #[error("field {0} is not UTF-8")]
    NotUtf8(&'static str),
    /// The body is over [`MAX_BODY_BYTES`].
    #[error("body of {0} bytes is over the limit")]
    TooLarge(usize),
    /// A secret is set and the entry has no `sig`.
    #[error("unsigned entry")]
    Unsigned,
    /// The signature does not match.
    #[error("bad signature")]
    BadSignature,
    /// The body is not the JSON its kind requires.
    #[error("bad body: {0}")]
    Body(String),
    /// `from` is not the owner of the stream it came on.
    #[error("from {from:?} does not own stream {stream}")]
    Forged {
        /// The claimed sender.
        from: String,
        /// The stream.
        stream: String,
    },
}

impl WireError {
    /// A short fixed word for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing(_) => "missing_field",
            Self::Version => "bad_version",
            Self::Kind => "unknown_kind",
            Self::NotUtf8(_) => "not_utf8",
            Self::TooLarge(_) => "too_large",
            Self::Unsigned => "unsigned",
            Self::BadSignature => "bad_signature",
            Self::Body(_) => "bad_body",
            Self::Forged { .. } => "forged_from",
        }
    }
}

/// A decoded entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// What it is.
    pub kind: Kind,
    /// The sender's computer name.
    pub from: String,
    /// The sender's boot id.
    pub boot: String,
    /// The JSON body.
    pub body: Bytes,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], kind: &str, from: &str, boot: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for (i, part) in [
        b"1" as &[u8],
        kind.as_bytes(),
        from.as_bytes(),
        boot.as_bytes(),
        body,
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            m.update(b"|");
        }
        m.update(part);
    }
    m
}

impl Envelope {
    /// An envelope with a body serialized from `body`.
    pub fn new<T: Serialize>(kind: Kind, from: &str, boot: &str, body: &T) -> Self {
        let body = serde_json::to_vec(body).map_or_else(|_| Bytes::from_static(b"{}"), Bytes::from);
        Self {
            kind,
            from: from.to_owned(),
            boot: boot.to_owned(),
            body,
        }
    }

    /// The entry's fields, signed when a secret is given. The body is
    /// shared with the envelope, not copied.
    pub fn to_fields(&self, secret: Option<&[u8]>) -> Vec<Field<'static>> {
        let mut fields = vec![
            ("v", Bytes::from_static(b"1")),
            ("kind", Bytes::from_static(self.kind.as_str().as_bytes())),
            ("from", Bytes::copy_from_slice(self.from.as_bytes())),
            ("boot", Bytes::copy_from_slice(self.boot.as_bytes())),
            ("body", self.body.clone()),
        ];
        if let Some(secret) = secret {
            let sig = mac(
                secret,
                self.kind.as_str(),
                &self.from,
                &self.boot,
                &self.body,
            )
            .finalize()
            .into_bytes();
            fields.push(("sig", Bytes::from(hex::encode(sig))));
        }
        fields
    }

    /// Decodes and verifies an entry's fields.
    ///
    /// # Errors
    /// A [`WireError`] naming the first problem found.
    pub fn from_fields(
        fields: &[(String, Bytes)],
        secret: Option<&[u8]>,
    ) -> Result<Self, WireError> {
        let get = |name: &'static str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v)
                .ok_or(WireError::Missing(name))
        };
        let text = |name: &'static str| -> Result<String, WireError> {
            String::from_utf8(get(name)?.to_vec()).map_err(|_| WireError::NotUtf8(name))
        };
        if get("v")?.as_ref() != b"1" {
            return Err(WireError::Version);
        }
        let kind = Kind::parse(get("kind")?).ok_or(WireError::Kind)?;
        let from = text("from")?;
        let boot = text("boot")?;
        let body = get("body")?.clone();
        if body.len() > MAX_BODY_BYTES {
            return Err(WireError::TooLarge(body.len()));
        }
        if let Some(secret) = secret {
            let sig = fields
                .iter()
                .find(|(k, _)| k == "sig")
                .map(|(_, v)| v)
                .ok_or(WireError::Unsigned)?;
            let sig = hex::decode(sig).map_err(|_| WireError::BadSignature)?;
            mac(secret, kind.as_str(), &from, &boot, &body)
                .verify_slice(&sig)
                .map_err(|_| WireError::BadSignature)?;
        }
        Ok(Self {
            kind,
            from,
            boot,
            body,
        })
    }

    /// The entry as one record value (for `NS:computers`): a JSON object
    /// of its fields, each a string, signed like the entry.
    pub fn to_record(&self, secret: Option<&[u8]>) -> Vec<u8> {
        let map: std::collections::BTreeMap<&str, String> = self
            .to_fields(secret)
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect();
        serde_json::to_vec(&map).unwrap_or_default()
    }

    /// Decodes and verifies a record written by [`Envelope::to_record`].
    ///
    /// # Errors
    /// [`WireError::Body`] when it is not such a record, else what
    /// [`Envelope::from_fields`] finds.
    pub fn from_record(record: &[u8], secret: Option<&[u8]>) -> Result<Self, WireError> {
        if record.len() > MAX_BODY_BYTES * 2 {
            return Err(WireError::TooLarge(record.len()));
        }
        let map: std::collections::BTreeMap<String, String> =
            serde_json::from_slice(record).map_err(|e| WireError::Body(e.to_string()))?;
        let fields: Vec<(String, Bytes)> = map
            .into_iter()
            .map(|(k, v)| (k, Bytes::from(v.into_bytes())))
            .collect();
        Self::from_fields(&fields, secret)
    }

    /// Parses the body as `T`.
    ///
    /// # Errors
    /// [`WireError::Body`] when it is not.
    pub fn parse_body<'a, T: Deserialize<'a>>(&'a self) -> Result<T, WireError> {
        serde_json::from_slice(&self.body).map_err(|e| WireError::Body(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: &Envelope, secret: Option<&[u8]>) -> Vec<(String, Bytes)> {
        e.to_fields(secret)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    #[test]
    fn round_trip_signed_and_unsigned() {
        let e = Envelope::new(Kind::Leave, "a", "b1", &serde_json::json!({}));
        assert_eq!(Envelope::from_fields(&fields(&e, None), None).unwrap(), e);
        let signed = fields(&e, Some(b"s3cret"));
        assert_eq!(Envelope::from_fields(&signed, Some(b"s3cret")).unwrap(), e);
        assert_eq!(
            Envelope::from_fields(&signed, Some(b"other")).unwrap_err(),
            WireError::BadSignature
        );
        assert_eq!(
            Envelope::from_fields(&fields(&e, None), Some(b"s3cret")).unwrap_err(),
            WireError::Unsigned
        );
        let mut tampered = signed.clone();
        tampered[2].1 = Bytes::from_static(b"mallory");
        assert_eq!(
            Envelope::from_fields(&tampered, Some(b"s3cret")).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn refuses_malformed() {
        let e = Envelope::new(Kind::Event, "a", "b", &serde_json::json!({}));
        let mut f = fields(&e, None);
        f.retain(|(k, _)| k != "from");
        assert_eq!(
            Envelope::from_fields(&f, None).unwrap_err(),
            WireError::Missing("from")
        );
        let mut f = fields(&e, None);
        f[1].1 = Bytes::from_static(b"gossip");
        assert_eq!(
            Envelope::from_fields(&f, None).unwrap_err(),
            WireError::Kind
        );
        let mut f = fields(&e, None);
        f[4].1 = Bytes::from(vec![b' '; MAX_BODY_BYTES + 1]);
        assert!(matches!(
            Envelope::from_fields(&f, None),
            Err(WireError::TooLarge(_))
        ));
    }

    #[test]
    fn records_round_trip_and_stay_signed() {
        let e = Envelope::new(
            Kind::Heartbeat,
            "a",
            "b1",
            &serde_json::json!({"x": "\u{e9}\n"}),
        );
        let rec = e.to_record(Some(b"s"));
        assert_eq!(Envelope::from_record(&rec, Some(b"s")).unwrap(), e);
        assert_eq!(
            Envelope::from_record(&rec, Some(b"t")).unwrap_err(),
            WireError::BadSignature
        );
        assert!(matches!(
            Envelope::from_record(b"[1]", None),
            Err(WireError::Body(_))
        ));
        assert_eq!(Envelope::from_record(&e.to_record(None), None).unwrap(), e);
    }

    #[test]
    fn keys_are_hash_tagged() {
        let k = Keys::new("fleet");
        assert_eq!(k.events("alpha"), "fleet:events:{alpha}");
        assert_eq!(k.inbox("alpha"), "fleet:inbox:{alpha}");
        assert_eq!(k.owner_of("fleet:events:{alpha}"), Some("alpha"));
        assert_eq!(k.owner_of("other:events:{alpha}"), None);
        assert_eq!(k.alive(), "fleet:alive");
        assert_eq!(k.computers(), "fleet:computers");
        assert_eq!(k.owner_of("fleet:computers"), None);
    }
}

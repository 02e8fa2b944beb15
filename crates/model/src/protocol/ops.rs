//! The ops a WebSocket client sends (`PROTOCOL.md` section 4): `subscribe`,
//! `unsubscribe` and `refresh`. [`decode_op`] is the server's pure decoder
//! (no I/O, so every malformed input can be tested and fuzzed without a
//! socket), answering a refusal with an [`ErrorFrame`]; [`subscribe_op`]
//! and [`refresh_op`] are the client's encoders.

use crate::protocol::Since;
use crate::protocol::frames::error_frame;
use crate::{ComputerFilter, Topic, validate_computer_name};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// The most names a subscription's `computers` may hold. Beyond, the op is
/// refused (`bad_field`) and the connection stays open.
pub const MAX_SUBSCRIBE_COMPUTERS: usize = 1000;

/// The longest error message, in characters: an error never echoes a large
/// frame back (a message past this is cut and ends with `…`).
pub const MAX_ERROR_MESSAGE_CHARS: usize = 200;

/// The most characters of a client's input quoted in an error message.
const QUOTED_INPUT_CHARS: usize = 120;

/// One decoded client frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOp {
    /// Start (or replace) a subscription to a topic.
    Subscribe {
        /// The topic.
        topic: Topic,
        /// The computers it covers.
        filter: ComputerFilter,
        /// Where the client stopped reading, to be replayed from.
        since: Option<Since>,
    },
    /// End a subscription.
    Unsubscribe {
        /// The topic.
        topic: Topic,
    },
    /// Pull data again from its owners.
    Refresh {
        /// Only this topic; all when absent.
        topic: Option<Topic>,
        /// Only this computer; all when absent.
        computer: Option<String>,
    },
}

/// A frame the server could not take, as sent back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorFrame {
    /// A short fixed code: `bad_json`, `bad_frame`, `unknown_op`,
    /// `bad_field`, `not_subscribed`, `unavailable`.
    pub code: &'static str,
    /// What was wrong, for a person.
    pub message: String,
}

impl ErrorFrame {
    /// An error frame; `message` is cut to [`MAX_ERROR_MESSAGE_CHARS`].
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: cut(message.into(), MAX_ERROR_MESSAGE_CHARS),
        }
    }

    /// The JSON text of the `error` frame.
    pub fn to_json(&self) -> String {
        error_frame(self.code, &self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubscribe {
    topic: String,
    #[serde(default)]
    computers: Option<Vec<String>>,
    #[serde(default)]
    since: Option<Since>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnsubscribe {
    topic: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefresh {
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    computer: Option<String>,
}

/// `text` cut to `max` characters, ending with `…` when it was longer.
fn cut(mut text: String, max: usize) -> String {
    if let Some((at, _)) = text.char_indices().nth(max) {
        text.truncate(at);
        text.push('…');
    }
    text
}

fn bad_field(e: impl std::fmt::Display) -> ErrorFrame {
    ErrorFrame::new("bad_field", e.to_string())
}

/// Decodes one text frame into an op.
///
/// # Errors
/// An [`ErrorFrame`] saying what is wrong: not JSON, not an object, no or
/// unknown `op`, or a field of the wrong type or value.
pub fn decode_op(text: &str) -> Result<ClientOp, ErrorFrame> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ErrorFrame::new("bad_json", format!("frame is not JSON: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err(ErrorFrame::new("bad_frame", "frame must be a JSON object"));
    };
    let op = match map.remove("op") {
        Some(Value::String(op)) => op,
        Some(_) => return Err(ErrorFrame::new("bad_frame", "\"op\" must be a string")),
        None => return Err(ErrorFrame::new("bad_frame", "frame has no \"op\"")),
    };
    let rest = Value::Object(map);
    match op.as_str() {
        "subscribe" => {
            let raw: RawSubscribe = serde_json::from_value(rest).map_err(bad_field)?;
            let topic = Topic::parse(&raw.topic).map_err(bad_field)?;
            let filter = match raw.computers {
                None => ComputerFilter::All,
                Some(list) if list.len() > MAX_SUBSCRIBE_COMPUTERS => {
                    return Err(ErrorFrame::new(
                        "bad_field",
                        format!(
                            "\"computers\" holds {} names: at most {MAX_SUBSCRIBE_COMPUTERS} \
                             per subscription (omit it to watch every computer)",
                            list.len()
                        ),
                    ));
                }
                Some(list) => {
                    for c in &list {
                        validate_computer_name(c).map_err(bad_field)?;
                    }
                    ComputerFilter::Only(list.into_iter().collect::<BTreeSet<_>>())
                }
            };
            Ok(ClientOp::Subscribe {
                topic,
                filter,
                since: raw.since,
            })
        }
        "unsubscribe" => {
            let raw: RawUnsubscribe = serde_json::from_value(rest).map_err(bad_field)?;
            Ok(ClientOp::Unsubscribe {
                topic: Topic::parse(&raw.topic).map_err(bad_field)?,
            })
        }
        "refresh" => {
            let raw: RawRefresh = serde_json::from_value(rest).map_err(bad_field)?;
            let topic = raw
                .topic
                .as_deref()
                .map(Topic::parse)
                .transpose()
                .map_err(bad_field)?;
            if let Some(c) = &raw.computer {
                validate_computer_name(c).map_err(bad_field)?;
            }
            Ok(ClientOp::Refresh {
                topic,
                computer: raw.computer,
            })
        }
        other => Err(ErrorFrame::new(
            "unknown_op",
            format!(
                "unknown op {:?}: expected subscribe, unsubscribe or refresh",
                cut(other.to_owned(), QUOTED_INPUT_CHARS)
            ),
        )),
    }
}

/// `{"op":"subscribe","topic":T,"computers":[..]?,"since":{..}?}`:
/// `computers` narrows (empty: absent, all), `since` asks for a replay.
pub fn subscribe_op(topic: Topic, computers: &[String], since: Option<&Since>) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        op: &'static str,
        topic: Topic,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        computers: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<&'a Since>,
    }
    encode(&Out {
        op: "subscribe",
        topic,
        computers,
        since,
    })
}

/// `{"op":"unsubscribe","topic":T}`.
pub fn unsubscribe_op(topic: Topic) -> String {
    #[derive(Serialize)]
    struct Out {
        op: &'static str,
        topic: Topic,
    }
    encode(&Out {
        op: "unsubscribe",
        topic,
    })
}

/// `{"op":"refresh","topic":T?,"computer":C?}`: pull data again from its
/// owners (absent: every topic, every computer).
pub fn refresh_op(topic: Option<Topic>, computer: Option<&str>) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        op: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        topic: Option<Topic>,
        #[serde(skip_serializing_if = "Option::is_none")]
        computer: Option<&'a str>,
    }
    encode(&Out {
        op: "refresh",
        topic,
        computer,
    })
}

/// An op's JSON text. Its fields are strings, numbers and topics, which
/// serialize infallibly; the fallback (an op the server refuses with
/// `unknown_op`) is never sent in practice.
fn encode(op: &impl Serialize) -> String {
    serde_json::to_string(op).unwrap_or_else(|_| r#"{"op":""}"#.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    fn code(text: &str) -> &'static str {
        decode_op(text).unwrap_err().code
    }

    #[test]
    fn decodes_ops() {
        assert_eq!(
            decode_op(r#"{"op":"subscribe","topic":"sessions"}"#).unwrap(),
            ClientOp::Subscribe {
                topic: Topic::Sessions,
                filter: ComputerFilter::All,
                since: None
            }
        );
        let op = decode_op(
            r#"{"op":"subscribe","topic":"preparation","computers":["x"],"since":{"epoch":"e","seq":4}}"#,
        )
        .unwrap();
        assert!(matches!(
            op,
            ClientOp::Subscribe {
                since: Some(Since { seq: 4, .. }),
                ..
            }
        ));
        assert_eq!(
            decode_op(r#"{"op":"refresh"}"#).unwrap(),
            ClientOp::Refresh {
                topic: None,
                computer: None
            }
        );
    }

    #[test]
    fn refuses_bad_frames_with_codes() {
        assert_eq!(code("{"), "bad_json");
        assert_eq!(code("[1]"), "bad_frame");
        assert_eq!(code(r#"{"topic":"sessions"}"#), "bad_frame");
        assert_eq!(code(r#"{"op":"dance"}"#), "unknown_op");
        assert_eq!(code(r#"{"op":"subscribe","topic":"weather"}"#), "bad_field");
        assert_eq!(code(r#"{"op":"subscribe","topic":1}"#), "bad_field");
        assert_eq!(
            code(r#"{"op":"subscribe","topic":"sessions","computers":["a b"]}"#),
            "bad_field"
        );
        assert_eq!(
            code(r#"{"op":"subscribe","topic":"sessions","since":{"seq":-1,"epoch":"e"}}"#),
            "bad_field"
        );
        assert_eq!(code(r#"{"op":"unsubscribe"}"#), "bad_field");
    }

    fn subscribe_with(n: usize) -> String {
        let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        json!({"op": "subscribe", "topic": "sessions", "computers": names}).to_string()
    }

    #[test]
    fn computers_are_capped_per_subscription() {
        assert!(decode_op(&subscribe_with(MAX_SUBSCRIBE_COMPUTERS)).is_ok());
        let e = decode_op(&subscribe_with(MAX_SUBSCRIBE_COMPUTERS + 1)).unwrap_err();
        assert_eq!(e.code, "bad_field");
        assert!(e.message.contains("1001"), "{}", e.message);
    }

    #[test]
    fn error_messages_never_echo_a_large_input() {
        let long = "x".repeat(600 * 1024);
        let frames = [
            format!(r#"{{"op":"{long}"}}"#),
            format!(r#"{{"op":"subscribe","topic":"{long}"}}"#),
            format!(r#"{{"op":"subscribe","topic":"sessions","computers":["{long}"]}}"#),
            format!(r#"{{"op":"subscribe","{long}":1}}"#),
            format!(r#"{{"op":"refresh","computer":"{long} "}}"#),
            format!("{{{long}"),
        ];
        for frame in &frames {
            let e = decode_op(frame).unwrap_err();
            let chars = e.message.chars().count();
            assert!(
                chars <= MAX_ERROR_MESSAGE_CHARS + 1,
                "{chars}: {}",
                e.message
            );
            assert!(e.to_json().len() < 1024, "{}", e.to_json());
        }
        assert_eq!(cut("héllo".into(), 2), "hé…");
    }

    #[test]
    fn encoded_ops_are_byte_exact_and_decode() {
        let since = Since {
            epoch: "b".into(),
            seq: 7,
        };
        let sub = subscribe_op(
            Topic::Preparation,
            &["x".into(), "a-b".into()],
            Some(&since),
        );
        assert_eq!(
            sub,
            r#"{"op":"subscribe","topic":"preparation","computers":["x","a-b"],"since":{"epoch":"b","seq":7}}"#
        );
        assert_eq!(
            decode_op(&sub).unwrap(),
            ClientOp::Subscribe {
                topic: Topic::Preparation,
                filter: ComputerFilter::Only(["x".to_owned(), "a-b".to_owned()].into()),
                since: Some(since),
            }
        );
        assert_eq!(
            subscribe_op(Topic::Sessions, &[], None),
            r#"{"op":"subscribe","topic":"sessions"}"#
        );
        // Names are JSON-escaped, not pasted.
        assert_eq!(
            subscribe_op(Topic::Sessions, &["a\"b".into()], None),
            r#"{"op":"subscribe","topic":"sessions","computers":["a\"b"]}"#
        );
        assert_eq!(refresh_op(None, None), r#"{"op":"refresh"}"#);
        let refresh = refresh_op(Some(Topic::Sessions), Some("a"));
        assert_eq!(
            refresh,
            r#"{"op":"refresh","topic":"sessions","computer":"a"}"#
        );
        assert_eq!(
            decode_op(&refresh).unwrap(),
            ClientOp::Refresh {
                topic: Some(Topic::Sessions),
                computer: Some("a".into())
            }
        );
        assert_eq!(
            refresh_op(None, Some("a")),
            r#"{"op":"refresh","computer":"a"}"#
        );
        let unsub = unsubscribe_op(Topic::Computers);
        assert_eq!(unsub, r#"{"op":"unsubscribe","topic":"computers"}"#);
        assert_eq!(
            decode_op(&unsub).unwrap(),
            ClientOp::Unsubscribe {
                topic: Topic::Computers
            }
        );
    }

    #[test]
    fn error_frames_are_byte_exact() {
        let e = ErrorFrame::new("bad_field", "a \"b\"\n");
        assert_eq!(
            e.to_json(),
            r#"{"type":"error","code":"bad_field","message":"a \"b\"\n"}"#
        );
    }
}

//! A WebSocket text frame from a client, decoded into an op
//! (`api-ws`'s `decode_op`).
//!
//! Input: the frame's text (non-UTF-8 input is skipped: the WebSocket
//! layer refuses such a text frame before it is decoded).
//!
//! Properties: an accepted op, written back as a frame, decodes to the
//! same op; a refusal has one of the documented codes, a message of at
//! most `MAX_ERROR_MESSAGE_CHARS` characters (and its `…`), and an error
//! frame that is JSON.

use api_ws::{ClientOp, MAX_ERROR_MESSAGE_CHARS, decode_op};
use model::ComputerFilter;
use serde_json::{Value, json};

const CODES: [&str; 6] = [
    "bad_json",
    "bad_frame",
    "unknown_op",
    "bad_field",
    "not_subscribed",
    "unavailable",
];

/// Runs one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match decode_op(text) {
        Ok(op) => {
            let frame = encode(&op).to_string();
            assert_eq!(decode_op(&frame).as_ref(), Ok(&op), "{frame}");
        }
        Err(e) => {
            assert!(CODES.contains(&e.code), "{e:?}");
            assert!(
                e.message.chars().count() <= MAX_ERROR_MESSAGE_CHARS + 1,
                "{e:?}"
            );
            let frame: Value = serde_json::from_str(&e.to_json()).expect("error frame is JSON");
            assert_eq!(frame["type"], "error");
        }
    }
}

/// The frame a client would send for `op`.
fn encode(op: &ClientOp) -> Value {
    match op {
        ClientOp::Subscribe {
            topic,
            filter,
            since,
        } => {
            let mut frame = json!({"op": "subscribe", "topic": topic.as_str()});
            if let ComputerFilter::Only(names) = filter {
                frame["computers"] = json!(names);
            }
            if let Some(s) = since {
                frame["since"] = json!({"epoch": s.epoch, "seq": s.seq});
            }
            frame
        }
        ClientOp::Unsubscribe { topic } => json!({"op": "unsubscribe", "topic": topic.as_str()}),
        ClientOp::Refresh { topic, computer } => {
            let mut frame = json!({"op": "refresh"});
            if let Some(t) = topic {
                frame["topic"] = json!(t.as_str());
            }
            if let Some(c) = computer {
                frame["computer"] = json!(c);
            }
            frame
        }
    }
}

//! Forwarded session writes (`PROTOCOL.md` section 5): a write to another
//! computer's session travels as a `request` entry in the owner's inbox and
//! comes back as a `response` entry in the asker's inbox, carrying the
//! status and body the owner would give a local client.
//!
//! ```text
//! request:  {"id":ID,"op":"create"|"update"|"end","session_id"?:..,"body"?:{..}}
//! response: {"id":ID,"status":HTTP_STATUS,"body":{..}}
//! ```
//!
//! Pure types: who sends, waits and applies is `peer-sync`'s business.

use serde::{Deserialize, Serialize};

/// Which session write is forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOp {
    /// `POST /v1/sessions` with `"computer": owner`.
    Create,
    /// `PATCH /v1/sessions/{id}`.
    Update,
    /// `DELETE /v1/sessions/{id}`.
    End,
}

impl WriteOp {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::End => "end",
        }
    }

    /// Parses the contract's spelling (`snapshot` and anything else: `None`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create" => Self::Create,
            "update" => Self::Update,
            "end" => Self::End,
            _ => return None,
        })
    }
}

/// One session write for another computer, as its local client would send
/// it: the op, the session (`update`, `end`) and the JSON body (`create`,
/// `update`), which the owner decodes and checks exactly as its own API
/// does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardedWrite {
    /// What to do.
    pub op: WriteOp,
    /// The session, for `update` and `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The request body, for `create` and `update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

/// The owner's answer: the HTTP status and JSON body its local API gives
/// (an `{"error":{..}}` body for a refusal, `{}` for 204).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteReply {
    /// The HTTP status, 200 to 599.
    pub status: u16,
    /// The body.
    pub body: serde_json::Value,
}

impl WriteReply {
    /// A reply with an error body `{"error":{"code","message"}}`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self {
            status,
            body: serde_json::json!({"error": {"code": code, "message": message}}),
        }
    }
}

/// The body of a forwarded-write `request` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteRequestBody {
    /// Chosen by the asker (a UUID); the owner applies each id at most once.
    pub id: String,
    /// The write.
    #[serde(flatten)]
    pub write: ForwardedWrite,
}

/// The body of a forwarded-write `response` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteResponseBody {
    /// The request's id.
    pub id: String,
    /// The owner's answer.
    #[serde(flatten)]
    pub reply: WriteReply,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_contract_shape() {
        let req = WriteRequestBody {
            id: "r1".into(),
            write: ForwardedWrite {
                op: WriteOp::Update,
                session_id: Some("s1".into()),
                body: Some(serde_json::json!({"title": "t"})),
            },
        };
        let text = serde_json::to_string(&req).unwrap();
        assert_eq!(
            text,
            r#"{"id":"r1","op":"update","session_id":"s1","body":{"title":"t"}}"#
        );
        assert_eq!(
            serde_json::from_str::<WriteRequestBody>(&text).unwrap(),
            req
        );
        let end: WriteRequestBody =
            serde_json::from_str(r#"{"id":"r2","op":"end","session_id":"s1"}"#).unwrap();
        assert_eq!(end.write.op, WriteOp::End);
        assert!(serde_json::from_str::<WriteRequestBody>(r#"{"id":"r3","op":"explode"}"#).is_err());
        let resp = WriteResponseBody {
            id: "r1".into(),
            reply: WriteReply::error(403, "remote_writes_disabled", "no"),
        };
        assert_eq!(
            serde_json::to_string(&resp).unwrap(),
            r#"{"id":"r1","status":403,"body":{"error":{"code":"remote_writes_disabled","message":"no"}}}"#
        );
    }
}

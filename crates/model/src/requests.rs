//! Request bodies of the local API (`PROTOCOL.md` section 3), with their
//! validation. Unknown fields are refused so that a typo is an error, not a
//! silently ignored change.

use crate::validate::validate_text;
use crate::{Error, SessionStatus, Timestamp};
use serde::{Deserialize, Deserializer};

/// Body of `POST /v1/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// What a person calls it.
    pub title: String,
    /// The project it works in.
    #[serde(default)]
    pub project_path: Option<String>,
    /// Which agent runs it; `unknown` when absent.
    #[serde(default)]
    pub agent: Option<String>,
    /// The agent's thinking mode.
    #[serde(default)]
    pub thinking_mode: Option<String>,
    /// Initial state; `active` when absent.
    #[serde(default)]
    pub status: Option<SessionStatus>,
    /// The id the client chose (an agent's own session id, a UUID...); a
    /// new UUID when absent. See [`validate_session_id`].
    #[serde(default)]
    pub session_id: Option<String>,
    /// When the session started, by the writer's clock: `created_at` and
    /// `last_activity` (never later than now); now when absent. Used by
    /// writers that may deliver late, such as agent hooks replaying a spool.
    #[serde(default, deserialize_with = "not_null")]
    pub as_of: Option<Timestamp>,
    /// The computer to create it on; this one when absent. Another
    /// computer's name forwards the request to it.
    #[serde(default)]
    pub computer: Option<String>,
}

impl NewSession {
    /// Checks sizes and values.
    ///
    /// # Errors
    /// [`Error::InvalidField`] naming the first bad field.
    pub fn validate(&self) -> Result<(), Error> {
        if self.title.trim().is_empty() {
            return Err(Error::InvalidField {
                field: "title",
                reason: "must not be empty".into(),
            });
        }
        validate_text("title", &self.title)?;
        if let Some(id) = &self.session_id {
            validate_session_id(id)?;
        }
        if let Some(p) = &self.project_path {
            validate_text("project_path", p)?;
        }
        if let Some(a) = &self.agent {
            validate_text("agent", a)?;
        }
        if let Some(t) = &self.thinking_mode {
            validate_text("thinking_mode", t)?;
        }
        if let Some(c) = &self.computer {
            crate::validate_computer_name(c)?;
        }
        if self.status == Some(SessionStatus::Closed) {
            return Err(Error::InvalidField {
                field: "status",
                reason: "a new session cannot start closed".into(),
            });
        }
        Ok(())
    }
}

/// Body of `PATCH /v1/sessions/{id}`: every field optional; the nullable
/// ones distinguish absent (keep) from `null` (clear).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionPatch {
    /// New title (`null` is refused: a session always has one).
    #[serde(default, deserialize_with = "not_null")]
    pub title: Option<String>,
    /// New state (`null` is refused).
    #[serde(default, deserialize_with = "not_null")]
    pub status: Option<SessionStatus>,
    /// New last input; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub last_input: Option<Option<String>>,
    /// New last output; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub last_output: Option<Option<String>>,
    /// New agent (`null` is refused).
    #[serde(default, deserialize_with = "not_null")]
    pub agent: Option<String>,
    /// New thinking mode; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub thinking_mode: Option<Option<String>>,
    /// When the change happened, by the writer's clock (`null` is refused).
    /// With it the patch is conditional: it is applied only when it is not
    /// older than the session's `last_activity`, which then becomes this
    /// time (never later than now); an older patch changes nothing. Used by
    /// writers that may deliver late, such as agent hooks replaying a spool.
    #[serde(default, deserialize_with = "not_null")]
    pub as_of: Option<Timestamp>,
}

impl SessionPatch {
    /// Checks sizes and values.
    ///
    /// # Errors
    /// [`Error::InvalidField`] naming the first bad field.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(t) = &self.title {
            if t.trim().is_empty() {
                return Err(Error::InvalidField {
                    field: "title",
                    reason: "must not be empty".into(),
                });
            }
            validate_text("title", t)?;
        }
        for (field, value) in [
            ("last_input", &self.last_input),
            ("last_output", &self.last_output),
            ("thinking_mode", &self.thinking_mode),
        ] {
            if let Some(Some(v)) = value {
                validate_text(field, v)?;
            }
        }
        if let Some(a) = &self.agent {
            validate_text("agent", a)?;
        }
        Ok(())
    }

    /// Whether the patch changes no field (`as_of` alone changes nothing).
    pub fn is_empty(&self) -> bool {
        Self {
            as_of: None,
            ..self.clone()
        } == Self::default()
    }
}

/// Body of `POST /v1/refresh` and the fields of the WS `refresh` op.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Only this computer; all when absent.
    #[serde(default)]
    pub computer: Option<String>,
    /// Only these topics (by name); all when absent.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
}

/// The longest client-chosen session id.
pub const MAX_SESSION_ID_LEN: usize = 128;

/// Checks a client-chosen session id: 1 to [`MAX_SESSION_ID_LEN`]
/// characters of `[A-Za-z0-9._:-]`, so that it is safe in a URL path, a
/// header and a file name as it is.
///
/// # Errors
/// [`Error::InvalidField`] naming `session_id`.
pub fn validate_session_id(id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= MAX_SESSION_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidField {
            field: "session_id",
            reason: format!(
                "{:?} must be 1 to {MAX_SESSION_ID_LEN} characters of [A-Za-z0-9._:-]",
                clip_for_message(id)
            ),
        })
    }
}

/// At most 140 characters of `s`, for an error message.
fn clip_for_message(s: &str) -> String {
    s.chars().take(140).collect()
}

/// A field that may be absent but, when present, must not be `null`.
fn not_null<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    match Option::<T>::deserialize(d)? {
        Some(v) => Ok(Some(v)),
        None => Err(serde::de::Error::custom(
            "this field cannot be null (leave it out to keep it)",
        )),
    }
}

/// Marks a field as present even when its value is `null`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_chosen_session_ids() {
        for ok in ["a", "0c9f-11", "abc.DEF_1:2-3", &"x".repeat(128)] {
            assert!(validate_session_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ä", &"x".repeat(129), "a\nb", "a?b"] {
            assert!(validate_session_id(bad).is_err(), "{bad}");
        }
        let s: NewSession = serde_json::from_str(r#"{"title":"t","session_id":"a/b"}"#).unwrap();
        assert!(s.validate().is_err());
    }

    #[test]
    fn as_of_alone_is_an_empty_patch() {
        let p: SessionPatch =
            serde_json::from_str(r#"{"as_of":"2026-01-01T00:00:00.000Z"}"#).unwrap();
        assert!(p.is_empty());
        assert!(serde_json::from_str::<SessionPatch>(r#"{"as_of":null}"#).is_err());
    }

    #[test]
    fn patch_distinguishes_null_from_absent() {
        let p: SessionPatch = serde_json::from_str(r#"{"last_input":null}"#).unwrap();
        assert_eq!(p.last_input, Some(None));
        assert_eq!(p.last_output, None);
        assert!(serde_json::from_str::<SessionPatch>(r#"{"bogus":1}"#).is_err());
        assert!(serde_json::from_str::<SessionPatch>(r#"{"status":"sleeping"}"#).is_err());
        for field in ["title", "status", "agent"] {
            let body = format!("{{\"{field}\":null}}");
            assert!(
                serde_json::from_str::<SessionPatch>(&body).is_err(),
                "{field}: null"
            );
        }
    }
}

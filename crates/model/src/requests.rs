//! Request bodies of the local API (`PROTOCOL.md` section 3), with their
//! validation. Unknown fields are refused so that a typo is an error, not a
//! silently ignored change.

use crate::validate::validate_text;
use crate::{Error, SessionStatus};
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

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
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

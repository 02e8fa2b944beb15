//! [`Op`]: what one agent event asks of the daemon, already mapped from the agent's
//! own format. It is the unit of delivery and of the spool (one JSON file each), so a
//! spooled event is replayed exactly as it was mapped, transcript read included.

use model::{SessionStatus, Timestamp};
use serde::{Deserialize, Serialize};

/// The longest `last_input` a hook records, in characters (the "first 500").
pub const MAX_INPUT_CHARS: usize = 500;
/// The longest `last_output` a hook records, in characters.
pub const MAX_OUTPUT_CHARS: usize = 2_000;
/// The longest title made from a first prompt, in characters.
pub const MAX_TITLE_CHARS: usize = 80;

/// One change of one session, at the time the agent reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    /// When the agent reported it (the hook's clock); sent as `as_of`, so that a
    /// late delivery never overwrites a newer state.
    pub at: Timestamp,
    /// The agent's own session id, which becomes the fleet session's id.
    pub session_id: String,
    /// The agent, e.g. `claude`.
    pub agent: String,
    /// The session's working directory, when the agent said it.
    pub cwd: Option<String>,
    /// What to change.
    pub change: Change,
}

/// What an [`Op`] changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The session starts (or is reopened): created with this id, or set `active`.
    Start,
    /// Fields of the session; a session not known yet is created first.
    Update {
        /// New status; with `only_if_changed` it is written only when it differs.
        status: Option<SessionStatus>,
        /// Skip the write entirely when the status is the only change and already set.
        only_if_changed: bool,
        /// New last input.
        last_input: Option<String>,
        /// New last output.
        last_output: Option<String>,
        /// A better title, used only while the session still has its default one
        /// (its directory's name).
        title_hint: Option<String>,
    },
    /// The session ends (as `DELETE`).
    End,
}

impl Op {
    /// An update of `status` only.
    pub fn status(
        at: Timestamp,
        session_id: &str,
        agent: &str,
        cwd: Option<String>,
        status: SessionStatus,
    ) -> Self {
        Self::update(
            at,
            session_id,
            agent,
            cwd,
            Change::Update {
                status: Some(status),
                only_if_changed: false,
                last_input: None,
                last_output: None,
                title_hint: None,
            },
        )
    }

    /// An op with `change`.
    pub fn update(
        at: Timestamp,
        session_id: &str,
        agent: &str,
        cwd: Option<String>,
        change: Change,
    ) -> Self {
        Self {
            at,
            session_id: session_id.to_owned(),
            agent: agent.to_owned(),
            cwd,
            change,
        }
    }

    /// A short name for messages: `start`, `update` or `end`.
    pub fn kind(&self) -> &'static str {
        match self.change {
            Change::Start => "start",
            Change::Update { .. } => "update",
            Change::End => "end",
        }
    }
}

/// The default title of a session working in `cwd`: the directory's name.
pub fn default_title(cwd: Option<&str>, agent: &str) -> String {
    cwd.map(|c| c.trim_end_matches('/'))
        .and_then(|c| c.rsplit('/').next())
        .filter(|n| !n.trim().is_empty())
        .map_or_else(|| format!("{agent} session"), str::to_owned)
}

/// The first `max` characters of `text`.
pub fn first_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A title made from a prompt: its first non-empty line, at most
/// [`MAX_TITLE_CHARS`] characters; `None` when the prompt has no text.
pub fn title_from_prompt(prompt: &str) -> Option<String> {
    let line = prompt.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut title = first_chars(line, MAX_TITLE_CHARS);
    if line.chars().count() > MAX_TITLE_CHARS {
        title.push('…');
    }
    Some(title)
}

/// What a hook makes of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// Deliver these, in order.
    Ops(Vec<Op>),
    /// Nothing to record; the reason goes to stderr as one line.
    Ignored(String),
}

/// The part every agent's hook input shares: a JSON object with a usable
/// `session_id`, a `hook_event_name` and usually a `cwd`.
pub struct HookInput {
    /// The whole input, for the event's own fields.
    pub value: serde_json::Value,
    /// The agent's session id (checked: it becomes the fleet's).
    pub session_id: String,
    /// `hook_event_name`.
    pub event: String,
    /// `cwd`, when given.
    pub cwd: Option<String>,
}

impl HookInput {
    /// Parses the common part of a hook input.
    ///
    /// # Errors
    /// [`Mapped::Ignored`] with the reason, for an input that is no such object.
    pub fn parse(input: &[u8]) -> Result<Self, Mapped> {
        let value: serde_json::Value = match serde_json::from_slice(input) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            Ok(_) => {
                return Err(Mapped::Ignored(
                    "the hook input is not a JSON object".into(),
                ));
            }
            Err(e) => return Err(Mapped::Ignored(format!("the hook input is not JSON: {e}"))),
        };
        let text = |k: &str| {
            value
                .get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let Some(session_id) = text("session_id") else {
            return Err(Mapped::Ignored("the hook input has no session_id".into()));
        };
        if let Err(e) = model::requests::validate_session_id(&session_id) {
            return Err(Mapped::Ignored(format!(
                "the hook input's session_id is unusable: {e}"
            )));
        }
        let Some(event) = text("hook_event_name") else {
            return Err(Mapped::Ignored(
                "the hook input has no hook_event_name".into(),
            ));
        };
        let cwd = text("cwd");
        Ok(Self {
            value,
            session_id,
            event,
            cwd,
        })
    }

    /// A string field of the input.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(serde_json::Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(default_title(Some("/home/a/proj/"), "claude"), "proj");
        assert_eq!(default_title(Some("/"), "claude"), "claude session");
        assert_eq!(default_title(None, "codex"), "codex session");
        assert_eq!(
            title_from_prompt("\n  fix the bug \nmore"),
            Some("fix the bug".into())
        );
        assert_eq!(title_from_prompt("  \n"), None);
        let long = "x".repeat(100);
        assert_eq!(
            title_from_prompt(&long).unwrap().chars().count(),
            MAX_TITLE_CHARS + 1
        );
    }

    #[test]
    fn ops_round_trip_as_json() {
        let op = Op::status(
            Timestamp::from_millis(5),
            "s",
            "claude",
            None,
            SessionStatus::Idle,
        );
        let text = serde_json::to_string(&op).unwrap();
        assert_eq!(serde_json::from_str::<Op>(&text).unwrap(), op);
    }
}

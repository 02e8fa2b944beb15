//! Codex CLI's `notify` program: Codex runs it with one JSON argument (its last) after
//! each agent turn. The one documented event, `agent-turn-complete`, carries
//! `thread-id`, `turn-id`, `cwd`, `input-messages` and `last-assistant-message`; it
//! makes the session `idle` with `last_output` = the last assistant message and
//! `last_input` = the last input message. The session (id = `thread-id`) is created at
//! its first turn, since Codex reports no start, no tool use, no wait and no end.

use crate::hook::op::{
    Change, MAX_INPUT_CHARS, MAX_OUTPUT_CHARS, Mapped, Op, first_chars, title_from_prompt,
};
use model::{SessionStatus, Timestamp};
use serde_json::Value;

/// The agent name sessions get.
pub const AGENT: &str = "codex";

/// Maps one notification (the JSON argument) at time `at`.
pub fn map(input: &[u8], at: Timestamp) -> Mapped {
    let v: Value = match serde_json::from_slice(input) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return Mapped::Ignored("the notification is not a JSON object".into()),
        Err(e) => return Mapped::Ignored(format!("the notification is not JSON: {e}")),
    };
    let text = |k: &str| v.get(k).and_then(Value::as_str);
    match text("type") {
        Some("agent-turn-complete") => {}
        Some(other) => {
            return Mapped::Ignored(format!(
                "Codex notification {:?} is not one fleet records",
                first_chars(other, 64)
            ));
        }
        None => return Mapped::Ignored("the notification has no type".into()),
    }
    let Some(session_id) = text("thread-id") else {
        return Mapped::Ignored("the notification has no thread-id to name the session".into());
    };
    if let Err(e) = model::requests::validate_session_id(session_id) {
        return Mapped::Ignored(format!("the notification's thread-id is unusable: {e}"));
    }
    let last_input = v
        .get("input-messages")
        .and_then(Value::as_array)
        .and_then(|m| m.iter().rev().find_map(Value::as_str));
    let change = Change::Update {
        status: Some(SessionStatus::Idle),
        only_if_changed: false,
        last_input: last_input.map(|s| first_chars(s, MAX_INPUT_CHARS)),
        last_output: text("last-assistant-message")
            .map(|s| first_chars(s.trim(), MAX_OUTPUT_CHARS)),
        title_hint: last_input.and_then(title_from_prompt),
    };
    let cwd = text("cwd").map(str::to_owned);
    Mapped::Ops(vec![Op::update(at, session_id, AGENT, cwd, change)])
}

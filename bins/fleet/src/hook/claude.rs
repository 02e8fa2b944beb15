//! Claude Code's hooks: one event as JSON on stdin, with `session_id`,
//! `transcript_path`, `cwd` and `hook_event_name`, plus the event's own fields
//! (Claude Code's hooks reference). Mapping:
//!
//! | event | change |
//! |---|---|
//! | `SessionStart` | create or reopen: agent `claude`, project `cwd`, title the directory's name, `active` |
//! | `UserPromptSubmit` | `active`, `last_input` = the prompt (first 500 characters), title from a first prompt |
//! | `PreToolUse`, `PostToolUse` | `active`, no write when already active |
//! | `Notification` | `waiting`, `last_output` = its `message` (not for `auth_success`, which asks nothing) |
//! | `PermissionRequest` | `waiting`, `last_output` = "Allow TOOL: what" |
//! | `Stop` | `idle`, `last_output` = `last_assistant_message` when given, else the transcript's last assistant text |
//! | `SessionEnd` | the session ends |
//!
//! Anything else is ignored with a reason.

use crate::hook::op::{
    Change, HookInput, MAX_INPUT_CHARS, MAX_OUTPUT_CHARS, Mapped, Op, first_chars,
    title_from_prompt,
};
use crate::hook::transcript;
use model::{SessionStatus, Timestamp};
use serde_json::Value;
use std::path::Path;

/// The agent name sessions get.
pub const AGENT: &str = "claude";

/// Maps one hook input (the bytes Claude Code wrote on stdin) at time `at`.
pub fn map(input: &[u8], at: Timestamp) -> Mapped {
    let input = match HookInput::parse(input) {
        Ok(i) => i,
        Err(ignored) => return ignored,
    };
    let text = |k: &str| input.text(k);
    let (session_id, event, cwd) = (
        input.session_id.as_str(),
        input.event.as_str(),
        input.cwd.clone(),
    );
    let op = |change| Op::update(at, session_id, AGENT, cwd.clone(), change);
    let update = |status, last_input: Option<String>, last_output: Option<String>| {
        op(Change::Update {
            status: Some(status),
            only_if_changed: false,
            last_input,
            last_output,
            title_hint: None,
        })
    };
    let out = |s: &str| Some(first_chars(s.trim(), MAX_OUTPUT_CHARS));
    let change = match event {
        "SessionStart" => op(Change::Start),
        "UserPromptSubmit" => {
            let prompt = text("prompt").unwrap_or_default();
            op(Change::Update {
                status: Some(SessionStatus::Active),
                only_if_changed: false,
                last_input: Some(first_chars(prompt, MAX_INPUT_CHARS)),
                last_output: None,
                title_hint: title_from_prompt(prompt),
            })
        }
        "PreToolUse" | "PostToolUse" => op(Change::Update {
            status: Some(SessionStatus::Active),
            only_if_changed: true,
            last_input: None,
            last_output: None,
            title_hint: None,
        }),
        "Notification" => {
            if text("notification_type") == Some("auth_success") {
                return Mapped::Ignored(
                    "Notification auth_success asks nothing of a person: not recorded".into(),
                );
            }
            let message = text("message").unwrap_or("Claude Code needs your attention");
            update(SessionStatus::Waiting, None, out(message))
        }
        "PermissionRequest" => update(
            SessionStatus::Waiting,
            None,
            out(&permission_message(&input.value)),
        ),
        "Stop" => {
            let last = text("last_assistant_message")
                .map(str::to_owned)
                .or_else(|| {
                    text("transcript_path")
                        .and_then(|p| transcript::last_assistant_text(Path::new(p)))
                });
            update(SessionStatus::Idle, None, last.as_deref().and_then(out))
        }
        "SessionEnd" => op(Change::End),
        other => {
            return Mapped::Ignored(format!(
                "Claude Code event {:?} is not one fleet records",
                first_chars(other, 64)
            ));
        }
    };
    Mapped::Ops(vec![change])
}

/// What a permission request asks: `Allow Bash: cargo test`, from `tool_name` and the
/// most telling field of `tool_input`.
fn permission_message(v: &Value) -> String {
    let tool = v
        .get("tool_name")
        .and_then(Value::as_str)
        .unwrap_or("a tool");
    let input = v.get("tool_input");
    let what = [
        "command",
        "file_path",
        "url",
        "pattern",
        "path",
        "description",
    ]
    .iter()
    .find_map(|k| input.and_then(|i| i.get(*k)).and_then(Value::as_str));
    match what {
        Some(what) => format!("Allow {tool}: {}", what.trim()),
        None => format!("Allow {tool}?"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &str) -> Op {
        match map(input.as_bytes(), Timestamp::from_millis(1)) {
            Mapped::Ops(mut ops) if ops.len() == 1 => ops.remove(0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn permission_requests_say_what_they_ask() {
        let op = one(
            r#"{"session_id":"s","cwd":"/p","hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"rm -rf target"}}"#,
        );
        let Change::Update {
            status,
            last_output,
            ..
        } = op.change
        else {
            panic!()
        };
        assert_eq!(status, Some(SessionStatus::Waiting));
        assert_eq!(last_output.as_deref(), Some("Allow Bash: rm -rf target"));
    }

    #[test]
    fn bad_input_is_ignored_with_a_reason() {
        for (input, reason) in [
            ("{", "not JSON"),
            ("[]", "not a JSON object"),
            (r#"{"hook_event_name":"Stop"}"#, "no session_id"),
            (
                r#"{"session_id":"a b","hook_event_name":"Stop"}"#,
                "unusable",
            ),
            (r#"{"session_id":"s"}"#, "no hook_event_name"),
            (
                r#"{"session_id":"s","hook_event_name":"PreCompact"}"#,
                "not one fleet records",
            ),
        ] {
            match map(input.as_bytes(), Timestamp::from_millis(1)) {
                Mapped::Ignored(r) => assert!(r.contains(reason), "{input}: {r}"),
                other => panic!("{input}: {other:?}"),
            }
        }
    }
}

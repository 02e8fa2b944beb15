//! Gemini CLI's hooks: one event as JSON on stdin, with `session_id`,
//! `transcript_path`, `cwd`, `hook_event_name` and `timestamp`, plus the event's own
//! fields (Gemini CLI's hooks reference). Mapping:
//!
//! | event | change |
//! |---|---|
//! | `SessionStart` | create or reopen, `active` |
//! | `BeforeAgent` | `active`, `last_input` = `prompt` (first 500 characters) |
//! | `BeforeTool`, `AfterTool` | `active`, no write when already active |
//! | `Notification` | `waiting`, `last_output` = `message` |
//! | `AfterAgent` | `idle`, `last_output` = `prompt_response` |
//! | `SessionEnd` | the session ends |
//!
//! Anything else is ignored with a reason. Gemini CLI parses a hook's stdout as JSON, so
//! the command prints `{}`.

use crate::hook::op::{
    Change, HookInput, MAX_INPUT_CHARS, MAX_OUTPUT_CHARS, Mapped, Op, first_chars,
    title_from_prompt,
};
use model::{SessionStatus, Timestamp};

/// The agent name sessions get.
pub const AGENT: &str = "gemini";

/// Maps one hook input at time `at`.
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
    let update = |status, only_if_changed, last_input, last_output, title_hint| {
        op(Change::Update {
            status: Some(status),
            only_if_changed,
            last_input,
            last_output,
            title_hint,
        })
    };
    let out = |k: &str| text(k).map(|s| first_chars(s.trim(), MAX_OUTPUT_CHARS));
    let change = match event {
        "SessionStart" => op(Change::Start),
        "BeforeAgent" => {
            let prompt = text("prompt").unwrap_or_default();
            update(
                SessionStatus::Active,
                false,
                Some(first_chars(prompt, MAX_INPUT_CHARS)),
                None,
                title_from_prompt(prompt),
            )
        }
        "BeforeTool" | "AfterTool" => update(SessionStatus::Active, true, None, None, None),
        "Notification" => update(SessionStatus::Waiting, false, None, out("message"), None),
        "AfterAgent" => update(
            SessionStatus::Idle,
            false,
            None,
            out("prompt_response"),
            None,
        ),
        "SessionEnd" => op(Change::End),
        other => {
            return Mapped::Ignored(format!(
                "Gemini CLI event {:?} is not one fleet records",
                first_chars(other, 64)
            ));
        }
    };
    Mapped::Ops(vec![change])
}

//! The last assistant text of a Claude Code transcript (JSON lines), read cheaply: only
//! the file's last [`TAIL_BYTES`] are read, and lines are scanned from the end. A
//! transcript that is missing, unreadable or without such a line gives `None`, and the
//! session's last output is then left as it is.

use serde_json::Value;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

/// How much of the end of a transcript is read.
pub const TAIL_BYTES: u64 = 256 * 1024;

/// The text of the last assistant message in the transcript at `path`.
pub fn last_assistant_text(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::new();
    file.take(TAIL_BYTES).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    // The first line may be cut in the middle when the tail starts mid-file.
    let lines = text.lines().skip(usize::from(start > 0));
    let lines: Vec<&str> = lines.collect();
    lines.iter().rev().find_map(|line| assistant_text(line))
}

/// The text blocks of one transcript line, when it is an assistant message with text.
fn assistant_text(line: &str) -> Option<String> {
    let v: Value = serde_json::from_str(line).ok()?;
    if v.get("type").and_then(Value::as_str) != Some("assistant") {
        return None;
    }
    let content = v.get("message")?.get("content")?;
    let text = match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_assistant_text_wins_and_tool_calls_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let lines = [
            r#"{"type":"user","message":{"role":"user","content":"hi"}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"first"}]}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"All done."}]}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"Bash","input":{}}]}}"#,
            "not json",
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        assert_eq!(last_assistant_text(&path).as_deref(), Some("All done."));
        assert_eq!(last_assistant_text(&dir.path().join("missing")), None);
    }
}

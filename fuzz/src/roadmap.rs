//! A project's `todos/roadmap.md`, parsed by `local-store`'s
//! `parse_roadmap` (without the file system: no `todos/` directory).
//!
//! Input: the file's bytes, decoded as `read_todos` decodes them (lossy
//! UTF-8).
//!
//! Properties: every item comes from a line of the text that starts with
//! `- [M] slug` for its status's marker; slugs are unique, non-empty and
//! without whitespace; every line of a description is in the text.

use model::TodoStatus;
use std::collections::HashSet;

/// Runs one input.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let todos = local_store::parse_roadmap("fuzz", "/fuzz", &text, None);
    let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut seen = HashSet::new();
    for todo in &todos {
        assert!(!todo.slug.is_empty(), "{todo:?}");
        assert!(!todo.slug.contains(char::is_whitespace), "{todo:?}");
        assert!(seen.insert(todo.slug.as_str()), "duplicate {todo:?}");
        assert!(!todo.has_requirements && !todo.has_impl_plan);
        let markers: &[char] = match todo.status {
            TodoStatus::Pending => &[' '],
            TodoStatus::Ready => &['.'],
            TodoStatus::InProgress => &['>'],
            TodoStatus::Done => &['x', 'X'],
        };
        let from_a_line = body.lines().any(|line| {
            markers.iter().any(|m| {
                line.strip_prefix(&format!("- [{m}]"))
                    .and_then(|rest| rest.split_whitespace().next())
                    == Some(todo.slug.as_str())
            })
        });
        assert!(from_a_line, "{todo:?} comes from no item line");
        if let Some(d) = &todo.description {
            assert!(!d.is_empty() && d == d.trim_matches('\n'), "{todo:?}");
            for line in d.lines() {
                assert!(
                    body.contains(line),
                    "{line:?} of {todo:?} is not in the text"
                );
            }
        }
    }
}

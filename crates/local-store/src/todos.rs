//! A project's todos: the items of `todos/roadmap.md`.
//!
//! The format, per `PROTOCOL.md` section 2:
//!
//! ```text
//! - [ ] slug      pending
//! - [.] slug      ready
//! - [>] slug      in_progress
//! - [x] slug      done (also `X`)
//!   Indented lines under an item are its description.
//! ```
//!
//! An item starts at the beginning of a line; the slug is the first word
//! after the marker, and the rest of the line is ignored. The indented
//! lines that follow form the description, up to the next line that starts
//! at column 0; blank lines inside do not end it. Indented checkboxes are
//! therefore part of a description, not items. Every other line (headings,
//! prose) is not an item and is ignored.

use crate::Skips;
use model::{Todo, TodoStatus};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Component, Path};

/// The largest roadmap read; a bigger one is skipped with a warning (its
/// todos could not travel between computers anyway).
pub const MAX_ROADMAP_BYTES: u64 = 4 * 1024 * 1024;

/// Parses a roadmap of the project at `project_path` on `computer`.
///
/// `todos_dir` is the project's `todos/` directory, where
/// `<slug>/requirements.md` and `<slug>/implementation-plan.md` are looked
/// for; `None` reports neither. Lines that look like items but are not
/// (`- [?] x`, an item without a slug, a slug seen before) are skipped with
/// a warning.
pub fn parse_roadmap(
    computer: &str,
    project_path: &str,
    text: &str,
    todos_dir: Option<&Path>,
) -> Vec<Todo> {
    parse_roadmap_counted(computer, project_path, text, todos_dir, &Skips::default())
}

/// [`parse_roadmap`], counting each skipped line in `skips`.
fn parse_roadmap_counted(
    computer: &str,
    project_path: &str,
    text: &str,
    todos_dir: Option<&Path>,
    skips: &Skips,
) -> Vec<Todo> {
    let parsed = parse(text);
    for s in &parsed.skipped {
        skips.skipped();
        tracing::warn!(
            project = project_path,
            line = s.line,
            reason = s.reason,
            "skipped roadmap item"
        );
    }
    parsed
        .items
        .into_iter()
        .map(|item| {
            let doc = |file: &str| {
                todos_dir.is_some_and(|dir| {
                    is_plain_name(&item.slug) && dir.join(&item.slug).join(file).is_file()
                })
            };
            Todo {
                computer: computer.to_owned(),
                project_path: project_path.to_owned(),
                has_requirements: doc("requirements.md"),
                has_impl_plan: doc("implementation-plan.md"),
                slug: item.slug,
                status: item.status,
                description: item.description,
            }
        })
        .collect()
}

/// Reads and parses `<project>/todos/roadmap.md`. A missing file means no
/// todos; one that cannot be read or is too large is skipped with a
/// warning. The todos' `project_path` is `project` as given.
pub fn read_todos(computer: &str, project: &Path) -> Vec<Todo> {
    read_todos_counted(computer, project, &Skips::default())
}

/// [`read_todos`], counting a skipped roadmap and each skipped line in
/// `skips`.
pub(crate) fn read_todos_counted(computer: &str, project: &Path, skips: &Skips) -> Vec<Todo> {
    let todos_dir = project.join("todos");
    let path = todos_dir.join("roadmap.md");
    let skip = |reason: &'static str, error: String| {
        skips.skipped();
        tracing::warn!(path = %path.display(), reason, error, "skipped roadmap");
        Vec::new()
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => return skip("cannot open", e.to_string()),
    };
    let mut bytes = Vec::new();
    match file.take(MAX_ROADMAP_BYTES + 1).read_to_end(&mut bytes) {
        Ok(n) if n as u64 > MAX_ROADMAP_BYTES => {
            return skip("too large", format!("over {MAX_ROADMAP_BYTES} bytes"));
        }
        Ok(_) => {}
        Err(e) => return skip("cannot read", e.to_string()),
    }
    let text = String::from_utf8_lossy(&bytes);
    parse_roadmap_counted(
        computer,
        &project.to_string_lossy(),
        &text,
        Some(&todos_dir),
        skips,
    )
}

/// One roadmap item before the file system is consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) slug: String,
    pub(crate) status: TodoStatus,
    pub(crate) description: Option<String>,
}

/// A line that looked like an item but was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SkippedLine {
    /// 1-based line number.
    pub(crate) line: usize,
    pub(crate) reason: &'static str,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) items: Vec<Item>,
    pub(crate) skipped: Vec<SkippedLine>,
}

/// The pure parser: no I/O, no logging.
pub(crate) fn parse(text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Parsed::default();
    let mut seen = HashSet::new();
    // The item being read, with the raw lines of its description; `None`
    // also while skipping the indented lines of a refused item.
    let mut current: Option<(Item, Vec<&str>)> = None;
    for (i, line) in text.lines().enumerate() {
        // `lines` strips "\r\n"; a lone trailing '\r' goes too.
        let line = line.strip_suffix('\r').unwrap_or(line);
        let indented = line.starts_with([' ', '\t']);
        if indented || line.trim().is_empty() {
            if let Some((_, desc)) = current.as_mut() {
                desc.push(line);
            }
            continue;
        }
        finish(&mut out, current.take());
        match parse_item_line(line) {
            Line::Item(slug, status) => {
                if seen.insert(slug.to_owned()) {
                    let item = Item {
                        slug: slug.to_owned(),
                        status,
                        description: None,
                    };
                    current = Some((item, Vec::new()));
                } else {
                    out.skipped.push(SkippedLine {
                        line: i + 1,
                        reason: "duplicate slug",
                    });
                }
            }
            Line::Bad(reason) => out.skipped.push(SkippedLine {
                line: i + 1,
                reason,
            }),
            Line::Other => {}
        }
    }
    finish(&mut out, current);
    out
}

fn finish(out: &mut Parsed, current: Option<(Item, Vec<&str>)>) {
    if let Some((mut item, lines)) = current {
        item.description = dedent(&lines);
        out.items.push(item);
    }
}

enum Line<'a> {
    Item(&'a str, TodoStatus),
    Bad(&'static str),
    Other,
}

fn parse_item_line(line: &str) -> Line<'_> {
    let Some(rest) = line.strip_prefix("- [") else {
        return Line::Other;
    };
    let mut chars = rest.chars();
    let (Some(mark), Some(']')) = (chars.next(), chars.next()) else {
        return Line::Other;
    };
    let after = chars.as_str();
    let status = match mark {
        ' ' => TodoStatus::Pending,
        '.' => TodoStatus::Ready,
        '>' => TodoStatus::InProgress,
        'x' | 'X' => TodoStatus::Done,
        _ => return Line::Bad("unknown status marker"),
    };
    if !after.is_empty() && !after.starts_with(char::is_whitespace) {
        return Line::Bad("no space after the marker");
    }
    match after.split_whitespace().next() {
        Some(slug) => Line::Item(slug, status),
        None => Line::Bad("item without a slug"),
    }
}

/// Removes the common indentation (each space or tab counts as one), trims
/// line ends and drops leading and trailing blank lines.
fn dedent(lines: &[&str]) -> Option<String> {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()?;
    let body: Vec<&str> = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect();
    let text = body.join("\n");
    let text = text.trim_matches('\n');
    (!text.is_empty()).then(|| text.to_owned())
}

/// Whether a slug can name a directory under `todos/` without leaving it.
fn is_plain_name(slug: &str) -> bool {
    let mut parts = Path::new(slug).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(_)), None)
    )
}

#[cfg(test)]
#[path = "tests/todos.rs"]
mod tests;

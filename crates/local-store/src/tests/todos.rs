//! Tests of the roadmap parser and of reading roadmaps from disk.

use super::*;
use std::fs;

/// Parses `text` and compares slugs, statuses and descriptions.
#[track_caller]
fn check(text: &str, want: &[(&str, TodoStatus, Option<&str>)]) {
    let parsed = parse(text);
    let got: Vec<(&str, TodoStatus, Option<&str>)> = parsed
        .items
        .iter()
        .map(|i| (i.slug.as_str(), i.status, i.description.as_deref()))
        .collect();
    assert_eq!(got, want, "{text:?}");
}

/// The parsed items as owned tuples.
fn items(text: &str) -> Vec<(String, TodoStatus, Option<String>)> {
    parse(text)
        .items
        .into_iter()
        .map(|i| (i.slug, i.status, i.description))
        .collect()
}

use TodoStatus::{Done, InProgress, Pending, Ready};

#[test]
fn every_status() {
    let text = "- [ ] a\n- [.] b\n- [>] c\n- [x] d\n- [X] e\n";
    assert_eq!(
        items(text),
        vec![
            ("a".into(), Pending, None),
            ("b".into(), Ready, None),
            ("c".into(), InProgress, None),
            ("d".into(), Done, None),
            ("e".into(), Done, None),
        ]
    );
}

#[test]
fn slug_is_the_first_word() {
    assert_eq!(
        items("- [ ]   add-login  Add the login page\n- [x]\tdone-thing\n"),
        vec![
            ("add-login".into(), Pending, None),
            ("done-thing".into(), Done, None),
        ]
    );
}

#[test]
fn descriptions_are_dedented_and_trimmed() {
    let text = "\
- [ ] first
    Line one.
      Nested more.

    After a blank line.

- [>] second
\tTabbed.
- [x] third
";
    assert_eq!(
        items(text),
        vec![
            (
                "first".into(),
                Pending,
                Some("Line one.\n  Nested more.\n\nAfter a blank line.".into())
            ),
            ("second".into(), InProgress, Some("Tabbed.".into())),
            ("third".into(), Done, None),
        ]
    );
}

#[test]
fn a_column_zero_line_ends_the_description() {
    let text = "- [ ] a\n  desc a\nSome prose.\n  orphan indented line\n- [.] b\n";
    assert_eq!(
        items(text),
        vec![
            ("a".into(), Pending, Some("desc a".into())),
            ("b".into(), Ready, None)
        ]
    );
}

#[test]
fn indented_checkboxes_belong_to_the_description() {
    let text = "- [ ] parent\n  - [ ] sub one\n  - [x] sub two\n";
    assert_eq!(
        items(text),
        vec![(
            "parent".into(),
            Pending,
            Some("- [ ] sub one\n- [x] sub two".into())
        )]
    );
}

#[test]
fn junk_lines_are_ignored_and_bad_items_reported() {
    let text = "\
# Roadmap

Some intro text.
- plain bullet
* [ ] star-bullet
- [] empty-box
- [?] unknown-marker
  its description is dropped too
- [ ]
- [x]glued
-[ ] no-space
- [ ] good
- [x] good
";
    let parsed = parse(text);
    check(text, &[("good", Pending, None)]);
    let reasons: Vec<(usize, &str)> = parsed.skipped.iter().map(|s| (s.line, s.reason)).collect();
    assert_eq!(
        reasons,
        vec![
            (7, "unknown status marker"),
            (9, "item without a slug"),
            (10, "no space after the marker"),
            (13, "duplicate slug"),
        ]
    );
}

#[test]
fn crlf_and_bom() {
    let text = "\u{feff}- [ ] a\r\n  desc one\r\n  desc two\r\n\r\n- [x] b\r\n";
    check(
        text,
        &[
            ("a", Pending, Some("desc one\ndesc two")),
            ("b", Done, None),
        ],
    );
}

#[test]
fn empty_and_odd_inputs() {
    check("", &[]);
    check("\n\n   \n", &[]);
    check("   - [ ] indented-item-without-parent\n", &[]);
    check(
        "- [ ] ünïcödé-slug\n  ✓ descr\n",
        &[("ünïcödé-slug", Pending, Some("✓ descr"))],
    );
    check("- [ ] a\n  \u{3000}\n", &[("a", Pending, None)]);
}

#[test]
fn reads_from_disk_with_document_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("proj");
    let todos = project.join("todos");
    fs::create_dir_all(todos.join("both")).unwrap();
    fs::create_dir_all(todos.join("req-only")).unwrap();
    fs::write(todos.join("both/requirements.md"), "r").unwrap();
    fs::write(todos.join("both/implementation-plan.md"), "p").unwrap();
    fs::write(todos.join("req-only/requirements.md"), "r").unwrap();
    // Outside todos/: a slug must not reach it.
    fs::write(project.join("requirements.md"), "r").unwrap();
    fs::write(
        todos.join("roadmap.md"),
        "- [ ] both\n- [.] req-only\n- [>] none\n- [x] ..\n",
    )
    .unwrap();

    let got = read_todos("alpha", &project);
    let flags: Vec<(&str, bool, bool)> = got
        .iter()
        .map(|t| (t.slug.as_str(), t.has_requirements, t.has_impl_plan))
        .collect();
    assert_eq!(
        flags,
        vec![
            ("both", true, true),
            ("req-only", true, false),
            ("none", false, false),
            ("..", false, false),
        ]
    );
    let project_path = project.to_string_lossy();
    assert!(
        got.iter()
            .all(|t| t.computer == "alpha" && t.project_path == project_path)
    );

    // Without a todos dir, no flags.
    let text = fs::read_to_string(todos.join("roadmap.md")).unwrap();
    let bare = parse_roadmap("alpha", "/p", &text, None);
    assert!(bare.iter().all(|t| !t.has_requirements && !t.has_impl_plan));
    assert_eq!(bare.len(), 4);
}

#[test]
fn missing_or_unreadable_roadmap_is_empty() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(read_todos("alpha", tmp.path()).is_empty());
    assert!(read_todos("alpha", &tmp.path().join("nope")).is_empty());
    // roadmap.md is a directory: skipped, not a panic.
    fs::create_dir_all(tmp.path().join("todos/roadmap.md")).unwrap();
    assert!(read_todos("alpha", tmp.path()).is_empty());
    // Invalid UTF-8 is read lossily.
    let other = tmp.path().join("other");
    fs::create_dir_all(other.join("todos")).unwrap();
    fs::write(
        other.join("todos/roadmap.md"),
        b"- [ ] ok\n  bad \xff byte\n",
    )
    .unwrap();
    let got = read_todos("alpha", &other);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].description.as_deref(), Some("bad \u{fffd} byte"));
}

//! Tests of the project scan and the README description.

use super::*;
use std::fs;

fn mkdir(p: &Path) {
    fs::create_dir_all(p).unwrap();
}

fn canon(p: &Path) -> String {
    fs::canonicalize(p).unwrap().to_str().unwrap().to_owned()
}

#[test]
fn paragraph_skips_headings_and_joins_lines() {
    let check = |text: &str, want: Option<&str>| {
        assert_eq!(first_paragraph(text).as_deref(), want, "{text:?}");
    };
    check(
        "# Title\n\nFirst line\nsecond line.\n\nMore.",
        Some("First line second line."),
    );
    check("# Title\nDirectly under.\n", Some("Directly under."));
    check("Title\n=====\n\nBody text.", Some("Body text."));
    check("Title\n---\nBody text.", Some("Body text."));
    check(
        "\u{feff}\r\n  Plain   \r\n  text \r\n\r\nnext",
        Some("Plain text"),
    );
    check("# Only\n## Headings\n", None);
    check("", None);
    check("   \n\n", None);
    check(
        "<p align=\"center\"><img src=\"x.png\"></p>\n\n[![ci](b.svg)](l)\n\n# Name\n\nReal words.",
        Some("Real words."),
    );
    check("```\ncode block\n```\n\nAfter code.", Some("After code."));
    check(
        "---\ntitle: x\n---\n\nAfter front matter.",
        Some("After front matter."),
    );
    check("Words here.\n***\nOther.", Some("Words here."));
    check("#hashtag is text", Some("#hashtag is text"));
}

#[test]
fn scans_projects_and_roots() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // --project dirs
    mkdir(&t.join("solo"));
    fs::write(t.join("solo/README.md"), "# Solo\n\nA lone project.\n").unwrap();
    mkdir(&t.join("plain"));
    fs::write(t.join("afile"), "x").unwrap();
    // a root with a git repo, a todos-only dir, an ordinary dir and a file
    let root = t.join("root");
    mkdir(&root.join("repo/.git"));
    fs::write(root.join("repo/README"), "Repo text\n").unwrap();
    mkdir(&root.join("planned/todos"));
    mkdir(&root.join("ordinary"));
    fs::write(root.join("file.txt"), "x").unwrap();
    mkdir(&root.join("worktree"));
    fs::write(root.join("worktree/.git"), "gitdir: elsewhere").unwrap();

    let cfg = ProjectsConfig {
        projects: vec![
            t.join("solo"),
            t.join("plain"),
            t.join("missing"),
            t.join("afile"),
            // The same directory twice, once through `..`.
            root.join("repo/../repo"),
        ],
        roots: vec![root.clone(), t.join("no-root")],
        ..ProjectsConfig::default()
    };
    let scan = scan("alpha", &cfg);
    let got: Vec<(&str, &str, Option<&str>)> = scan
        .projects
        .iter()
        .map(|p| (p.name.as_str(), p.path.as_str(), p.description.as_deref()))
        .collect();
    let plain = canon(&t.join("plain"));
    let planned = canon(&root.join("planned"));
    let repo = canon(&root.join("repo"));
    let worktree = canon(&root.join("worktree"));
    let solo = canon(&t.join("solo"));
    let mut want = vec![
        ("plain", plain.as_str(), None),
        ("planned", planned.as_str(), None),
        ("repo", repo.as_str(), Some("Repo text")),
        ("worktree", worktree.as_str(), None),
        ("solo", solo.as_str(), Some("A lone project.")),
    ];
    want.sort_by_key(|w| w.1);
    assert_eq!(got, want);
    assert!(scan.projects.iter().all(|p| p.computer == "alpha"));
    assert!(
        scan.projects
            .iter()
            .all(|p| Path::new(&p.path).is_absolute())
    );

    let mut skipped: Vec<(String, &str)> = scan
        .skipped
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_string_lossy().into_owned(),
                s.reason,
            )
        })
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        vec![
            ("afile".to_owned(), "not a directory"),
            ("missing".to_owned(), "does not exist"),
            ("no-root".to_owned(), "does not exist"),
        ]
    );
    // The public entry point returns the same list.
    assert_eq!(scan_projects("alpha", &cfg), scan.projects);
}

#[cfg(unix)]
#[test]
fn follows_symlinks_and_dedups() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    mkdir(&t.join("real/.git"));
    let root = t.join("root");
    mkdir(&root);
    std::os::unix::fs::symlink(t.join("real"), root.join("link")).unwrap();
    let cfg = ProjectsConfig {
        projects: vec![t.join("real")],
        roots: vec![root],
        ..ProjectsConfig::default()
    };
    let got = scan_projects("alpha", &cfg);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name, "real");
    assert_eq!(got[0].path, canon(&t.join("real")));
}

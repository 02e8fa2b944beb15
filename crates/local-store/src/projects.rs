//! Finding this computer's projects: the directories named by `--project`
//! and the immediate subdirectories of each `--projects-root` that hold
//! `.git` or `todos/`, each described by the first paragraph of its README.
//!
//! Nothing here fails: a path that cannot be used is skipped with a warning
//! naming it and the reason, and the scan goes on.

use crate::Skips;
use model::Project;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The README names tried, in order, for a project's description.
pub(crate) const README_NAMES: &[&str] = &["README.md", "README", "readme.md", "Readme.md"];

/// How much of a README is read to find its first paragraph.
const README_MAX_BYTES: u64 = 64 * 1024;

/// Where this computer's projects are, as the daemon's flags give them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectsConfig {
    /// Project directories (`--project`), each one project.
    pub projects: Vec<PathBuf>,
    /// Directories (`--projects-root`) whose immediate subdirectories
    /// holding `.git` or `todos/` are projects.
    pub roots: Vec<PathBuf>,
    /// Where what is skipped on disk is counted.
    pub skips: Skips,
}

/// The projects of `cfg`, owned by `computer`: absolute (symlinks resolved),
/// sorted by path, without duplicates.
///
/// A `--project` that does not exist or is not a directory, a root that
/// cannot be read, or a README that cannot be read is skipped with a
/// `tracing::warn!` naming the path and the reason, and counted in
/// `cfg.skips`.
pub fn scan_projects(computer: &str, cfg: &ProjectsConfig) -> Vec<Project> {
    let scan = scan(computer, cfg);
    for s in &scan.skipped {
        s.log(&cfg.skips);
    }
    scan.projects
}

/// What [`scan`] found, and what it had to leave out.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The projects, sorted by path.
    pub(crate) projects: Vec<Project>,
    /// Paths left out, each with why.
    pub(crate) skipped: Vec<Skipped>,
}

/// A path the scan could not use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Skipped {
    pub(crate) path: PathBuf,
    pub(crate) what: Kind,
    pub(crate) reason: &'static str,
    pub(crate) error: Option<String>,
}

/// What kind of path was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Project,
    Root,
    RootEntry,
    Readme,
}

impl Skipped {
    fn new(path: &Path, what: Kind, reason: &'static str, error: Option<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            what,
            reason,
            error,
        }
    }

    /// Logs it once, as `warn`, and counts it in `skips`.
    pub(crate) fn log(&self, skips: &Skips) {
        skips.skipped();
        let path = self.path.display();
        let reason = self.reason;
        let error = self.error.as_deref().unwrap_or("");
        match self.what {
            Kind::Project => tracing::warn!(path = %path, reason, error, "skipped project"),
            Kind::Root => tracing::warn!(path = %path, reason, error, "skipped projects root"),
            Kind::RootEntry => {
                tracing::warn!(path = %path, reason, error, "skipped projects root entry");
            }
            Kind::Readme => tracing::warn!(path = %path, reason, error, "skipped readme"),
        }
    }
}

/// Scans without logging: the watcher logs each skip once across scans.
pub(crate) fn scan(computer: &str, cfg: &ProjectsConfig) -> Scan {
    let mut skipped = Vec::new();
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut add = |dir: PathBuf, what: Kind, skipped: &mut Vec<Skipped>| match dir.to_str() {
        Some(s) => {
            found.insert(s.to_owned(), dir);
        }
        None => skipped.push(Skipped::new(&dir, what, "path is not valid UTF-8", None)),
    };

    for p in &cfg.projects {
        match resolve_dir(p) {
            Ok(dir) => add(dir, Kind::Project, &mut skipped),
            Err((reason, error)) => skipped.push(Skipped::new(p, Kind::Project, reason, error)),
        }
    }
    for root in &cfg.roots {
        let entries = match std::fs::read_dir(root) {
            Ok(entries) => entries,
            Err(e) => {
                let reason = match e.kind() {
                    std::io::ErrorKind::NotFound => "does not exist",
                    std::io::ErrorKind::NotADirectory => "not a directory",
                    _ => "cannot read directory",
                };
                skipped.push(Skipped::new(root, Kind::Root, reason, Some(e.to_string())));
                continue;
            }
        };
        for entry in entries {
            let path = match entry {
                Ok(entry) => entry.path(),
                Err(e) => {
                    let reason = "cannot read directory entry";
                    skipped.push(Skipped::new(root, Kind::Root, reason, Some(e.to_string())));
                    continue;
                }
            };
            // `is_dir` follows symlinks: a link to a repository counts.
            if !path.is_dir() || !is_project_dir(&path) {
                continue;
            }
            match resolve_dir(&path) {
                Ok(dir) => add(dir, Kind::RootEntry, &mut skipped),
                Err((reason, error)) => {
                    skipped.push(Skipped::new(&path, Kind::RootEntry, reason, error));
                }
            }
        }
    }

    let projects = found
        .into_iter()
        .map(|(path, dir)| {
            let name = dir
                .file_name()
                .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
            Project {
                computer: computer.to_owned(),
                name,
                description: read_description(&dir, &mut skipped),
                path,
            }
        })
        .collect();
    Scan { projects, skipped }
}

/// Whether a root's subdirectory is a project: it holds `.git` (a
/// directory, or a file for worktrees and submodules) or `todos/`.
pub(crate) fn is_project_dir(dir: &Path) -> bool {
    dir.join(".git").exists() || dir.join("todos").is_dir()
}

/// The absolute, symlink-free form of a directory, or why it is unusable.
fn resolve_dir(p: &Path) -> Result<PathBuf, (&'static str, Option<String>)> {
    let dir = std::fs::canonicalize(p).map_err(|e| {
        let reason = if e.kind() == std::io::ErrorKind::NotFound {
            "does not exist"
        } else {
            "cannot resolve path"
        };
        (reason, Some(e.to_string()))
    })?;
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => Ok(dir),
        Ok(_) => Err(("not a directory", None)),
        Err(e) => Err(("cannot read metadata", Some(e.to_string()))),
    }
}

/// The first paragraph of the project's README, if it has one.
fn read_description(dir: &Path, skipped: &mut Vec<Skipped>) -> Option<String> {
    for name in README_NAMES {
        let path = dir.join(name);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                let reason = "cannot open";
                skipped.push(Skipped::new(
                    &path,
                    Kind::Readme,
                    reason,
                    Some(e.to_string()),
                ));
                continue;
            }
        };
        let mut bytes = Vec::new();
        if let Err(e) = file.take(README_MAX_BYTES).read_to_end(&mut bytes) {
            // A directory named README lands here too.
            let reason = "cannot read";
            skipped.push(Skipped::new(
                &path,
                Kind::Readme,
                reason,
                Some(e.to_string()),
            ));
            continue;
        }
        return first_paragraph(&String::from_utf8_lossy(&bytes));
    }
    None
}

/// The first paragraph of a Markdown or plain-text document that is not a
/// heading: its lines trimmed and joined with spaces.
///
/// Skipped on the way: ATX (`# Title`) and setext (`Title` over `===`)
/// headings, thematic breaks, fenced code blocks, and lines that are only
/// decoration (HTML tags, images and badges).
pub(crate) fn first_paragraph(text: &str) -> Option<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut para: Vec<&str> = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            if !para.is_empty() {
                break;
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if t.is_empty() || is_atx_heading(t) {
            if !para.is_empty() {
                break;
            }
            continue;
        }
        if is_setext_underline(t) {
            // Under text it makes that text a heading; alone it is a break.
            para.clear();
            continue;
        }
        if is_thematic_break(t) {
            if !para.is_empty() {
                break;
            }
            continue;
        }
        if is_decoration(t) {
            continue;
        }
        para.push(t);
    }
    let joined = para.join(" ");
    let joined = joined.trim();
    (!joined.is_empty()).then(|| joined.to_owned())
}

fn is_atx_heading(t: &str) -> bool {
    let hashes = t.bytes().take_while(|b| *b == b'#').count();
    (1..=6).contains(&hashes) && t[hashes..].chars().next().is_none_or(char::is_whitespace)
}

/// `===` or `---` (spaces allowed): turns the text above into a heading.
fn is_setext_underline(t: &str) -> bool {
    let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    !t.is_empty() && (t.chars().all(|c| c == '=') || (t.len() >= 2 && t.chars().all(|c| c == '-')))
}

/// `***` or `___`: a horizontal rule.
fn is_thematic_break(t: &str) -> bool {
    let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() >= 3 && (t.chars().all(|c| c == '*') || t.chars().all(|c| c == '_'))
}

fn is_decoration(t: &str) -> bool {
    t.starts_with('<') || t.starts_with("![") || t.starts_with("[![")
}

#[cfg(test)]
#[path = "tests/projects.rs"]
mod tests;

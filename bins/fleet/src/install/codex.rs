//! Codex CLI's `~/.codex/config.toml`: its top-level `notify` is the program Codex runs
//! after each turn, with the event as its last argument. Codex runs one such program,
//! so install refuses to replace another one. The file is edited as text (comments and
//! layout stay) and checked by parsing: the result must read back as the original with
//! only `notify` added or removed.

use crate::install::shell_word;
use toml::{Table, Value};

/// The comment line written above fleet's `notify`.
const COMMENT: &str =
    "# fleet: session status from Codex (`fleet hooks uninstall codex` removes it)";

fn parse(text: &str) -> Result<Table, String> {
    text.parse::<Table>().map_err(|e| {
        format!(
            "refused: it is not valid TOML ({}); nothing was changed",
            e.message()
        )
    })
}

/// Whether a `notify` value runs `fleet hook codex`.
fn is_ours(v: &Value) -> bool {
    let Some(words) = v.as_array() else {
        return false;
    };
    let words: Vec<&str> = words.iter().filter_map(Value::as_str).collect();
    match words.as_slice() {
        [program, "hook", "codex"] => program
            .rsplit('/')
            .next()
            .is_some_and(|f| f.starts_with("fleet")),
        _ => false,
    }
}

fn notify_line(program: &str) -> String {
    let quoted = |s: &str| Value::String(s.to_owned()).to_string();
    let _ = shell_word; // Codex runs the argv itself: no shell quoting.
    format!(
        "notify = [{}, {}, {}]",
        quoted(program),
        quoted("hook"),
        quoted("codex")
    )
}

/// `text` with fleet as Codex's `notify` program.
///
/// # Errors
/// Why the file is refused (bad TOML, another `notify`).
pub fn install(text: &str, program: &str) -> Result<String, String> {
    let table = parse(text)?;
    match table.get("notify") {
        Some(v) if is_ours(v) => return Ok(text.to_owned()),
        Some(v) => {
            return Err(format!(
                "refused: notify is already set to {v}, and Codex runs a single notify program; remove it (or run it from a script that also runs `fleet hook codex`) first; nothing was changed"
            ));
        }
        None => {}
    }
    let after = format!("{COMMENT}\n{}\n{text}", notify_line(program));
    let mut check = parse(&after).map_err(|e| format!("could not add notify safely: {e}"))?;
    check.remove("notify");
    if check != table {
        return Err(
            "could not add notify without changing other settings; nothing was changed".into(),
        );
    }
    Ok(after)
}

/// `text` without fleet's `notify`.
///
/// # Errors
/// Why the file is refused.
pub fn uninstall(text: &str) -> Result<String, String> {
    let mut table = parse(text)?;
    match table.get("notify") {
        Some(v) if is_ours(v) => {}
        _ => return Ok(text.to_owned()),
    }
    table.remove("notify");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let at = lines.iter().position(|l| {
        let t = l.trim_start();
        t.starts_with("notify")
            && t["notify".len()..].trim_start().starts_with('=')
            && t.parse::<Table>()
                .is_ok_and(|one| one.get("notify").is_some_and(is_ours))
    });
    let Some(at) = at else {
        return Err(
            "refused: fleet's notify spans several lines; remove it by hand; nothing was changed"
                .into(),
        );
    };
    let from = if at > 0 && lines[at - 1].trim_end() == COMMENT {
        at - 1
    } else {
        at
    };
    let after: String = lines[..from]
        .iter()
        .chain(&lines[at + 1..])
        .copied()
        .collect();
    if parse(&after)? != table {
        return Err(
            "could not remove notify without changing other settings; nothing was changed".into(),
        );
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str =
        "# my codex\nmodel = \"o3\"\n\n[mcp_servers.docs]\ncommand = \"docs-mcp\"\n";

    #[test]
    fn notify_is_added_on_top_and_removed_exactly() {
        let installed = install(CONFIG, "/usr/bin/fleet").unwrap();
        assert!(installed.ends_with(CONFIG));
        assert!(installed.contains("notify = [\"/usr/bin/fleet\", \"hook\", \"codex\"]"));
        assert_eq!(install(&installed, "/usr/bin/fleet").unwrap(), installed);
        assert_eq!(uninstall(&installed).unwrap(), CONFIG);
        assert_eq!(uninstall(CONFIG).unwrap(), CONFIG);
    }

    #[test]
    fn another_notify_and_bad_toml_are_refused() {
        let other = "notify = [\"notify-send\", \"codex\"]\n";
        assert!(install(other, "fleet").unwrap_err().contains("already set"));
        assert!(
            install("model = ", "fleet")
                .unwrap_err()
                .contains("not valid TOML")
        );
    }
}

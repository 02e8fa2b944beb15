//! Claude Code's and Gemini CLI's `settings.json`: `"hooks": {EVENT: [{"matcher"?,
//! "hooks": [{"type": "command", "command": CMD}]}]}`. Install adds one group per event
//! fleet records, unless a hook of that event already runs `fleet hook AGENT`; uninstall
//! removes exactly those hooks (and the groups, events and `hooks` object they leave
//! empty). Every other key, event, group and hook stays, in its order.

use crate::hook::Agent;
use crate::install::shell_word;
use serde_json::{Map, Value, json};

/// The events fleet hooks, and whether each takes a tool matcher.
pub fn events(agent: Agent) -> &'static [(&'static str, bool)] {
    match agent {
        Agent::Gemini => &[
            ("SessionStart", false),
            ("BeforeAgent", false),
            ("BeforeTool", true),
            ("AfterTool", true),
            ("Notification", false),
            ("AfterAgent", false),
            ("SessionEnd", false),
        ],
        _ => &[
            ("SessionStart", false),
            ("UserPromptSubmit", false),
            ("PreToolUse", true),
            ("PostToolUse", true),
            ("Notification", false),
            ("PermissionRequest", true),
            ("Stop", false),
            ("SessionEnd", false),
        ],
    }
}

/// Whether `command` runs `fleet hook AGENT` (whatever the path to fleet).
pub fn is_ours(command: &str, agent: Agent) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        [program, .., hook, name] => {
            let program = program.trim_matches(['\'', '"']);
            let file = program.rsplit('/').next().unwrap_or(program);
            file.starts_with("fleet") && *hook == "hook" && *name == agent.name()
        }
        _ => false,
    }
}

fn parse(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("refused: it is JSON but not an object; nothing was changed".into()),
        Err(e) => Err(format!(
            "refused: it is not valid JSON ({e}); nothing was changed"
        )),
    }
}

fn render(map: Map<String, Value>) -> String {
    let mut text = serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_default();
    text.push('\n');
    text
}

fn hooks_object(settings: &mut Map<String, Value>) -> Result<&mut Map<String, Value>, String> {
    let hooks = settings
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    hooks
        .as_object_mut()
        .ok_or_else(|| "refused: its \"hooks\" is not an object; nothing was changed".into())
}

/// Whether a group holds a hook running `fleet hook AGENT`.
fn group_has_ours(group: &Value, agent: Agent) -> bool {
    group
        .get("hooks")
        .and_then(Value::as_array)
        .is_some_and(|hooks| {
            hooks.iter().any(|h| {
                h.get("command")
                    .and_then(Value::as_str)
                    .is_some_and(|c| is_ours(c, agent))
            })
        })
}

/// `text` with fleet's hooks added (unchanged when they are all there).
///
/// # Errors
/// Why the file is refused.
pub fn install(agent: Agent, text: &str, program: &str) -> Result<String, String> {
    let mut settings = parse(text)?;
    let command = format!("{} hook {}", shell_word(program), agent.name());
    let hooks = hooks_object(&mut settings)?;
    let mut changed = false;
    for (event, matcher) in events(agent) {
        let groups = hooks
            .entry(*event)
            .or_insert_with(|| Value::Array(Vec::new()));
        let Some(groups) = groups.as_array_mut() else {
            return Err(format!(
                "refused: its hooks.{event} is not an array; nothing was changed"
            ));
        };
        if groups.iter().any(|g| group_has_ours(g, agent)) {
            continue;
        }
        let mut hook = json!({"type": "command", "command": command});
        if agent == Agent::Gemini {
            hook["name"] = json!("fleet");
        } else {
            hook["timeout"] = json!(5);
        }
        let group = if *matcher {
            json!({"matcher": "*", "hooks": [hook]})
        } else {
            json!({"hooks": [hook]})
        };
        groups.push(group);
        changed = true;
    }
    Ok(if changed {
        render(settings)
    } else {
        text.to_owned()
    })
}

/// `text` without fleet's hooks (unchanged when there are none).
///
/// # Errors
/// Why the file is refused.
pub fn uninstall(agent: Agent, text: &str) -> Result<String, String> {
    let mut settings = parse(text)?;
    let Some(hooks) = settings.get_mut("hooks") else {
        return Ok(text.to_owned());
    };
    let Some(hooks) = hooks.as_object_mut() else {
        return Err("refused: its \"hooks\" is not an object; nothing was changed".into());
    };
    let mut changed = false;
    let mut emptied = Vec::new();
    for (event, groups) in hooks.iter_mut() {
        let Some(groups) = groups.as_array_mut() else {
            continue;
        };
        let before = groups.len();
        for group in groups.iter_mut() {
            if let Some(list) = group.get_mut("hooks").and_then(Value::as_array_mut) {
                let n = list.len();
                list.retain(|h| {
                    !h.get("command")
                        .and_then(Value::as_str)
                        .is_some_and(|c| is_ours(c, agent))
                });
                changed |= list.len() != n;
            }
        }
        groups.retain(|g| {
            g.get("hooks")
                .and_then(Value::as_array)
                .is_none_or(|l| !l.is_empty())
        });
        if groups.is_empty() && before > 0 {
            emptied.push(event.clone());
        }
    }
    if !changed {
        return Ok(text.to_owned());
    }
    for event in emptied {
        hooks.shift_remove(&event);
    }
    if hooks.is_empty() {
        settings.shift_remove("hooks");
    }
    Ok(render(settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_is_recognised_whatever_the_path() {
        assert!(is_ours("fleet hook claude", Agent::Claude));
        assert!(is_ours("/usr/local/bin/fleet hook claude", Agent::Claude));
        assert!(!is_ours("fleet hook gemini", Agent::Claude));
        assert!(!is_ours("notify-send hi", Agent::Claude));
    }

    #[test]
    fn install_keeps_other_hooks_and_uninstall_restores_them() {
        let text = r#"{"model":"opus","hooks":{"Stop":[{"hooks":[{"type":"command","command":"say done"}]}]}}"#;
        let installed = install(Agent::Claude, text, "/bin/fleet").unwrap();
        let v: Value = serde_json::from_str(&installed).unwrap();
        assert_eq!(v["model"], "opus");
        assert_eq!(v["hooks"]["Stop"].as_array().unwrap().len(), 2);
        assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["command"], "say done");
        assert_eq!(
            install(Agent::Claude, &installed, "/bin/fleet").unwrap(),
            installed
        );
        let removed = uninstall(Agent::Claude, &installed).unwrap();
        let r: Value = serde_json::from_str(&removed).unwrap();
        assert_eq!(r, serde_json::from_str::<Value>(text).unwrap());
    }
}

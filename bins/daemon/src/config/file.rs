//! Reading the `--config` TOML file: its keys, spelled like the flags with
//! `-` or `_`, their types, and paths relative to the file's directory.

use std::path::{Path, PathBuf};

use super::Origin;
use super::flags::{CONFIG, HEARTBEAT, SETTINGS, Setting};
use super::merge::{Sourced, Sources};

impl Sources<'_> {
    /// Reads the `--config` file into `self.file`, recording its errors.
    pub(super) fn read_file(&mut self, path: &Path) {
        self.file_path = path.to_path_buf();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                self.error(
                    &CONFIG,
                    Origin::CommandLine,
                    format!("cannot read {}: {e}", path.display()),
                );
                return;
            }
        };
        let table: toml::Table = match toml::from_str(&text) {
            Ok(table) => table,
            Err(e) => {
                let place = e.span().map_or_else(String::new, |span| {
                    let before = text.get(..span.start).unwrap_or(&text);
                    let line = before.matches('\n').count() + 1;
                    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
                    format!(" (line {line}, column {column})")
                });
                self.error(
                    &CONFIG,
                    Origin::CommandLine,
                    format!(
                        "{} is not valid TOML: {}{place}",
                        path.display(),
                        e.message().trim_end()
                    ),
                );
                return;
            }
        };
        for (key, value) in table {
            let normal = key.replace('_', "-");
            if !SETTINGS.iter().any(|s| s.key() == normal) {
                let known: Vec<&str> = SETTINGS.iter().map(|s| s.key()).collect();
                self.error(
                    &CONFIG,
                    Origin::CommandLine,
                    format!(
                        "unknown key {key:?} in {}; known keys: {}",
                        path.display(),
                        known.join(", ")
                    ),
                );
            } else if let Some((first, _)) = self.file.get(&normal) {
                let message = format!(
                    "keys {first:?} and {key:?} in {} are the same setting; keep one",
                    path.display()
                );
                self.error(&CONFIG, Origin::CommandLine, message);
            } else {
                self.file.insert(normal, (key, value));
            }
        }
    }

    fn file_origin(&self, key: String) -> Origin {
        Origin::File {
            key,
            path: self.file_path.clone(),
        }
    }

    /// The file's string value for `setting`; an integer is taken too for
    /// `--heartbeat`.
    pub(super) fn file_string(&mut self, setting: &Setting) -> Option<Sourced<String>> {
        let (key, value) = self.file.remove(setting.key())?;
        let origin = self.file_origin(key);
        match value {
            toml::Value::String(value) => Some(Sourced { value, origin }),
            toml::Value::Integer(n) if setting.flag == HEARTBEAT.flag => Some(Sourced {
                value: n.to_string(),
                origin,
            }),
            other => {
                let expected = if setting.flag == HEARTBEAT.flag {
                    "an integer (milliseconds)"
                } else {
                    "a string"
                };
                self.error(
                    setting,
                    origin,
                    format!("expected {expected}, found {}", other.type_str()),
                );
                None
            }
        }
    }

    /// The file's boolean value for `setting`.
    pub(super) fn file_bool(&mut self, setting: &Setting) -> Option<Sourced<bool>> {
        let (key, value) = self.file.remove(setting.key())?;
        let origin = self.file_origin(key);
        match value {
            toml::Value::Boolean(value) => Some(Sourced { value, origin }),
            other => {
                let message = format!("expected true or false, found {}", other.type_str());
                self.error(setting, origin, message);
                None
            }
        }
    }

    pub(super) fn file_paths(&mut self, setting: &Setting) -> Option<Sourced<Vec<PathBuf>>> {
        let (key, value) = self.file.remove(setting.key())?;
        let origin = self.file_origin(key);
        let items = match value {
            toml::Value::String(one) => vec![toml::Value::String(one)],
            toml::Value::Array(items) => items,
            other => {
                let message = format!("expected an array of strings, found {}", other.type_str());
                self.error(setting, origin, message);
                return None;
            }
        };
        let mut paths = Vec::with_capacity(items.len());
        for item in items {
            match item {
                toml::Value::String(path) => paths.push(self.in_file_dir(&path)),
                other => {
                    let message = format!(
                        "expected an array of strings, found {} in it",
                        other.type_str()
                    );
                    self.error(setting, origin, message);
                    return None;
                }
            }
        }
        Some(Sourced {
            value: paths,
            origin,
        })
    }

    /// A path written in the file, taken from the file's directory when
    /// relative. An empty path stays empty so that it is refused as such.
    pub(super) fn in_file_dir(&self, path: &str) -> PathBuf {
        if path.is_empty() {
            return PathBuf::new();
        }
        match self.file_path.parent() {
            Some(dir) => dir.join(path),
            None => PathBuf::from(path),
        }
    }
}

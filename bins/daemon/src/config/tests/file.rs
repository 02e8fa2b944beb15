//! Tests of the `--config` file: key spellings, relative paths and the
//! file's own errors.

use std::path::PathBuf;

use super::*;

#[test]
fn file_keys_take_dash_or_underscore_and_paths_are_relative_to_the_file() {
    let dir = TempDir::new();
    let token = dir.file("token", "tok\n");
    let file = dir.file(
        "fleet.toml",
        "data_dir = \"store\"\nprojects-root = [\"src\", \"/abs\"]\n\
         http = \"0.0.0.0:7070\"\ntoken-file = \"token\"\nsecret_file = \"token\"\n\
         project = \"one\"\n",
    );
    let config = ok(&["--config", &file], &[]);
    assert_eq!(config.data_dir, dir.0.join("store"));
    assert_eq!(
        config.projects_roots,
        vec![dir.0.join("src"), PathBuf::from("/abs")]
    );
    assert_eq!(config.projects, vec![dir.0.join("one")]);
    assert_eq!(config.token.as_deref(), Some("tok"));
    assert_eq!(config.secret.as_deref(), Some(&b"tok"[..]));
    assert!(token.ends_with("token"));
}

#[test]
fn file_errors_name_the_config_flag_or_the_setting() {
    let dir = TempDir::new();
    let file = dir.file(
        "fleet.toml",
        "namespce = \"x\"\nheartbeat = \"abc\"\nproject = [\"a\", 1]\n\
         data_dir = \"d\"\ndata-dir = \"e\"\nredis = 5\n",
    );
    let errors = errors(&["--config", &file, "--redis", "redis://h"], &[]);
    assert_eq!(errors.len(), 5, "{errors:#?}");
    let has = |prefix: &str| errors.iter().any(|e| e.starts_with(prefix));
    assert!(has("--config: unknown key \"namespce\""), "{errors:#?}");
    assert!(
        has("--config: keys \"data-dir\" and \"data_dir\""),
        "{errors:#?}"
    );
    // A type error is reported even when a flag overrides the key.
    assert!(has("--redis (from key \"redis\" in "), "{errors:#?}");
    assert!(has("--project (from key \"project\" in "), "{errors:#?}");
    assert!(
        has("--heartbeat (from key \"heartbeat\" in "),
        "{errors:#?}"
    );

    let missing = dir.0.join("missing.toml");
    one_error(
        &["--config", missing.to_str().unwrap()],
        &[],
        "--config: cannot read",
    );
    let bad = dir.file("bad.toml", "a = = 1");
    let e = one_error(&["--config", &bad], &[], "--config: ");
    assert!(
        e.contains("is not valid TOML") && e.contains("line 1"),
        "{e}"
    );
}

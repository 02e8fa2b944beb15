//! Where the daemon is: its Unix socket (by default the path `fleetd` uses, computed the
//! same way), or its TCP listener given as `http://host:port`, with the bearer token read
//! from `--token-file`.

use crate::cli::ConnectionArgs;
use crate::error::ConfigError;
use std::path::{Path, PathBuf};

/// The address of one daemon's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The daemon's Unix socket.
    Unix(PathBuf),
    /// The daemon's TCP listener.
    Tcp {
        /// `host:port`, as connected to and sent in `Host`.
        authority: String,
        /// The bearer token, when the listener needs one.
        token: Option<String>,
    },
}

impl Endpoint {
    /// The endpoint the options name: `--url` when given, else `--socket`, else the
    /// default socket path. `env` reads environment variables (`XDG_RUNTIME_DIR`).
    ///
    /// # Errors
    /// [`ConfigError`] for a URL that is not `http://host[:port]`, or a token file that
    /// cannot be read or is empty.
    pub fn from_args(
        args: &ConnectionArgs,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        if let Some(url) = &args.url {
            let authority = parse_url(url)?;
            let token = args.token_file.as_deref().map(read_token).transpose()?;
            return Ok(Self::Tcp { authority, token });
        }
        Ok(Self::Unix(
            args.socket
                .clone()
                .unwrap_or_else(|| default_socket_path(env)),
        ))
    }

    /// The endpoint of the real environment's defaults and the given options.
    ///
    /// # Errors
    /// As [`Endpoint::from_args`].
    pub fn from_env(args: &ConnectionArgs) -> Result<Self, ConfigError> {
        Self::from_args(args, &|name| std::env::var(name).ok())
    }

    /// How a person would name it: `the socket /run/...` or `http://host:port`.
    pub fn describe(&self) -> String {
        match self {
            Self::Unix(path) => format!("the socket {}", path.display()),
            Self::Tcp { authority, .. } => format!("http://{authority}"),
        }
    }

    /// The `Host` header of requests.
    pub fn host(&self) -> &str {
        match self {
            Self::Unix(_) => "localhost",
            Self::Tcp { authority, .. } => authority,
        }
    }

    /// The WebSocket URL of `/v1/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/ws", self.host())
    }

    /// The bearer token to send, if any (only over TCP: the socket needs none).
    pub fn bearer(&self) -> Option<&str> {
        match self {
            Self::Unix(_) => None,
            Self::Tcp { token, .. } => token.as_deref(),
        }
    }
}

/// The default Unix socket path, by the rule `fleetd` uses
/// ([`model::paths::default_socket_path`]):
/// `$XDG_RUNTIME_DIR/fleetcache/fleetd.sock` when `XDG_RUNTIME_DIR` is an absolute path,
/// else `/tmp/fleetcache-$UID/fleetd.sock`.
pub fn default_socket_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    model::paths::default_socket_path(env, current_uid())
}

fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// `http://host[:port][/]` to `host:port` (port 80 when absent).
fn parse_url(url: &str) -> Result<String, ConfigError> {
    let bad = |reason: &str| ConfigError::Url {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = if let Some(rest) = url.strip_prefix("http://") {
        rest
    } else if url.starts_with("https://") {
        return Err(bad(
            "https is not supported: the daemon's TCP listener speaks plain HTTP",
        ));
    } else {
        return Err(bad("expected http://host:port"));
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    if authority.contains(['/', '?', '#', '@']) || authority.chars().any(char::is_whitespace) {
        return Err(bad(
            "expected http://host:port, with no path, query or user",
        ));
    }
    let has_port = match authority.rsplit_once(':') {
        // `[::1]` alone has colons but no port.
        Some((host, port)) => !host.is_empty() && !port.contains(']'),
        None => false,
    };
    if has_port {
        let port = authority.rsplit_once(':').map_or("", |(_, p)| p);
        if port.parse::<u16>().is_err() {
            return Err(bad("the port is not a number from 0 to 65535"));
        }
        Ok(authority.to_owned())
    } else {
        Ok(format!("{authority}:80"))
    }
}

fn read_token(path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::TokenFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(ConfigError::TokenFile {
            path: path.to_owned(),
            reason: "the file is empty".into(),
        });
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn default_socket_matches_fleetd() {
        let fallback = PathBuf::from(format!("/tmp/fleetcache-{}/fleetd.sock", current_uid()));
        assert_eq!(default_socket_path(&env(&[])), fallback);
        assert_eq!(
            default_socket_path(&env(&[("XDG_RUNTIME_DIR", "run")])),
            fallback
        );
        assert_eq!(
            default_socket_path(&env(&[("XDG_RUNTIME_DIR", "/run/user/7")])),
            PathBuf::from("/run/user/7/fleetcache/fleetd.sock")
        );
    }

    #[test]
    fn url_wins_over_socket() {
        let args = ConnectionArgs {
            socket: Some("/s.sock".into()),
            url: Some("http://127.0.0.1:9000/".into()),
            token_file: None,
        };
        let e = Endpoint::from_args(&args, &env(&[])).unwrap();
        assert_eq!(
            e,
            Endpoint::Tcp {
                authority: "127.0.0.1:9000".into(),
                token: None
            }
        );
        assert_eq!(e.ws_url(), "ws://127.0.0.1:9000/v1/ws");
        let args = ConnectionArgs {
            socket: Some("/s.sock".into()),
            ..ConnectionArgs::default()
        };
        assert_eq!(
            Endpoint::from_args(&args, &env(&[])).unwrap(),
            Endpoint::Unix("/s.sock".into())
        );
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(parse_url("http://h").unwrap(), "h:80");
        assert_eq!(parse_url("http://[::1]:7").unwrap(), "[::1]:7");
        assert_eq!(parse_url("http://[::1]").unwrap(), "[::1]:80");
        for bad in [
            "https://h:1",
            "h:1",
            "http://",
            "http://h:1/v1",
            "http://h:x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_file_is_trimmed_and_required() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(read_token(&path).unwrap(), "s3cret");
        std::fs::write(&path, "\n").unwrap();
        assert!(read_token(&path).is_err());
        assert!(read_token(&dir.path().join("none")).is_err());
    }
}

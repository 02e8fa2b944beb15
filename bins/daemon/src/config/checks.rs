//! Checks of single values: each takes the raw value and returns it checked
//! and converted, or a message saying why it is refused. Token and secret
//! files are read here.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::{LogFormat, MAX_HEARTBEAT_MS, MIN_HEARTBEAT_MS};

/// The largest token or secret file read.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// The longest Unix socket path: `sun_path` holds it and its final NUL.
#[cfg(target_os = "linux")]
const MAX_SOCKET_PATH_BYTES: usize = 107;
#[cfg(not(target_os = "linux"))]
const MAX_SOCKET_PATH_BYTES: usize = 103;

pub(super) fn check_computer(name: String) -> Result<String, String> {
    match model::validate_computer_name(&name) {
        Ok(()) => Ok(name),
        Err(model::Error::InvalidField { reason, .. }) => Err(reason),
        Err(e) => Err(e.to_string()),
    }
}

/// Checks the scheme and that there is a host, without ever echoing the URL
/// (it may hold a password).
pub(super) fn check_redis(url: String) -> Result<String, String> {
    let expected = "redis://, rediss://, redis-cluster:// or redis-sentinel:// (rediss-cluster://, rediss-sentinel:// with TLS)";
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("not a URL: expected one starting with {expected}"));
    };
    if !peer_transport_redis::SCHEMES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        let shown = if scheme.len() <= 32
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            format!("scheme {scheme:?}")
        } else {
            "the scheme".to_owned()
        };
        return Err(format!("{shown} is not supported: expected {expected}"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL must not contain whitespace".to_owned());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() {
        return Err("the URL names no host".to_owned());
    }
    Ok(url)
}

pub(super) fn check_namespace(ns: String) -> Result<String, String> {
    if ns.is_empty() {
        Err("must not be empty".to_owned())
    } else if ns.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(format!("{ns:?} must not contain whitespace"))
    } else if ns.contains(['{', '}']) {
        Err(format!(
            "{ns:?} must not contain braces: they would change the Redis Cluster hash tags"
        ))
    } else {
        Ok(ns)
    }
}

/// Makes a path absolute (from the working directory), refusing empty ones.
pub(super) fn absolute(path: PathBuf) -> Result<PathBuf, String> {
    if path.as_os_str().is_empty() {
        return Err("the path must not be empty".to_owned());
    }
    std::path::absolute(&path).map_err(|e| format!("cannot make {} absolute: {e}", path.display()))
}

pub(super) fn check_socket(path: PathBuf) -> Result<PathBuf, String> {
    let path = absolute(path)?;
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH_BYTES {
        return Err(format!(
            "{} is {len} bytes long, over the {MAX_SOCKET_PATH_BYTES}-byte limit of Unix socket paths",
            path.display()
        ));
    }
    Ok(path)
}

pub(super) fn check_dirs(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = Vec::with_capacity(paths.len());
    for path in paths {
        let path = absolute(path)?;
        if !out.contains(&path) {
            out.push(path);
        }
    }
    Ok(out)
}

pub(super) fn parse_http(addr: String) -> Result<SocketAddr, String> {
    if let Ok(parsed) = addr.parse::<SocketAddr>() {
        return Ok(parsed);
    }
    if let Some(port) = addr.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    Err(format!(
        "{addr:?} is not an address and port such as 127.0.0.1:7070 or [::1]:7070"
    ))
}

pub(super) fn parse_heartbeat(ms: String) -> Result<Duration, String> {
    let n: u64 = ms
        .trim()
        .parse()
        .map_err(|_| format!("{ms:?} is not a whole number of milliseconds"))?;
    if n < MIN_HEARTBEAT_MS {
        Err(format!("{n} is below the minimum of {MIN_HEARTBEAT_MS} ms"))
    } else if n > MAX_HEARTBEAT_MS {
        Err(format!("{n} is above the maximum of {MAX_HEARTBEAT_MS} ms"))
    } else {
        Ok(Duration::from_millis(n))
    }
}

pub(super) fn parse_log_format(format: String) -> Result<LogFormat, String> {
    match format.as_str() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!(
            "{format:?} is not a log format: expected text or json"
        )),
    }
}

/// Reads a token or secret file: at most 64 KiB, trimmed, not empty.
fn read_key_file(path: PathBuf) -> Result<(PathBuf, Vec<u8>), String> {
    let path = absolute(path)?;
    let cannot_read = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let file = std::fs::File::open(&path).map_err(cannot_read)?;
    let mut content = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut content)
        .map_err(cannot_read)?;
    if content.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(format!(
            "{} is larger than {} KiB",
            path.display(),
            MAX_KEY_FILE_BYTES / 1024
        ));
    }
    let trimmed = content.trim_ascii().to_vec();
    if trimmed.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok((path, trimmed))
}

pub(super) fn read_token(path: PathBuf) -> Result<String, String> {
    let (path, token) = read_key_file(path)?;
    let printable = format!(
        "the token in {} must be printable ASCII without spaces (it is sent in an HTTP header)",
        path.display()
    );
    if !token.iter().all(u8::is_ascii_graphic) {
        return Err(printable);
    }
    String::from_utf8(token).map_err(|_| printable)
}

pub(super) fn read_secret(path: PathBuf) -> Result<Vec<u8>, String> {
    read_key_file(path).map(|(_, secret)| secret)
}

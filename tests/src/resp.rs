//! A tiny RESP2 client for inspecting Redis from tests (XADD, XLEN, XRANGE, INFO ...).
//!
//! [`encode_command`] and [`parse`] are pure; [`command`] does one exchange on a fresh TCP
//! connection. Deliberately independent of the daemon's Redis client, so tests check the
//! daemon against Redis itself.

use std::fmt;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpStream, ToSocketAddrs};

/// Upper bound for one command exchange.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// A RESP2 reply.
#[derive(Clone, PartialEq, Eq)]
pub enum RespValue {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`
    Error(String),
    /// `:42`
    Integer(i64),
    /// `$3\r\nabc`
    Bulk(Vec<u8>),
    /// `*2\r\n...`
    Array(Vec<RespValue>),
    /// `$-1` or `*-1`
    Nil,
}

impl RespValue {
    /// The text of a simple string or a UTF-8 bulk string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Simple(text) => Some(text),
            Self::Bulk(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    /// The value of an integer reply.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// The items of an array reply.
    pub fn as_array(&self) -> Option<&[RespValue]> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }

    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Self::Error(_))
    }

    /// Whether this is a nil reply.
    pub fn is_nil(&self) -> bool {
        matches!(self, Self::Nil)
    }
}

impl fmt::Debug for RespValue {
    /// Bulk strings are shown as text, so failure messages stay readable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Simple(text) => f.debug_tuple("Simple").field(text).finish(),
            Self::Error(text) => f.debug_tuple("Error").field(text).finish(),
            Self::Integer(n) => f.debug_tuple("Integer").field(n).finish(),
            Self::Bulk(bytes) => f
                .debug_tuple("Bulk")
                .field(&String::from_utf8_lossy(bytes))
                .finish(),
            Self::Array(items) => f.debug_list().entries(items).finish(),
            Self::Nil => f.write_str("Nil"),
        }
    }
}

/// A reply that is not valid RESP2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespError {
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for RespError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid RESP: {}", self.reason)
    }
}

impl std::error::Error for RespError {}

/// A command as a RESP array of bulk strings.
pub fn encode_command<S: AsRef<[u8]>>(args: &[S]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Parses one reply from the start of `buf`: `Ok(None)` when more bytes are needed, else the
/// value and how many bytes it used.
///
/// # Errors
///
/// When the bytes are not RESP2.
pub fn parse(buf: &[u8]) -> Result<Option<(RespValue, usize)>, RespError> {
    let Some(line_end) = find_crlf(buf) else {
        return Ok(None);
    };
    let line = &buf[1..line_end];
    let after_line = line_end + 2;
    let text = || {
        std::str::from_utf8(line)
            .map(str::to_owned)
            .map_err(|_| invalid("a line that is not UTF-8"))
    };
    let number = || {
        text()?
            .parse::<i64>()
            .map_err(|_| invalid("a length or integer that is not a number"))
    };
    match buf.first() {
        Some(b'+') => Ok(Some((RespValue::Simple(text()?), after_line))),
        Some(b'-') => Ok(Some((RespValue::Error(text()?), after_line))),
        Some(b':') => Ok(Some((RespValue::Integer(number()?), after_line))),
        Some(b'$') => {
            let Ok(len) = usize::try_from(number()?) else {
                return Ok(Some((RespValue::Nil, after_line)));
            };
            let end = after_line + len;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(invalid("a bulk string without its CRLF"));
            }
            Ok(Some((
                RespValue::Bulk(buf[after_line..end].to_vec()),
                end + 2,
            )))
        }
        Some(b'*') => {
            let Ok(count) = usize::try_from(number()?) else {
                return Ok(Some((RespValue::Nil, after_line)));
            };
            let mut items = Vec::with_capacity(count.min(1024));
            let mut used = after_line;
            for _ in 0..count {
                match parse(&buf[used..])? {
                    Some((item, n)) => {
                        items.push(item);
                        used += n;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((RespValue::Array(items), used)))
        }
        Some(other) => Err(invalid(&format!(
            "unknown type byte {:?}",
            char::from(*other)
        ))),
        None => Ok(None),
    }
}

/// Sends one command to the Redis at `addr` on a fresh connection and returns its reply
/// (an error reply is a value, not an `Err`).
///
/// # Errors
///
/// When connecting, writing or reading fails, the reply is not RESP, or
/// [`COMMAND_TIMEOUT`] passes.
pub async fn command<A: ToSocketAddrs, S: AsRef<[u8]>>(
    addr: A,
    args: &[S],
) -> io::Result<RespValue> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(&encode_command(args)).await?;
        let mut buf = Vec::new();
        loop {
            if let Some((value, _)) =
                parse(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            {
                return Ok(value);
            }
            if stream.read_buf(&mut buf).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "Redis closed the connection before a full reply",
                ));
            }
        }
    };
    tokio::time::timeout(COMMAND_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no Redis reply within {COMMAND_TIMEOUT:?}"),
            ))
        })
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

fn invalid(reason: &str) -> RespError {
    RespError {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_command() {
        assert_eq!(encode_command(&["PING"]), b"*1\r\n$4\r\nPING\r\n".to_vec());
    }

    #[test]
    fn parses_each_type() {
        let cases: &[(&[u8], RespValue)] = &[
            (b"+PONG\r\n", RespValue::Simple("PONG".into())),
            (b"-ERR no\r\n", RespValue::Error("ERR no".into())),
            (b":-7\r\n", RespValue::Integer(-7)),
            (b"$3\r\na\r\n\r\n", RespValue::Bulk(b"a\r\n".to_vec())),
            (b"$-1\r\n", RespValue::Nil),
            (b"*-1\r\n", RespValue::Nil),
            (
                b"*2\r\n$1\r\nx\r\n*1\r\n:1\r\n",
                RespValue::Array(vec![
                    RespValue::Bulk(b"x".to_vec()),
                    RespValue::Array(vec![RespValue::Integer(1)]),
                ]),
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                parse(bytes).unwrap(),
                Some((expected.clone(), bytes.len())),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn incomplete_input_asks_for_more() {
        for bytes in [&b""[..], b"+PON", b"$5\r\nab", b"*2\r\n:1\r\n"] {
            assert_eq!(parse(bytes).unwrap(), None);
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse(b"?x\r\n").is_err());
        assert!(parse(b":abc\r\n").is_err());
        assert!(parse(b"$1\r\nab\r\n").is_err());
    }
}

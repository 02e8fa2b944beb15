//! [`RedisConfig`]: the plain settings the daemon hands this crate, their
//! checks, and how they become fred's client settings.

use std::fmt;
use std::time::Duration;

use fred::error::ErrorKind;
use fred::types::config::{
    ClusterDiscoveryPolicy, Config as FredConfig, ConnectionConfig, PerformanceConfig,
    ReconnectPolicy, ServerConfig, TlsConnector, UnresponsiveConfig,
};

use crate::error::Error;
use crate::tls::RedisTls;

/// The longest `BLOCK` a read may use (and the default).
pub const MAX_BLOCK: Duration = Duration::from_secs(5);

/// How long the first connection may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default ceiling of the reconnect backoff.
pub const DEFAULT_RECONNECT_MAX_DELAY: Duration = Duration::from_secs(2);

/// The first reconnect delay; it doubles up to `reconnect_max_delay`.
const RECONNECT_MIN_DELAY_MS: u32 = 50;

/// Random delay added to every reconnect wait, so that daemons that lost
/// Redis together do not all come back in the same millisecond.
const RECONNECT_JITTER_MS: u32 = 100;

/// The URL schemes accepted (PROTOCOL.md section 1, plus the TLS variants of
/// cluster and sentinel), lower case.
pub const SCHEMES: [&str; 6] = [
    "redis",
    "rediss",
    "redis-cluster",
    "rediss-cluster",
    "redis-sentinel",
    "rediss-sentinel",
];

/// How to reach Redis and how patient to be with it.
///
/// Build it with [`RedisConfig::new`] and adjust fields; [`connect`](crate::connect)
/// checks it. Its `Debug` output hides the password of the URL.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://`, `rediss://` (TLS), `redis-cluster://` or `redis-sentinel://`
    /// URL, with credentials in it (`redis://user:pass@host:port/db`). Sentinel
    /// URLs need `?sentinelServiceName=NAME`; credentials for the sentinels
    /// themselves go in `sentinelUsername` / `sentinelPassword`.
    pub url: String,
    /// The longest `BLOCK` a blocking read uses; a longer request is
    /// shortened to it. At most 5 s (the default), more than zero.
    pub block: Duration,
    /// How long any command may take before it fails; longer than `block`
    /// so that a blocking read times out on the server first. Default:
    /// `block` + 5 s.
    pub command_timeout: Duration,
    /// The ceiling of the exponential reconnect backoff (with jitter,
    /// unlimited attempts). Default 2 s.
    pub reconnect_max_delay: Duration,
    /// How long [`connect`](crate::connect) and
    /// [`PeerTransport::reader`](model::PeerTransport::reader) wait for a first
    /// connection before giving up. Default 10 s.
    pub connect_timeout: Duration,
    /// CA, client certificate and key files for a TLS URL; none by default
    /// (the system trust store, no client certificate). Refused with a
    /// plain URL.
    pub tls: RedisTls,
}

impl RedisConfig {
    /// The defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            block: MAX_BLOCK,
            command_timeout: MAX_BLOCK + Duration::from_secs(5),
            reconnect_max_delay: DEFAULT_RECONNECT_MAX_DELAY,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            tls: RedisTls::default(),
        }
    }

    /// The URL with its password (if any) replaced by `***`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    /// Checks every setting and translates the URL into fred's settings.
    pub(crate) fn validate(&self) -> Result<FredSettings, Error> {
        if self.block.is_zero() || self.block > MAX_BLOCK {
            return Err(Error::BadConfig {
                field: "block",
                reason: format!("{:?} is not in (0, {MAX_BLOCK:?}]", self.block),
            });
        }
        if self.command_timeout <= self.block {
            return Err(Error::BadConfig {
                field: "command_timeout",
                reason: format!(
                    "{:?} must be longer than block ({:?})",
                    self.command_timeout, self.block
                ),
            });
        }
        if self.reconnect_max_delay < Duration::from_millis(u64::from(RECONNECT_MIN_DELAY_MS)) {
            return Err(Error::BadConfig {
                field: "reconnect_max_delay",
                reason: format!(
                    "{:?} is shorter than the first delay ({RECONNECT_MIN_DELAY_MS} ms)",
                    self.reconnect_max_delay
                ),
            });
        }
        if self.connect_timeout.is_zero() {
            return Err(Error::BadConfig {
                field: "connect_timeout",
                reason: "must be more than zero".into(),
            });
        }
        let config = self.fred_config()?;
        let max_delay_ms = u32::try_from(self.reconnect_max_delay.as_millis()).unwrap_or(u32::MAX);
        // max_attempts 0 = unlimited; base 2 = the delay doubles every attempt.
        let mut policy =
            ReconnectPolicy::new_exponential(0, RECONNECT_MIN_DELAY_MS, max_delay_ms, 2);
        policy.set_jitter(RECONNECT_JITTER_MS);
        let connection = ConnectionConfig {
            connection_timeout: self.connect_timeout,
            internal_command_timeout: self.command_timeout,
            // A non-blocking command unanswered this long means a dead
            // connection (e.g. a peer that vanished without a reset): close
            // it and reconnect. Blocked connections are exempt in fred.
            unresponsive: UnresponsiveConfig {
                max_timeout: Some(self.command_timeout),
                interval: Duration::from_secs(1),
            },
            ..ConnectionConfig::default()
        };
        let performance = PerformanceConfig {
            default_command_timeout: self.command_timeout,
            ..PerformanceConfig::default()
        };
        Ok(FredSettings {
            config,
            performance,
            connection,
            policy,
        })
    }

    fn fred_config(&self) -> Result<FredConfig, Error> {
        let url = self.redacted_url();
        let scheme = self.url.split_once("://").map(|(s, _)| s);
        let scheme = match scheme {
            Some(s) if SCHEMES.contains(&s.to_ascii_lowercase().as_str()) => s.to_ascii_lowercase(),
            _ => {
                return Err(Error::BadUrl {
                    url,
                    reason: "the scheme must be redis://, rediss:// (TLS), redis-cluster:// or redis-sentinel://".into(),
                });
            }
        };
        let mut config = if scheme.starts_with("rediss") {
            ensure_crypto_provider();
            self.tls_config(&url)?
        } else {
            if !self.tls.is_empty() {
                return Err(Error::BadConfig {
                    field: "tls",
                    reason: format!(
                        "TLS files are set but the URL ({scheme}://) does not use TLS: use rediss://, rediss-cluster:// or rediss-sentinel://"
                    ),
                });
            }
            FredConfig::from_url(&self.url).map_err(|e| Error::BadUrl {
                url: url.clone(),
                reason: e.details().to_string(),
            })?
        };
        if config.server.is_clustered() {
            // fred's default only ever asks the URL's nodes for the cluster's
            // layout: with one node in the URL and that node dead, a client
            // would never find the cluster again. `UseCache` also asks every
            // master of the last layout it knew.
            let _ = config
                .server
                .set_cluster_discovery_policy(ClusterDiscoveryPolicy::UseCache);
        }
        Ok(config)
    }

    /// fred's settings for a TLS URL: with our CA or client files, the URL
    /// parsed with the plain scheme and our connector set (fred would build
    /// its own from the system store, and fail where there is none);
    /// without them, fred's own TLS settings.
    fn tls_config(&self, url: &str) -> Result<FredConfig, Error> {
        let Some(own) = self.tls.client_config().map_err(|e| Error::Tls {
            url: url.to_owned(),
            reason: format!("{}: {e}", e.file.field()),
        })?
        else {
            return FredConfig::from_url(&self.url).map_err(|e| match e.kind() {
                ErrorKind::Tls => Error::Tls {
                    url: url.to_owned(),
                    reason: e.details().to_string(),
                },
                _ => Error::BadUrl {
                    url: url.to_owned(),
                    reason: e.details().to_string(),
                },
            });
        };
        // The scheme is one of SCHEMES (ASCII), so byte 6 is a boundary.
        let plain = format!(
            "redis{}",
            self.url.get("rediss".len()..).unwrap_or_default()
        );
        let mut config = FredConfig::from_url(&plain).map_err(|e| Error::BadUrl {
            url: url.to_owned(),
            reason: e.details().to_string(),
        })?;
        config.tls = Some(TlsConnector::from(own).into());
        Ok(config)
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("block", &self.block)
            .field("command_timeout", &self.command_timeout)
            .field("reconnect_max_delay", &self.reconnect_max_delay)
            .field("connect_timeout", &self.connect_timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Everything fred needs to build a client (each reader gets its own).
#[derive(Clone)]
pub(crate) struct FredSettings {
    pub(crate) config: FredConfig,
    pub(crate) performance: PerformanceConfig,
    pub(crate) connection: ConnectionConfig,
    pub(crate) policy: ReconnectPolicy,
}

impl FredSettings {
    /// Behind a TLS URL, the server a plain-text probe may ask whether it
    /// speaks TLS at all (`probe.rs`): the server, or a cluster's first
    /// node. `None` without TLS, and for sentinels (the URL names the
    /// sentinels, not the data server).
    pub(crate) fn probe_target(&self) -> Option<(String, u16)> {
        if !self.config.uses_rustls() {
            return None;
        }
        let server = match &self.config.server {
            ServerConfig::Centralized { server } => server,
            ServerConfig::Clustered { hosts, .. } => hosts.first()?,
            _ => return None,
        };
        Some((server.host.to_string(), server.port))
    }
}

/// rustls needs a process-wide crypto provider when it cannot pick one from
/// its features alone (when some other crate also enables aws-lc-rs, it
/// would panic). Install ring, which fred is built with here, unless the
/// program already chose one.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An error means another thread installed one first: that is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Replaces the password of `scheme://user:password@host...` by `***`
/// (and a lone `scheme://secret@host` too, as Redis takes it for a
/// password). Also hides `sentinelPassword=` query values.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("***@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = redact_query_value(tail, "sentinelPassword=");
    format!("{scheme}://{authority}{tail}")
}

fn redact_query_value(tail: &str, key: &str) -> String {
    let mut out = String::with_capacity(tail.len());
    let mut rest = tail;
    while let Some(pos) = rest.find(key) {
        let (before, after) = rest.split_at(pos + key.len());
        out.push_str(before);
        out.push_str("***");
        let end = after.find(['&', '#']).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounded() {
        let c = RedisConfig::new("redis://127.0.0.1:6379");
        assert_eq!(c.block, Duration::from_secs(5));
        assert_eq!(c.command_timeout, Duration::from_secs(10));
        assert_eq!(c.reconnect_max_delay, Duration::from_secs(2));
        let s = c.validate().expect("defaults are valid");
        assert_eq!(s.performance.default_command_timeout, c.command_timeout);
        assert!(!s.config.server.is_clustered());
    }

    #[test]
    fn out_of_range_settings_are_refused_by_name() {
        let mut c = RedisConfig::new("redis://127.0.0.1");
        c.block = Duration::from_secs(6);
        assert!(matches!(
            c.validate(),
            Err(Error::BadConfig { field: "block", .. })
        ));
        c.block = Duration::ZERO;
        assert!(matches!(
            c.validate(),
            Err(Error::BadConfig { field: "block", .. })
        ));
        c.block = Duration::from_secs(5);
        c.command_timeout = Duration::from_secs(5);
        assert!(matches!(
            c.validate(),
            Err(Error::BadConfig {
                field: "command_timeout",
                ..
            })
        ));
    }

    #[test]
    fn schemes_are_checked() {
        for ok in [
            "redis://h:1",
            "redis://:pw@h:1/2",
            "redis-cluster://h:7000?node=h2:7001",
            "redis-sentinel://h:26379?sentinelServiceName=main",
            "REDIS://h",
        ] {
            assert!(RedisConfig::new(ok).validate().is_ok(), "{ok}");
        }
        let cluster = RedisConfig::new("redis-cluster://h:7000")
            .validate()
            .expect("valid");
        assert!(cluster.config.server.is_clustered());
        assert!(
            matches!(
                &cluster.config.server,
                ServerConfig::Clustered {
                    policy: ClusterDiscoveryPolicy::UseCache,
                    ..
                }
            ),
            "a cluster client looks for every known node, not only the URL's"
        );
        let sentinel = RedisConfig::new("redis-sentinel://h?sentinelServiceName=m")
            .validate()
            .expect("valid");
        assert!(sentinel.config.server.is_sentinel());
        for bad in [
            "http://h:1",
            "h:6379",
            "redis://",
            "redis-sentinel://h:26379",
            "",
            "redis+unix:///tmp/x.sock",
        ] {
            assert!(
                matches!(RedisConfig::new(bad).validate(), Err(Error::BadUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn tls_urls_build_a_rustls_connector() {
        // Needs the system's root certificates; without them the error is a
        // clear `Tls`, never a panic about a missing crypto provider.
        match RedisConfig::new("rediss://:pw@h:6380/1").validate() {
            Ok(s) => assert!(s.config.uses_rustls()),
            Err(Error::Tls { reason, .. }) => eprintln!("no TLS roots here: {reason}"),
            Err(other) => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn tls_files_need_a_tls_url_and_bad_ones_are_tls_errors() {
        let mut c = RedisConfig::new("redis://h:1");
        c.tls.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(matches!(
            c.validate(),
            Err(Error::BadConfig { field: "tls", .. })
        ));
        c.url = "rediss-sentinel://h:1?sentinelServiceName=m".into();
        match c.validate() {
            Err(Error::Tls { reason, .. }) => {
                assert!(reason.starts_with("ca_file: cannot read"), "{reason}")
            }
            other => panic!("unexpected {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("redis://user:s3cret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact_url("rediss://s3cret@host"), "rediss://***@host");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        assert_eq!(
            redact_url("redis-sentinel://h?sentinelServiceName=m&sentinelPassword=s3cret&node=x:1"),
            "redis-sentinel://h?sentinelServiceName=m&sentinelPassword=***&node=x:1"
        );
        let c = RedisConfig::new("redis://:s3cret@h:1");
        assert!(!format!("{c:?}").contains("s3cret"));
        let err = RedisConfig::new("http://:s3cret@h:1")
            .validate()
            .err()
            .expect("refused");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}

//! `/v1/health`'s fleet link: the Redis transport's link state and last
//! failure, as the REST API's [`HealthSource`].

use api_rest::{HealthSource, RedisHealth};
use model::{Link, LinkFailure};
use tokio::sync::watch;

/// `/v1/health`'s `redis` and `redis_error` fields: `disabled` without
/// `--redis`; else `connected`, or, while the link is down, `error` when
/// the last failure needs an operator (TLS, credentials, permissions) and
/// `reconnecting` otherwise, with that failure's message.
pub struct Health(pub Option<LinkWatch>);

/// The transport's link state and its last failure.
pub struct LinkWatch {
    /// Whether the link is up.
    pub link: watch::Receiver<Link>,
    /// Why it last went down.
    pub failure: watch::Receiver<Option<LinkFailure>>,
}

impl HealthSource for Health {
    fn redis_state(&self) -> &'static str {
        self.redis().state
    }

    fn redis(&self) -> RedisHealth {
        let Some(w) = &self.0 else {
            return RedisHealth {
                state: "disabled",
                error: None,
            };
        };
        if w.link.borrow().connected {
            return RedisHealth {
                state: "connected",
                error: None,
            };
        }
        let failure = w.failure.borrow().clone();
        let state = match &failure {
            Some(f) if f.cause.needs_operator() => "error",
            _ => "reconnecting",
        };
        RedisHealth {
            state,
            error: failure.map(|f| f.message()),
        }
    }
}

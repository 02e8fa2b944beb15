//! The refresh port: how an API (`POST /v1/refresh`, the WebSocket
//! `refresh` op) asks the daemon to pull data again from its owners. One
//! trait for both APIs, implemented once by the daemon; both APIs check
//! names before they call it, so it receives only a valid [`RefreshScope`].

use crate::{Error, RefreshRequest, Topic, validate_computer_name};

/// What to pull again: some topics, of one computer or of all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshScope {
    /// The topics to pull (never empty: "all" is [`Topic::ALL`]).
    pub topics: Vec<Topic>,
    /// Only this computer; every computer when `None`.
    pub computer: Option<String>,
}

impl RefreshScope {
    /// Every topic of one computer, or of all when `computer` is `None`;
    /// only `topic` when given (the WebSocket op names one topic at most).
    pub fn new(topic: Option<Topic>, computer: Option<String>) -> Self {
        Self {
            topics: topic.map_or_else(|| Topic::ALL.to_vec(), |t| vec![t]),
            computer,
        }
    }

    /// The scope a `POST /v1/refresh` body names: all topics when it names
    /// none.
    ///
    /// # Errors
    /// [`Error::InvalidField`] for a bad computer name,
    /// [`Error::UnknownTopic`] for a topic that does not exist.
    pub fn from_request(req: RefreshRequest) -> Result<Self, Error> {
        if let Some(c) = &req.computer {
            validate_computer_name(c)?;
        }
        let topics = match req.topics {
            None => Topic::ALL.to_vec(),
            Some(names) => names
                .iter()
                .map(|n| Topic::parse(n))
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            topics,
            computer: req.computer,
        })
    }
}

/// Starts a background re-pull of cached data. The APIs answer at once
/// (REST 202); the data arrives later as change events.
pub trait Refresher: Send + Sync + 'static {
    /// Starts pulling what `scope` names again and returns at once.
    ///
    /// # Errors
    /// [`RefreshError::Unavailable`] when no refresh can start now.
    fn refresh(&self, scope: RefreshScope) -> Result<(), RefreshError>;
}

/// Why a refresh could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// A needed peer or the fleet link is unreachable (REST 503
    /// `unavailable`, WebSocket error frame `unavailable`).
    #[error("refresh unavailable: {reason}")]
    Unavailable {
        /// Why, for the client and the log.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_its_scope() {
        let all = RefreshScope::from_request(RefreshRequest::default()).unwrap();
        assert_eq!(all, RefreshScope::new(None, None));
        assert_eq!(all.topics, Topic::ALL.to_vec());
        let some = RefreshScope::from_request(RefreshRequest {
            computer: Some("beta".into()),
            topics: Some(vec!["sessions".into(), "preparation".into()]),
        })
        .unwrap();
        assert_eq!(some.topics, vec![Topic::Sessions, Topic::Preparation]);
        assert_eq!(some.computer.as_deref(), Some("beta"));
        for bad in [
            RefreshRequest {
                topics: Some(vec!["weather".into()]),
                ..RefreshRequest::default()
            },
            RefreshRequest {
                computer: Some("a b".into()),
                ..RefreshRequest::default()
            },
        ] {
            assert!(RefreshScope::from_request(bad).is_err());
        }
    }
}

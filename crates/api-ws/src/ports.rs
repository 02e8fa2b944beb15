//! [`WsRefresh`]: what the daemon plugs in for the `refresh` op, read by
//! every connection.

use model::Topic;

/// What the `refresh` op asks for: a re-pull of data from its owners.
pub trait WsRefresh: Send + Sync + 'static {
    /// Starts a refresh in the background and returns at once.
    ///
    /// # Errors
    /// A message for the client's error frame when it cannot be started.
    fn refresh(&self, topic: Option<Topic>, computer: Option<String>) -> Result<(), String>;
}

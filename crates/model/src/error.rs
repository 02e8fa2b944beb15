//! Errors of the model: a value from outside that breaks the contract.

/// A value that does not satisfy the contract of `PROTOCOL.md`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A field holds a value the contract does not allow.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The name of the field, as the client spelled it.
        field: &'static str,
        /// Why the value is refused.
        reason: String,
    },
    /// A topic name that is none of `sessions`, `preparation`, `computers`.
    #[error("unknown topic {0:?}: expected sessions, preparation or computers")]
    UnknownTopic(String),
}

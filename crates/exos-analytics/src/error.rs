//! The one error type of the crate, with messages fit for an API client.

use exos_store::StoreError;

/// Everything an analytics call can fail with.
///
/// The server maps `BadParameter` to 400, `NotFound` to 404 and `Store` by its
/// own kind (a timeout to 408, a rejected query to 400, anything else to 500).
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// A request parameter is invalid; the message names the value and the fix.
    #[error("invalid parameter `{name}`: {message}")]
    BadParameter { name: String, message: String },
    /// The requested item (a trace, an error group) does not exist in the store.
    #[error("{0}")]
    NotFound(String),
    /// The store failed or rejected a query.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store returned a result this crate cannot read; a bug, not a user error.
    #[error("unexpected query result: {0}")]
    Result(String),
}

impl AnalyticsError {
    /// Creates a `BadParameter` error for parameter `name`.
    pub fn bad(name: &str, message: impl Into<String>) -> Self {
        Self::BadParameter {
            name: name.to_string(),
            message: message.into(),
        }
    }
}

//! The one error type of this crate, with messages fit for the user.

use exos_analytics::AnalyticsError;
use exos_store::StoreError;

/// Why a process question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A request field has a value that cannot be used; the message names the fix.
    #[error("invalid `{field}`: {message}")]
    BadRequest { field: String, message: String },
    /// The case asked for does not exist in the log.
    #[error("{0}")]
    NotFound(String),
    /// The log would have more events than one request may load.
    #[error("the log has more than {limit} events; narrow the time range or the span selection")]
    TooLarge { limit: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A result row had an unexpected shape.
    #[error("unexpected query result: {0}")]
    Result(String),
}

impl ProcessError {
    /// A bad request naming its field.
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        ProcessError::BadRequest {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<AnalyticsError> for ProcessError {
    fn from(error: AnalyticsError) -> Self {
        match error {
            AnalyticsError::BadParameter { name, message } => ProcessError::bad(name, message),
            AnalyticsError::NotFound(message) => ProcessError::NotFound(message),
            AnalyticsError::Store(store) => ProcessError::Store(store),
            AnalyticsError::Result(message) => ProcessError::Result(message),
        }
    }
}

//! Why an app operation failed.

use crate::runtime::RuntimeError;
use crate::sessions::SessionError;

/// Why an app operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The session (not found, not visible…).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// No such app in this session.
    #[error("no app {0}")]
    NoApp(String),
    /// The session does not run.
    #[error("{0}")]
    Conflict(String),
    /// The app did not start or cannot be served.
    #[error("{0}")]
    Unavailable(String),
    /// An option the server turned off.
    #[error("options this server turned off")]
    Invalid(Vec<berth_shared::FieldError>),
    /// The user already holds as many terminals as allowed.
    #[error("too many terminals at once (at most {0})")]
    Busy(u32),
}

impl From<RuntimeError> for AppError {
    fn from(e: RuntimeError) -> Self {
        AppError::Session(e.into())
    }
}

/// Result of an app operation.
pub type AppResult<T> = Result<T, AppError>;

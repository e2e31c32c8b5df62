//! What sessions run on and within: agents (Docker engines with their
//! capacity), the resource groups projects may use, presets, and resource
//! policies. HTTP handlers, the scheduler and session creation call these.

pub mod agents;
pub mod groups;
pub mod policies;
pub mod presets;

use berth_shared::FieldError;

use crate::accounts::AccountError;
use crate::store::StoreError;

/// Why an operation on these resources failed.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// Input broke a rule.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// No such thing (or not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Not allowed for this caller.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Not possible as things are.
    #[error("{0}")]
    Conflict(String),
    /// Looking up an account failed.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Result of an operation on these resources.
pub type ResourceResult<T> = Result<T, ResourceError>;

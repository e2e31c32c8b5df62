//! Operations on sessions. HTTP handlers and the scheduler call these; they
//! coordinate the store, scheduler wake-ups, the runtime and the event bus.
//!
//! - `create`: every check that needs server state, then PENDING rows;
//! - `status`: the only way a status changes (the machine, the reason, the
//!   history entry and the event, together);
//! - `launch`: SCHEDULED → RUNNING, and the watcher of a running session;
//! - `networks`: the bridge network each session runs on, kept for reuse;
//! - `terminate` and `finish`: ending a session, and what every end does;
//! - `reconcile`: making the engine match the database, at start and
//!   whenever the engine comes back (`tasks`: what this process is doing
//!   to which session, so the two never collide);
//! - `read` and `rename`: get, list, usage, logs; rename;
//! - `view`: rows → the API's `SessionInfo`.

mod create;
mod finish;
mod launch;
pub mod networks;
pub mod pages;
mod read;
pub mod reconcile;
mod rename;
pub mod status;
pub mod tasks;
mod terminate;
pub mod view;

use berth_shared::auth::UserInfo;
use berth_shared::sessions::SessionStatus;
use berth_shared::FieldError;

pub use create::{create, dry_run};
pub use launch::launch;
pub use read::{get, list, list_json, log_download, logs, usage, LogDownload};
pub use reconcile::recover;
pub use rename::rename;
pub use status::note_agent;
pub use tasks::{Task, Tasks};
pub use terminate::{reclaim, terminate};

use crate::runtime::RuntimeError;
use crate::services::Services;
use crate::store::{SessionRow, StoreError};

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Input broke a rule.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// No such session (or not the caller's).
    #[error("session not found")]
    NotFound,
    /// Not allowed for this caller.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Not possible in the session's current state.
    #[error("{0}")]
    Conflict(String),
    /// The Docker engine does not answer.
    #[error("{0}")]
    Unavailable(String),
    /// A change the status machine does not allow (a bug, never input).
    #[error("a session cannot go from {from:?} to {to:?}")]
    IllegalTransition {
        /// The status it was expected in.
        from: SessionStatus,
        /// The status asked for.
        to: SessionStatus,
    },
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Engine failure.
    #[error(transparent)]
    Runtime(RuntimeError),
    /// Anything else (a bug).
    #[error("{0}")]
    Internal(String),
}

impl From<RuntimeError> for SessionError {
    fn from(e: RuntimeError) -> Self {
        if e.is_unreachable() {
            SessionError::Unavailable(e.to_string())
        } else {
            SessionError::Runtime(e)
        }
    }
}

/// Result of a session operation.
pub type SessionResult<T> = Result<T, SessionError>;

/// A field error as a session error.
fn invalid(field: &str, code: &str, message: impl Into<String>) -> SessionError {
    SessionError::Invalid(vec![FieldError::new(field, code, message)])
}

/// The session if the caller may see it: its owner, or an admin. Anyone
/// else gets "not found", never "forbidden".
async fn visible(svc: &Services, caller: &UserInfo, id: &str) -> SessionResult<SessionRow> {
    match svc.store().session(id).await? {
        Some(row) if row.owner_id == caller.id || caller.role.is_admin() => Ok(row),
        _ => Err(SessionError::NotFound),
    }
}

/// The id of a session named by id, or by the name of one of the
/// caller's live sessions (where the reference's API takes either).
pub async fn id_of(svc: &Services, caller: &UserInfo, id_or_name: &str) -> SessionResult<String> {
    if let Ok(row) = visible(svc, caller, id_or_name).await {
        return Ok(row.id);
    }
    svc.store()
        .live_session_named(&caller.id, id_or_name, None)
        .await?
        .ok_or(SessionError::NotFound)
}

/// The session row if the caller may see it (owner or admin), for the
/// operations on a session that live outside this module (its apps).
pub async fn visible_row(svc: &Services, caller: &UserInfo, id: &str) -> SessionResult<SessionRow> {
    visible(svc, caller, id).await
}

/// A session's status as the operations act on it: a corrupt value (only
/// possible by editing the database) counts as ERROR, which can still be
/// terminated, and is logged.
fn status_of(row: &SessionRow) -> SessionStatus {
    row.status().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "treating a session with an unknown status as ERROR");
        SessionStatus::Error
    })
}

/// The engine a kernel's container is on: its agent's (set when the
/// session is placed).
pub fn engine_of(
    svc: &Services,
    s: &SessionRow,
    k: &crate::store::KernelRow,
) -> std::sync::Arc<crate::runtime::Runtime> {
    svc.runtime_of(k.agent.as_deref().or(s.agent.as_deref()))
}

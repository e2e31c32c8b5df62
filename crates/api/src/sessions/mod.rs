//! Operations on sessions: the one place that knows the status machine.
//! HTTP handlers call these; they coordinate the store, the scheduler
//! wake-ups, the runtime and the event bus.

mod create;
mod lifecycle;
pub mod view;

use berth_shared::auth::{Role, UserInfo};
use berth_shared::bytes::ByteSize;
use berth_shared::sessions::{
    KernelUsage, SessionEvent, SessionInfo, SessionList, SessionLogs, SessionQuery, SessionStatus,
    SessionUsage,
};
use berth_shared::FieldError;

pub use create::create;
pub use lifecycle::{launch, recover, terminate};

use crate::accounts::ms_to_time;
use crate::runtime::RuntimeError;
use crate::services::Services;
use crate::store::{now_ms, SessionFilter, SessionRow, StoreError, Transition};

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
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Engine failure.
    #[error(transparent)]
    Runtime(RuntimeError),
}

impl From<RuntimeError> for SessionError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::Unreachable { .. } => SessionError::Unavailable(e.to_string()),
            other => SessionError::Runtime(other),
        }
    }
}

/// Result of a session operation.
pub type SessionResult<T> = Result<T, SessionError>;

/// Statuses of live sessions (the Running tab).
pub const LIVE: [&str; 5] = [
    "PENDING",
    "SCHEDULED",
    "PREPARING",
    "RUNNING",
    "TERMINATING",
];
/// Statuses of finished sessions (the Finished tab).
pub const FINISHED: [&str; 3] = ["TERMINATED", "CANCELLED", "ERROR"];

/// The session if the caller may see it: its owner, or an admin. Anyone
/// else gets "not found", never "forbidden".
async fn visible(svc: &Services, caller: &UserInfo, id: &str) -> SessionResult<SessionRow> {
    match svc.store().session(id).await? {
        Some(row) if row.owner_id == caller.id || caller.role.is_admin() => Ok(row),
        _ => Err(SessionError::NotFound),
    }
}

/// Applies a transition and publishes it; false when the session was not in
/// any of `t.from` (someone else moved it first).
pub(crate) async fn transition(
    svc: &Services,
    row: &SessionRow,
    t: Transition<'_>,
) -> SessionResult<bool> {
    let now = now_ms();
    if !svc.store().transition(&row.id, &t, now).await? {
        return Ok(false);
    }
    let status = SessionStatus::parse(t.to).unwrap_or(SessionStatus::Error);
    svc.events().publish(event(
        row,
        status,
        t.info,
        t.data.as_deref().and_then(|d| serde_json::from_str(d).ok()),
        now,
    ));
    Ok(true)
}

/// The event that tells the owner and the launcher of `row` its new status.
pub fn event(
    row: &SessionRow,
    status: SessionStatus,
    info: Option<&str>,
    data: Option<serde_json::Value>,
    at_ms: i64,
) -> SessionEvent {
    SessionEvent {
        session_id: row.id.clone(),
        name: row.name.clone(),
        owner_id: row.owner_id.clone(),
        creator_id: row.created_by.clone(),
        status,
        status_info: info.map(str::to_string),
        status_data: data,
        at: ms_to_time(at_ms),
    }
}

/// One session.
pub async fn get(svc: &Services, caller: &UserInfo, id: &str) -> SessionResult<SessionInfo> {
    let row = visible(svc, caller, id).await?;
    Ok(view::one(svc.store(), row).await?)
}

/// A page of sessions: the caller's own; superadmins see everyone's and
/// admins may name an owner.
pub async fn list(
    svc: &Services,
    caller: &UserInfo,
    q: &SessionQuery,
) -> SessionResult<SessionList> {
    let owner_id = match q.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        Some(email) if email.eq_ignore_ascii_case(&caller.email) => Some(caller.id.clone()),
        Some(email) => {
            if !caller.role.is_admin() {
                return Err(SessionError::Forbidden(
                    "Only admins can list other users' sessions.",
                ));
            }
            match svc.store().user_by_email(&email.to_lowercase()).await? {
                Some(u) => Some(u.id),
                None => {
                    return Err(SessionError::Invalid(vec![FieldError::new(
                        "owner",
                        "unknown_user",
                        format!("There is no user {email}."),
                    )]))
                }
            }
        }
        None if caller.role == Role::Superadmin && q.all != Some(false) => None,
        None => Some(caller.id.clone()),
    };
    let statuses: Vec<&'static str> = match q.status.as_deref() {
        None | Some("") | Some("all") => vec![],
        Some("running") | Some("live") => LIVE.to_vec(),
        Some("finished") => FINISHED.to_vec(),
        Some(s) => match SessionStatus::parse(&s.to_uppercase()) {
            Some(st) => vec![st.as_str()],
            None => {
                return Err(SessionError::Invalid(vec![FieldError::new(
                    "status",
                    "invalid",
                    "Use running, finished, or a status name.",
                )]))
            }
        },
    };
    if let Some(t) = q.session_type.as_deref() {
        if berth_shared::sessions::SessionType::parse(t).is_none() {
            return Err(SessionError::Invalid(vec![FieldError::new(
                "type",
                "invalid",
                "Use interactive or batch.",
            )]));
        }
    }
    let page = q.page.unwrap_or(1).max(1);
    let page_size = q.page_size.unwrap_or(20).clamp(1, 100);
    let filter = SessionFilter {
        owner_id,
        statuses,
        session_type: q.session_type.clone(),
        limit: i64::from(page_size),
        offset: i64::from(page - 1) * i64::from(page_size),
    };
    let (rows, total) = svc.store().list_sessions(&filter).await?;
    Ok(SessionList {
        items: view::infos(svc.store(), rows).await?,
        total: total.max(0) as u64,
        page,
        page_size,
    })
}

/// Renames a live session (same rule as at creation, unique among the
/// owner's live sessions).
pub async fn rename(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    name: &str,
) -> SessionResult<SessionInfo> {
    let row = visible(svc, caller, id).await?;
    if row.terminated_at.is_some() {
        return Err(SessionError::Conflict(
            "Only a live session can be renamed.".into(),
        ));
    }
    let taken = || {
        SessionError::Invalid(vec![FieldError::new(
            "name",
            "taken",
            "You already have a live session with this name.",
        )])
    };
    if row.name != name
        && svc
            .store()
            .live_name_taken(&row.owner_id, name, Some(id))
            .await?
    {
        return Err(taken());
    }
    match svc.store().rename_session(id, name).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(SessionError::Conflict(
                "Only a live session can be renamed.".into(),
            ))
        }
        Err(StoreError::Conflict) => return Err(taken()),
        Err(e) => return Err(e.into()),
    }
    get(svc, caller, id).await
}

/// Live use of the session's running kernels (none once it has ended).
pub async fn usage(svc: &Services, caller: &UserInfo, id: &str) -> SessionResult<SessionUsage> {
    let row = visible(svc, caller, id).await?;
    let mut kernels = Vec::new();
    for k in svc.store().kernels_of(&row.id).await? {
        let Some(cid) = &k.container_id else { continue };
        match svc.runtime().usage(cid).await {
            Ok(u) => kernels.push(KernelUsage {
                kernel_id: k.id,
                cpu_percent: u.cpu_percent,
                mem_used: ByteSize(u.mem_used),
                mem_limit: ByteSize(u.mem_limit),
                net_rx: ByteSize(u.net_rx),
                net_tx: ByteSize(u.net_tx),
            }),
            // gone between the read and the call: it has simply ended
            Err(RuntimeError::ContainerNotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(SessionUsage {
        session_id: row.id,
        at: ms_to_time(now_ms()),
        kernels,
    })
}

/// A kernel's container log: live from the engine, or what was kept when
/// the container was removed.
pub async fn logs(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    kernel: Option<&str>,
    tail: Option<u32>,
) -> SessionResult<SessionLogs> {
    let row = visible(svc, caller, id).await?;
    let kernels = svc.store().kernels_of(&row.id).await?;
    let k = match kernel {
        Some(kid) => kernels.into_iter().find(|k| k.id == kid),
        None => kernels.into_iter().find(|k| k.role == "main"),
    }
    .ok_or(SessionError::NotFound)?;
    let live = match &k.container_id {
        Some(cid) => match svc.runtime().logs(cid, tail).await {
            Ok(l) => Some(l),
            Err(RuntimeError::ContainerNotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let logs = live.or_else(|| {
        k.logs.map(|l| match tail {
            Some(n) => {
                let lines: Vec<&str> = l.lines().collect();
                let from = lines.len().saturating_sub(n as usize);
                let mut s = lines[from..].join("\n");
                if !s.is_empty() {
                    s.push('\n');
                }
                s
            }
            None => l,
        })
    });
    Ok(SessionLogs {
        kernel: k.id,
        logs: logs.unwrap_or_default(),
    })
}

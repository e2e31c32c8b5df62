//! Reading sessions: one, a page of them, a session's live usage and its
//! container logs.

use berth_shared::auth::{Role, UserInfo};
use berth_shared::bytes::ByteSize;
use berth_shared::sessions::{
    KernelUsage, SessionInfo, SessionList, SessionLogs, SessionQuery, SessionStatus, SessionType,
    SessionUsage, LOG_BYTES_MAX,
};
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};

use super::pages::PageKey;
use super::{invalid, view, visible, SessionError, SessionResult};
use crate::accounts::ms_to_time;
use crate::runtime::{tail_of, RuntimeError};
use crate::services::Services;
use crate::store::{now_ms, KernelRow, SessionFilter, SessionRow, MAIN_ROLE};

/// Sessions per page when the query names none.
const DEFAULT_PAGE_SIZE: u32 = 20;
/// The largest page.
const MAX_PAGE_SIZE: u32 = 100;

/// One session.
pub async fn get(svc: &Services, caller: &UserInfo, id: &str) -> SessionResult<SessionInfo> {
    let row = visible(svc, caller, id).await?;
    let mut reports = crate::idle::reports_now(svc, std::slice::from_ref(&row)).await?;
    let mut info = view::one(svc.store(), row).await?;
    info.idle_checks = reports.remove(&info.id);
    Ok(info)
}

/// Each running session's idle checks, judged as of this read.
async fn with_idle_checks(
    svc: &Services,
    rows: &[SessionRow],
    infos: &mut [SessionInfo],
) -> SessionResult<()> {
    let mut reports = crate::idle::reports_now(svc, rows).await?;
    for i in infos.iter_mut() {
        i.idle_checks = reports.remove(&i.id);
    }
    Ok(())
}

/// The statuses a `status=` query names: `running` (live), `finished`, one
/// status name, or all.
fn statuses_of(query: Option<&str>) -> SessionResult<Vec<SessionStatus>> {
    Ok(match query {
        None | Some("") | Some("all") => vec![],
        Some("running") | Some("live") => SessionStatus::LIVE.to_vec(),
        Some("finished") => SessionStatus::FINISHED.to_vec(),
        Some(s) => match SessionStatus::parse(&s.to_uppercase()) {
            Some(st) => vec![st],
            None => {
                return Err(invalid(
                    "status",
                    "invalid",
                    "Use running, finished, or a status name.",
                ))
            }
        },
    })
}

/// Which sessions a list query asks for: the caller's own; superadmins see
/// everyone's and admins may name an owner. Also the page and its size.
async fn filter_of(
    svc: &Services,
    caller: &UserInfo,
    q: &SessionQuery,
) -> SessionResult<(SessionFilter, u32, u32)> {
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
                    return Err(invalid(
                        "owner",
                        "unknown_user",
                        format!("There is no user {email}."),
                    ))
                }
            }
        }
        None if caller.role == Role::Superadmin && q.all != Some(false) => None,
        None => Some(caller.id.clone()),
    };
    let statuses = statuses_of(q.status.as_deref())?;
    let session_type = match q.session_type.as_deref() {
        None => None,
        Some(t) => Some(
            SessionType::parse(t)
                .ok_or_else(|| invalid("type", "invalid", "Use interactive or batch."))?,
        ),
    };
    let page = q.page.unwrap_or(1).max(1);
    let page_size = q
        .page_size
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let filter = SessionFilter {
        owner_id,
        statuses,
        session_type,
        limit: i64::from(page_size),
        offset: i64::from(page - 1) * i64::from(page_size),
    };
    Ok((filter, page, page_size))
}

async fn read_page(
    svc: &Services,
    filter: &SessionFilter,
    page: u32,
    page_size: u32,
) -> SessionResult<SessionList> {
    let (rows, total) = svc.store().list_sessions(filter).await?;
    let reports_of = rows.clone();
    let mut items = view::infos(svc.store(), rows).await?;
    with_idle_checks(svc, &reports_of, &mut items).await?;
    Ok(SessionList {
        items,
        total: total.max(0) as u64,
        page,
        page_size,
    })
}

/// A page of sessions (see [`filter_of`] for whose), read afresh.
pub async fn list(
    svc: &Services,
    caller: &UserInfo,
    q: &SessionQuery,
) -> SessionResult<SessionList> {
    let (filter, page, page_size) = filter_of(svc, caller, q).await?;
    read_page(svc, &filter, page, page_size).await
}

/// A page of sessions (see [`filter_of`] for whose), as JSON. Pages of ended sessions come from the page cache
/// while no session changed status (see `pages.rs`).
pub async fn list_json(
    svc: &Services,
    caller: &UserInfo,
    q: &SessionQuery,
) -> SessionResult<Bytes> {
    let (filter, page, page_size) = filter_of(svc, caller, q).await?;
    let key = PageKey {
        owner_id: filter.owner_id.clone(),
        statuses: filter.statuses.clone(),
        session_type: filter.session_type,
        limit: filter.limit,
        offset: filter.offset,
    };
    let generation = svc.events().generation();
    if key.cacheable() {
        if let Some(page) = svc.pages().get(&key, generation) {
            return Ok(page);
        }
    }
    let list = read_page(svc, &filter, page, page_size).await?;
    let json =
        Bytes::from(serde_json::to_vec(&list).map_err(|e| SessionError::Internal(e.to_string()))?);
    if key.cacheable() {
        svc.pages().put(key, generation, json.clone());
    }
    Ok(json)
}

/// Live use of the session's running kernels (none once it has ended), as
/// the idle task last sampled it (asked of the engine only before its
/// first round).
pub async fn usage(svc: &Services, caller: &UserInfo, id: &str) -> SessionResult<SessionUsage> {
    let row = visible(svc, caller, id).await?;
    let mut kernels = Vec::new();
    for k in svc.store().kernels_of(&row.id).await? {
        let Some(cid) = &k.container_id else { continue };
        // the idle task samples every running container: watchers share it
        let sampled = match svc.idle().usage(cid) {
            Some(u) => Ok(u),
            None => super::engine_of(svc, &row, &k).usage(cid).await,
        };
        match sampled {
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
    let mut reports = crate::idle::reports_now(svc, std::slice::from_ref(&row)).await?;
    Ok(SessionUsage {
        idle_checks: reports.remove(&row.id),
        session_id: row.id,
        at: ms_to_time(now_ms()),
        kernels,
    })
}

/// A kernel of a session the caller may see (the main one by default).
async fn kernel_of(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    kernel: Option<&str>,
) -> SessionResult<(SessionRow, KernelRow)> {
    let row = visible(svc, caller, id).await?;
    let kernels = svc.store().kernels_of(&row.id).await?;
    let k = match kernel {
        Some(kid) => kernels.into_iter().find(|k| k.id == kid),
        None => kernels.into_iter().find(|k| k.role == MAIN_ROLE),
    }
    .ok_or(SessionError::NotFound)?;
    Ok((row, k))
}

/// The end of a kernel's container log (`lines` lines, at most
/// `LOG_BYTES_MAX` bytes): live from the engine, or what was kept when the
/// container was removed.
pub async fn logs(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    kernel: Option<&str>,
    lines: u32,
) -> SessionResult<SessionLogs> {
    let (row, k) = kernel_of(svc, caller, id, kernel).await?;
    let live = match &k.container_id {
        Some(cid) => match super::engine_of(svc, &row, &k)
            .log_tail(cid, lines, LOG_BYTES_MAX)
            .await
        {
            Ok(l) => Some(l),
            Err(RuntimeError::ContainerNotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let tail = live
        .unwrap_or_else(|| tail_of(k.logs.as_deref().unwrap_or_default(), lines, LOG_BYTES_MAX));
    Ok(SessionLogs {
        kernel: k.id,
        logs: tail.text,
        truncated: tail.truncated,
    })
}

/// A whole log to download: streamed from the engine, or the part kept.
pub enum LogDownload {
    /// The container's output as the engine sends it.
    Live(BoxStream<'static, Result<Bytes, RuntimeError>>),
    /// What was kept when the container was removed.
    Kept(String),
}

/// A kernel's whole log and the file name to save it as.
pub async fn log_download(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    kernel: Option<&str>,
) -> SessionResult<(String, LogDownload)> {
    let (row, k) = kernel_of(svc, caller, id, kernel).await?;
    let file = format!("{}.log", row.name);
    if let Some(cid) = &k.container_id {
        match super::engine_of(svc, &row, &k).log_stream(cid, None).await {
            Ok(s) => return Ok((file, LogDownload::Live(s.boxed()))),
            Err(RuntimeError::ContainerNotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok((file, LogDownload::Kept(k.logs.unwrap_or_default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_queries_name_the_shared_sets() {
        assert_eq!(statuses_of(Some("running")).unwrap(), SessionStatus::LIVE);
        assert_eq!(
            statuses_of(Some("finished")).unwrap(),
            SessionStatus::FINISHED
        );
        assert_eq!(
            statuses_of(Some("pending")).unwrap(),
            [SessionStatus::Pending]
        );
        assert!(statuses_of(None).unwrap().is_empty());
        assert!(statuses_of(Some("soon")).is_err());
    }
}

//! Ending a session on request: PENDING ones are cancelled at once; the
//! others go to TERMINATING and are stopped in the background. The idle
//! rules end RUNNING sessions the same way, with their reason and numbers
//! (`reclaim`).

use berth_shared::auth::UserInfo;
use berth_shared::sessions::{reason, SessionInfo, SessionStatus, StatusData};

use super::finish::finish;
use super::status::{self, Change};
use super::tasks::Task;
use super::{status_of, view, visible, SessionError, SessionResult};
use crate::services::Shared;
use crate::store::SessionRow;

use SessionStatus::{
    Cancelled, Error, Pending, Preparing, Running, Scheduled, Terminated, Terminating,
};

/// Ends a session (`force` kills its containers at once instead of asking
/// them to stop). The session as it is right after.
pub async fn terminate(
    svc: &Shared,
    caller: &UserInfo,
    id: &str,
    force: bool,
) -> SessionResult<SessionInfo> {
    let s = visible(svc, caller, id).await?;
    // a commit in progress: wait for it, or cancel it by force
    if svc.commits().progress(&s.id).is_some() {
        if !force {
            return Err(SessionError::Conflict(
                "The session is being saved as an image. Wait for it to finish, or force-terminate to cancel the commit."
                    .into(),
            ));
        }
        svc.commits().cancel(&s.id);
    }
    let info = if s.owner_id == caller.id {
        reason::USER_REQUESTED
    } else {
        reason::ADMIN_TERMINATED
    };
    match status_of(&s) {
        Terminated | Cancelled => {
            return Err(SessionError::Conflict(
                "The session has already ended.".into(),
            ))
        }
        Pending => {
            let cancel = Change::new(&[Pending], Cancelled).because(info);
            if !status::change(svc, &s, cancel).await? {
                return Box::pin(terminate(svc, caller, id, force)).await;
            }
        }
        Terminating if !force => {}
        Terminating => {
            tokio::spawn(stop_and_finish(
                svc.clone(),
                s.clone(),
                true,
                info.to_string(),
                None,
            ));
        }
        Scheduled | Preparing | Running | Error => {
            let stopping =
                Change::new(&[Scheduled, Preparing, Running, Error], Terminating).because(info);
            if !status::change(svc, &s, stopping).await? {
                return Box::pin(terminate(svc, caller, id, force)).await;
            }
            tokio::spawn(stop_and_finish(
                svc.clone(),
                s.clone(),
                force,
                info.to_string(),
                None,
            ));
        }
    }
    let row = svc
        .store()
        .session(id)
        .await?
        .ok_or(SessionError::NotFound)?;
    Ok(view::one(svc.store(), row).await?)
}

/// Ends a RUNNING session for an idle rule: TERMINATING, then TERMINATED,
/// both with the rule's reason code and the numbers that decided it.
/// False when the session was no longer RUNNING (nothing done).
pub async fn reclaim(
    svc: &Shared,
    s: &SessionRow,
    info: &'static str,
    data: StatusData,
) -> SessionResult<bool> {
    let stopping = Change::new(&[Running], Terminating)
        .because(info)
        .with_data(data.clone());
    if !status::change(svc, s, stopping).await? {
        return Ok(false);
    }
    tokio::spawn(stop_and_finish(
        svc.clone(),
        s.clone(),
        false,
        info.to_string(),
        Some(data),
    ));
    Ok(true)
}

/// Stops (or kills) the containers of a TERMINATING session, then finishes
/// it as TERMINATED with `info` (and `data`, when given).
pub(super) async fn stop_and_finish(
    svc: Shared,
    s: SessionRow,
    force: bool,
    info: String,
    data: Option<StatusData>,
) {
    let Some(_claim) = svc.tasks().claim(Task::Stopping, &s.id) else {
        // another stop runs; a forced one still kills at once
        if force {
            for k in svc.store().kernels_of(&s.id).await.unwrap_or_default() {
                if let Some(cid) = &k.container_id {
                    let _ = super::engine_of(&svc, &s, &k).kill(cid).await;
                }
            }
        }
        return;
    };
    // a cancelled commit is cleaned away before the container goes
    svc.commits().wait_done(&s.id).await;
    let grace = svc.config().stop_grace_secs.min(i32::MAX as u32) as i32;
    for k in svc.store().kernels_of(&s.id).await.unwrap_or_default() {
        if let Some(cid) = &k.container_id {
            let rt = super::engine_of(&svc, &s, &k);
            let stopped = if force {
                rt.kill(cid).await
            } else {
                rt.stop(cid, grace).await
            };
            if let Err(e) = stopped {
                tracing::warn!(container = %cid, error = %e, "stopping failed; killing");
                let _ = rt.kill(cid).await;
            }
        }
    }
    // a launch in flight may record its container late; it removes it itself
    let s = svc.store().session(&s.id).await.ok().flatten().unwrap_or(s);
    let done = Change::new(&[Terminating], Terminated).because(&info);
    let done = match data {
        Some(d) => done.with_data(d),
        None => done,
    };
    finish(&svc, &s, done).await;
}

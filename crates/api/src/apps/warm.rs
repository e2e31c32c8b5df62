//! Early start of a session's main web service (Jupyter), so its first
//! open does not wait for it (`--warm-apps`).

use std::time::Duration;

use berth_shared::sessions::SessionStatus;

use super::error::AppResult;
use super::main_container;
use super::service::{listening, service_env, service_ports, start_command};
use crate::services::{Services, Shared};
use crate::sessions::SessionError;

/// Starts each RUNNING session's main web service (the first HTTP service
/// its image declares: Jupyter in the Python image) as it starts, so the
/// first open finds it listening or nearly: waiting for RUNNING and for
/// the service overlap instead of adding up. It listens to the status
/// events, so no launch path knows about apps. What an unused session pays:
/// the service's start (CPU for a few seconds) and its idle memory
/// (JupyterLab: about 100 MB of the session's own limit).
pub fn spawn_warm_up(svc: Shared) {
    if !svc.config().warm_apps {
        return;
    }
    let mut events = svc.events().subscribe();
    tokio::spawn(async move {
        loop {
            let ev = tokio::select! {
                _ = svc.shutdown().cancelled() => return,
                ev = events.recv() => ev,
            };
            match ev {
                Ok(ev)
                    if ev.status == SessionStatus::Running
                        && ev.warning.is_none()
                        && ev.commit.is_none() =>
                {
                    let svc = svc.clone();
                    // noted at once, so an open that comes first waits for it
                    let decided = svc.apps().warming(&ev.session_id);
                    tokio::spawn(async move {
                        match warm_up(&svc, &ev.session_id).await {
                            Ok(app) => {
                                let _ = decided.send(Some(app));
                            }
                            Err(e) => {
                                let _ = decided.send(Some(None));
                                tracing::debug!(session = %ev.session_id, error = %e, "no warm start");
                            }
                        }
                    });
                }
                Ok(_) => {}
                // missed some: those sessions start their service on open
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// Starts session `id`'s main web service (see [`spawn_warm_up`]); returns
/// the app it started, without waiting for it to listen.
async fn warm_up(svc: &Services, id: &str) -> AppResult<Option<String>> {
    let Some(row) = svc.store().session(id).await.map_err(SessionError::from)? else {
        return Ok(None);
    };
    let Some(main) = service_ports(svc, &row)
        .await?
        .into_iter()
        .find(|p| p.protocol == "http")
    else {
        return Ok(None);
    };
    let Some(cid) = main_container(svc, &row.id).await? else {
        return Ok(None);
    };
    let rt = svc.runtime_of(row.agent.as_deref());
    let upstream = super::upstream_of(svc, row.agent.as_deref(), &rt, &cid, main.port).await?;
    if listening(upstream).await {
        return Ok(Some(main.name));
    }
    let exec_timeout = Duration::from_secs(svc.config().exec_timeout_secs.max(1));
    if let Some(cmd) = start_command(&rt, &cid, &main.name, main.port, exec_timeout).await? {
        rt.exec_detached(&cid, &cmd, &service_env(row.service_secret.as_deref()))
            .await?;
        return Ok(Some(main.name));
    }
    Ok(None)
}

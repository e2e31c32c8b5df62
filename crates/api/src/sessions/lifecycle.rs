//! From SCHEDULED to an end: starting containers, watching them, stopping
//! them, and putting things right after a restart. Every end goes through
//! `finish`: keep the logs, remove the containers, give the capacity back,
//! then record the final status.

use std::collections::HashMap;

use std::time::Duration;

use berth_shared::auth::UserInfo;
use berth_shared::sessions::{SessionInfo, SessionStatus, SessionType};
use serde_json::json;

use super::{transition, view, visible, SessionError, SessionResult};
use crate::runtime::{ContainerSpec, Exit, LABEL_INSTANCE, LABEL_KERNEL, LABEL_SESSION};
use crate::services::{Services, Shared};
use crate::store::{now_ms, KernelRow, SessionRow, Transition};

/// Environment variables that tell numeric libraries how many threads to use.
const THREAD_VARS: [&str; 5] = [
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
];

/// An interactive kernel's main process: sleeps until told to stop (the
/// image's CMD, often a shell, would exit at once without a TTY).
const KEEP_ALIVE: &str = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

fn spec(svc: &Services, s: &SessionRow, k: &KernelRow) -> ContainerSpec {
    let mut env: Vec<String> = serde_json::from_str::<HashMap<String, String>>(&s.env)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for var in THREAD_VARS {
        env.push(format!("{var}={}", s.nthreads));
    }
    env.push(format!("BERTH_SESSION_ID={}", s.id));
    env.push(format!("BERTH_SESSION_NAME={}", s.name));
    let cmd = match (s.session_type.as_str(), &s.startup_command) {
        ("batch", Some(c)) => c.clone(),
        _ => KEEP_ALIVE.to_string(),
    };
    ContainerSpec {
        name: format!("berth-{}", k.id),
        hostname: k.hostname.clone(),
        image: s.image.clone(),
        cmd: vec!["/bin/sh".into(), "-c".into(), cmd],
        env,
        labels: HashMap::from([
            (LABEL_SESSION.to_string(), s.id.clone()),
            (LABEL_KERNEL.to_string(), k.id.clone()),
            (LABEL_INSTANCE.to_string(), svc.instance().to_string()),
        ]),
        cpu: s.cpu,
        mem: s.mem,
        shmem: s.shmem,
    }
}

fn t<'a>(from: &'a [&'static str], to: &'static str, info: Option<&'a str>) -> Transition<'a> {
    Transition {
        from,
        to,
        info,
        finished: matches!(to, "TERMINATED" | "CANCELLED" | "ERROR"),
        started: to == "RUNNING",
        data: None,
    }
}

/// Gives a session's capacity back, exactly once.
async fn release(svc: &Services, s: &SessionRow) {
    if let Some(agent) = &s.agent {
        match svc.store().clear_allocation(&s.id).await {
            Ok(true) => {
                if let Err(e) = svc.store().give_back_capacity(agent, s.cpu, s.mem).await {
                    tracing::error!(session = %s.id, error = %e, "could not give capacity back");
                }
                svc.wake_scheduler();
            }
            Ok(false) => {}
            Err(e) => tracing::error!(session = %s.id, error = %e, "could not release allocation"),
        }
    }
}

/// Keeps the logs, removes the containers, releases, records the end.
async fn finish(
    svc: &Services,
    s: &SessionRow,
    from: &[&'static str],
    to: &'static str,
    info: &str,
    data: Option<String>,
) {
    let kernels = svc.store().kernels_of(&s.id).await.unwrap_or_default();
    for k in &kernels {
        if let Some(cid) = &k.container_id {
            let logs = svc.runtime().logs_to_keep(cid).await;
            let code = match svc.runtime().state(cid).await {
                Ok(Some((false, code))) => code,
                _ => None,
            };
            if let Err(e) = svc
                .store()
                .set_kernel_exit(&k.id, code, logs.as_deref())
                .await
            {
                tracing::warn!(kernel = %k.id, error = %e, "could not keep logs");
            }
            if let Err(e) = svc.runtime().remove(cid).await {
                tracing::warn!(container = %cid, error = %e, "could not remove container");
            }
        }
    }
    release(svc, s).await;
    let mut tr = t(from, to, Some(info));
    tr.data = data;
    if let Err(e) = transition(svc, s, tr).await {
        tracing::error!(session = %s.id, error = %e, "could not record the end of a session");
    }
}

/// SCHEDULED → PREPARING → RUNNING: creates and starts the container, then
/// watches it. Called by the scheduler loop once capacity is held.
pub async fn launch(svc: Shared, session_id: String) {
    let Ok(Some(s)) = svc.store().session(&session_id).await else {
        return;
    };
    if !matches!(
        transition(&svc, &s, t(&["SCHEDULED"], "PREPARING", Some("preparing"))).await,
        Ok(true)
    ) {
        return;
    }
    let kernels = svc.store().kernels_of(&s.id).await.unwrap_or_default();
    let Some(k) = kernels.into_iter().next() else {
        finish(
            &svc,
            &s,
            &["PREPARING"],
            "ERROR",
            "failed-to-start",
            Some(json!({"error": "the session has no kernel"}).to_string()),
        )
        .await;
        return;
    };
    match svc.runtime().run_container(&spec(&svc, &s, &k)).await {
        Ok(cid) => {
            if let Err(e) = svc.store().set_kernel_container(&k.id, &cid).await {
                tracing::error!(error = %e, "could not record a container");
            }
            match transition(&svc, &s, t(&["PREPARING"], "RUNNING", None)).await {
                Ok(true) => {
                    let timeout = s
                        .batch_timeout
                        .map(|t| Duration::from_secs(t.max(0) as u64));
                    tokio::spawn(watch(svc.clone(), s, cid, timeout));
                }
                // terminated while starting: whoever ended it cleans up; make sure the container goes
                _ => {
                    let _ = svc.runtime().remove(&cid).await;
                }
            }
        }
        Err(e) => {
            tracing::warn!(session = %s.id, error = %e, "session failed to start");
            let data = json!({"error": {"src": "agent", "repr": e.to_string()}}).to_string();
            finish(
                &svc,
                &s,
                &["PREPARING"],
                "ERROR",
                "failed-to-start",
                Some(data),
            )
            .await;
        }
    }
}

/// Waits for the main container to exit (or the batch time limit), then
/// ends the session with the reason.
async fn watch(svc: Shared, s: SessionRow, cid: String, timeout: Option<Duration>) {
    let batch = s.session_type == SessionType::Batch.as_str();
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let exit = loop {
        let waited = async {
            match deadline {
                Some(d) => tokio::time::timeout_at(d, svc.runtime().wait(&cid))
                    .await
                    .ok(),
                None => Some(svc.runtime().wait(&cid).await),
            }
        };
        let outcome = tokio::select! {
            _ = svc.shutdown().cancelled() => return,
            o = waited => o,
        };
        match outcome {
            None => break None, // time limit
            // `docker rm -f` also ends a wait, with the kill's exit code: tell the two apart
            Some(Ok(Exit::Code(code))) => match svc.runtime().state(&cid).await {
                Ok(None) => break Some(Exit::Vanished),
                _ => break Some(Exit::Code(code)),
            },
            Some(Ok(exit)) => break Some(exit),
            Some(Err(e)) => {
                tracing::warn!(container = %cid, error = %e, "waiting on a container failed; retrying");
                tokio::select! {
                    _ = svc.shutdown().cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
        }
    };
    match exit {
        None => {
            let secs = timeout.map(|t| t.as_secs()).unwrap_or(0);
            if matches!(
                transition(
                    &svc,
                    &s,
                    t(&["RUNNING"], "TERMINATING", Some("batch-timeout"))
                )
                .await,
                Ok(true)
            ) {
                let _ = svc.runtime().kill(&cid).await;
                let data = json!({"batch_timeout": secs}).to_string();
                finish(
                    &svc,
                    &s,
                    &["TERMINATING"],
                    "TERMINATED",
                    "batch-timeout",
                    Some(data),
                )
                .await;
            }
        }
        Some(Exit::Vanished) => {
            let data = json!({"error": {"src": "agent", "repr": "the container was removed outside berth"}}).to_string();
            finish(
                &svc,
                &s,
                &["RUNNING"],
                "ERROR",
                "container-lost",
                Some(data),
            )
            .await;
        }
        Some(Exit::Code(code)) => {
            let (to, info) = match (batch, code) {
                (true, 0) => ("TERMINATED", "self-terminated"),
                (true, _) => ("TERMINATED", "failed"),
                (false, 0) => ("TERMINATED", "self-terminated"),
                (false, _) => ("ERROR", "container-exited"),
            };
            // Claim the end first, so a concurrent terminate does not also finish it.
            if matches!(
                transition(&svc, &s, t(&["RUNNING"], "TERMINATING", Some(info))).await,
                Ok(true)
            ) {
                let kernels = svc.store().kernels_of(&s.id).await.unwrap_or_default();
                for k in kernels
                    .iter()
                    .filter(|k| k.container_id.as_deref() == Some(cid.as_str()))
                {
                    let _ = svc.store().set_kernel_exit(&k.id, Some(code), None).await;
                }
                let data = json!({"exit_code": code}).to_string();
                finish(&svc, &s, &["TERMINATING"], to, info, Some(data)).await;
            }
        }
    }
}

/// Ends a session: PENDING ones are cancelled at once; the others go to
/// TERMINATING and are stopped in the background (`force` kills at once).
pub async fn terminate(
    svc: &Shared,
    caller: &UserInfo,
    id: &str,
    force: bool,
) -> SessionResult<SessionInfo> {
    let s = visible(svc, caller, id).await?;
    let info = if s.owner_id == caller.id {
        "user-requested"
    } else {
        "admin-terminated"
    };
    let status = SessionStatus::parse(&s.status).unwrap_or(SessionStatus::Error);
    match status {
        SessionStatus::Terminated | SessionStatus::Cancelled => {
            return Err(SessionError::Conflict(
                "The session has already ended.".into(),
            ))
        }
        SessionStatus::Pending => {
            if !transition(svc, &s, t(&["PENDING"], "CANCELLED", Some(info))).await? {
                return Box::pin(terminate(svc, caller, id, force)).await;
            }
        }
        SessionStatus::Terminating if !force => {}
        SessionStatus::Terminating => {
            tokio::spawn(stop_and_finish(
                svc.clone(),
                s.clone(),
                true,
                info.to_string(),
            ));
        }
        _ => {
            let from = ["SCHEDULED", "PREPARING", "RUNNING", "ERROR"];
            if !transition(svc, &s, t(&from, "TERMINATING", Some(info))).await? {
                return Box::pin(terminate(svc, caller, id, force)).await;
            }
            tokio::spawn(stop_and_finish(
                svc.clone(),
                s.clone(),
                force,
                info.to_string(),
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

async fn stop_and_finish(svc: Shared, s: SessionRow, force: bool, info: String) {
    let grace = svc.config().stop_grace_secs.min(i32::MAX as u32) as i32;
    for k in svc.store().kernels_of(&s.id).await.unwrap_or_default() {
        if let Some(cid) = &k.container_id {
            let stopped = if force {
                svc.runtime().kill(cid).await
            } else {
                svc.runtime().stop(cid, grace).await
            };
            if let Err(e) = stopped {
                tracing::warn!(container = %cid, error = %e, "stopping failed; killing");
                let _ = svc.runtime().kill(cid).await;
            }
        }
    }
    // a launch in flight may record its container late; it removes it itself
    let s = svc.store().session(&s.id).await.ok().flatten().unwrap_or(s);
    finish(&svc, &s, &["TERMINATING"], "TERMINATED", &info, None).await;
}

/// After a (re)start: makes the database and the engine agree. Nothing is
/// left in a state that never changes.
pub async fn recover(svc: &Shared) -> SessionResult<()> {
    let store = svc.store();
    store.recompute_agent_usage().await?;
    let containers = match svc.runtime().our_containers(svc.instance()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "engine not reachable; recovery of containers skipped");
            return Ok(());
        }
    };
    let live = store
        .sessions_in(&["SCHEDULED", "PREPARING", "RUNNING", "TERMINATING"])
        .await?;
    let mut known = std::collections::HashSet::new();
    for s in live {
        let kernels = store.kernels_of(&s.id).await?;
        known.extend(kernels.iter().map(|k| k.id.clone()));
        match s.status.as_str() {
            "RUNNING" => {
                let cid = kernels.iter().find_map(|k| k.container_id.clone());
                let exists = match &cid {
                    Some(c) => svc.runtime().state(c).await.ok().flatten().is_some(),
                    None => false,
                };
                match (cid, exists) {
                    (Some(cid), true) => {
                        let timeout = s.batch_timeout.map(|t| {
                            let started = s.started_at.unwrap_or(s.created_at);
                            let left = (started + t * 1000 - now_ms()).max(0) as u64;
                            Duration::from_millis(left)
                        });
                        tracing::info!(session = %s.id, "re-attached to a running session");
                        tokio::spawn(watch(svc.clone(), s, cid, timeout));
                    }
                    _ => {
                        let data = json!({"error": {"src": "agent", "repr": "the container vanished while the server was down"}});
                        finish(
                            svc,
                            &s,
                            &["RUNNING"],
                            "ERROR",
                            "container-lost",
                            Some(data.to_string()),
                        )
                        .await;
                    }
                }
            }
            "SCHEDULED" | "PREPARING" => {
                let data = json!({"error": {"src": "other", "repr": "the server restarted while the session was starting"}});
                finish(
                    svc,
                    &s,
                    &["SCHEDULED", "PREPARING"],
                    "ERROR",
                    "failed-to-start",
                    Some(data.to_string()),
                )
                .await;
            }
            _ => {
                let info = s
                    .status_info
                    .clone()
                    .unwrap_or_else(|| "user-requested".into());
                tokio::spawn(stop_and_finish(svc.clone(), s, false, info));
            }
        }
    }
    for c in containers {
        if !c.kernel.as_ref().is_some_and(|k| known.contains(k)) {
            tracing::info!(container = %c.id, "removing a container no live session owns");
            let _ = svc.runtime().remove(&c.id).await;
        }
    }
    Ok(())
}

//! What every end of a session does, in this order: keep each container's
//! last output and exit code, remove the containers, give the capacity
//! back, close its apps (their proxy ports return), record the final
//! status, then hand the session's network back (`networks`). Nothing after the removal happens while a container stays.

use super::status::{self, Change};
use crate::services::Services;
use crate::store::{Held, SessionRow};

/// Gives a session's capacity back, exactly once: each kernel's on its
/// agent.
pub(super) async fn release(svc: &Services, s: &SessionRow) {
    let Some(agent) = &s.agent else { return };
    match svc.store().clear_allocation(&s.id).await {
        Ok(true) => {
            // it could be placed, so its accelerators were readable then;
            // if not any more, the next start's recount puts them right
            let accelerators = s.accelerators().unwrap_or_else(|e| {
                tracing::error!(error = %e, "giving back CPU and memory only");
                Default::default()
            });
            let kernels = svc.store().kernels_of(&s.id).await.unwrap_or_default();
            let on: Vec<&str> = if kernels.is_empty() {
                vec![agent.as_str()]
            } else {
                kernels
                    .iter()
                    .map(|k| k.agent.as_deref().unwrap_or(agent))
                    .collect()
            };
            if let Err(e) = svc.store().free_devices(&s.id).await {
                tracing::error!(session = %s.id, error = %e, "could not free its devices");
            }
            for (a, held) in Held::per_agent(on, s.cpu, s.mem, &accelerators) {
                if let Err(e) = svc.store().give_back_capacity(&a, held.hold()).await {
                    tracing::error!(session = %s.id, error = %e, "could not give capacity back");
                }
            }
            svc.wake_scheduler();
        }
        Ok(false) => {}
        Err(e) => tracing::error!(session = %s.id, error = %e, "could not release allocation"),
    }
}

/// Keeps the logs, removes the containers, releases, records the end.
/// A container the engine could not remove (it may still run) is never
/// forgotten: the session stays as it is, capacity held, and the
/// reconciler ends it once the engine answers.
pub(super) async fn finish(svc: &Services, s: &SessionRow, end: Change<'_>) {
    let kernels = svc.store().kernels_of(&s.id).await.unwrap_or_default();
    let mut kept = 0;
    let mut networks = Vec::new();
    for k in &kernels {
        if let Some(cid) = &k.container_id {
            let agent = k.agent.as_deref().or(s.agent.as_deref());
            let rt = svc.runtime_of(agent);
            let network = rt.network_of(cid).await.ok().flatten();
            let logs = rt.logs_to_keep(cid).await;
            let code = match rt.state(cid).await {
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
            match rt.remove(cid).await {
                Ok(()) => networks.extend(network.map(|n| (agent.map(str::to_string), n))),
                Err(e) => {
                    tracing::warn!(container = %cid, error = %e, "could not remove container; the session ends when the engine answers");
                    kept += 1;
                }
            }
        }
    }
    if kept > 0 {
        return;
    }
    release(svc, s).await;
    svc.apps().close_session(&s.id);
    if let Err(e) = status::change(svc, s, end).await {
        tracing::error!(session = %s.id, error = %e, "could not record the end of a session");
    }
    // last, off the user's wait: the network goes back for the next launch
    for (agent, n) in networks {
        svc.networks()
            .give_back(svc.engines(), agent.as_deref(), n, &s.id)
            .await;
    }
}

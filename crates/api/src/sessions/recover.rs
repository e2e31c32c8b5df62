//! After a (re)start: makes the database and the engine agree, so nothing
//! is left in a state that never changes. RUNNING sessions whose container
//! runs are watched again, the others end in ERROR `container-lost`;
//! sessions caught starting end in ERROR `failed-to-start`; TERMINATING
//! ones are stopped and finished; containers of this server that no live
//! session owns are removed.

use std::collections::HashSet;
use std::time::Duration;

use berth_shared::sessions::{reason, SessionStatus};

use super::finish::finish;
use super::launch::watch;
use super::status::{error_data, Change};
use super::terminate::stop_and_finish;
use super::{status_of, SessionResult};
use crate::resources;
use crate::services::Shared;
use crate::store::{now_ms, SessionRow};

use SessionStatus::{Error, Preparing, Running, Scheduled};

/// What is left of a batch session's time limit, measured from its start.
fn time_left(s: &SessionRow, now: i64) -> Option<Duration> {
    s.batch_timeout.map(|t| {
        let started = s.started_at.unwrap_or(s.created_at);
        let end = started.saturating_add(t.saturating_mul(1000));
        Duration::from_millis(end.saturating_sub(now).max(0) as u64)
    })
}

/// Puts the database and the engine in agreement (see the module doc).
pub async fn recover(svc: &Shared) -> SessionResult<()> {
    let store = svc.store();
    resources::agents::recount_usage(store).await?;
    let containers = match svc.runtime().our_containers(svc.instance()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "engine not reachable; recovery of containers skipped");
            return Ok(());
        }
    };
    let placed = store.sessions_in(&SessionStatus::HOLDING_CAPACITY).await?;
    let mut known = HashSet::new();
    for s in placed {
        let kernels = store.kernels_of(&s.id).await?;
        known.extend(kernels.iter().map(|k| k.id.clone()));
        match status_of(&s) {
            Running => {
                let cid = kernels.iter().find_map(|k| k.container_id.clone());
                let exists = match &cid {
                    Some(c) => svc.runtime().state(c).await.ok().flatten().is_some(),
                    None => false,
                };
                match (cid, exists) {
                    (Some(cid), true) => {
                        let timeout = time_left(&s, now_ms());
                        tracing::info!(session = %s.id, "re-attached to a running session");
                        tokio::spawn(watch(svc.clone(), s, cid, timeout));
                    }
                    _ => {
                        let end = Change::new(&[Running], Error)
                            .because(reason::CONTAINER_LOST)
                            .with_data(error_data(
                                "agent",
                                "the container vanished while the server was down",
                            ));
                        finish(svc, &s, end).await;
                    }
                }
            }
            Scheduled | Preparing => {
                let end = Change::new(&[Scheduled, Preparing], Error)
                    .because(reason::FAILED_TO_START)
                    .with_data(error_data(
                        "other",
                        "the server restarted while the session was starting",
                    ));
                finish(svc, &s, end).await;
            }
            _ => {
                let info = s
                    .status_info
                    .clone()
                    .unwrap_or_else(|| reason::USER_REQUESTED.into());
                tokio::spawn(stop_and_finish(svc.clone(), s, false, info, None));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_never_overflows_or_goes_negative() {
        let mut s = crate::store::tests_support::session_row();
        s.started_at = Some(1_000);
        s.batch_timeout = Some(10);
        assert_eq!(time_left(&s, 5_000), Some(Duration::from_millis(6_000)));
        assert_eq!(time_left(&s, 50_000), Some(Duration::ZERO));
        s.batch_timeout = Some(i64::MAX);
        assert!(time_left(&s, 5_000).is_some());
        s.batch_timeout = None;
        assert_eq!(time_left(&s, 5_000), None);
    }
}

//! Reconciliation: makes the engine match the database, Kubernetes-style —
//! desired state (the sessions holding capacity) against actual state (the
//! containers labelled with this server's instance), idempotent, run at
//! start, whenever the engine comes back, and every 30 s (`spawn`).
//!
//! Only a successful listing of the engine's containers counts as an
//! answer: a container missing from it is *gone*; an engine that cannot be
//! asked means *cannot tell now*, and nothing changes until it answers.
//!
//! - RUNNING with its container: watched (again); without: ERROR
//!   `container-lost`.
//! - SCHEDULED/PREPARING (a launch cut short by a crash): a container the
//!   launch created — found by its kernel label even if its id was never
//!   recorded — is adopted (started if it was only created); without one,
//!   the session is launched again (nothing ran yet; its network, if made,
//!   is reused).
//! - TERMINATING: stopped and finished.
//! - Any other container of this instance (no live session owns its
//!   kernel) is removed, and so is any network of this instance that no
//!   container of ours was made on and this process does not hold
//!   (`networks`).
//!
//! Sessions under a task of this process (launching, stopping) are left to
//! that task.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use berth_shared::sessions::{reason, SessionStatus, StatusData};

use super::finish::finish;
use super::launch::{failed_to_start, launch, started, watch};
use super::status::Change;
use super::tasks::Task;
use super::terminate::stop_and_finish;
use super::{status_of, SessionResult};
use crate::resources::agents::{self, LOCAL};
use crate::runtime::{OurContainer, Runtime, RuntimeError};
use crate::services::Shared;
use crate::store::{now_ms, SessionRow};

use SessionStatus::{Error, Preparing, Running, Scheduled, Terminating};

/// How often the engine is asked whether it answers.
const PROBE_EVERY: Duration = Duration::from_secs(2);
/// A pass also runs this often while the engine answers, for what a
/// failed engine call left behind (a container that would not go keeps
/// its session TERMINATING until a pass removes it).
const PASS_EVERY: Duration = Duration::from_secs(30);

/// What is left of a batch session's time limit, measured from its start.
fn time_left(s: &SessionRow, now: i64) -> Option<Duration> {
    s.batch_timeout.map(|t| {
        let started = s.started_at.unwrap_or(s.created_at);
        let end = started.saturating_add(t.saturating_mul(1000));
        Duration::from_millis(end.saturating_sub(now).max(0) as u64)
    })
}

/// Why a reconciliation pass could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The engine cannot tell what runs (down, or failing): retry later.
    #[error("the engine cannot tell what runs: {0}")]
    Engine(#[from] RuntimeError),
    /// The database failed.
    #[error(transparent)]
    Session(#[from] super::SessionError),
}

impl From<crate::store::StoreError> for ReconcileError {
    fn from(e: crate::store::StoreError) -> Self {
        ReconcileError::Session(e.into())
    }
}

/// One pass over every agent (see the module doc). An agent whose engine
/// cannot tell is left as it is; the first such error is the answer, after
/// the other agents were reconciled.
pub async fn reconcile(svc: &Shared) -> Result<(), ReconcileError> {
    let mut failed = None;
    for (agent, engine) in svc.engines().all() {
        if let Err(e) = reconcile_agent(svc, &agent, &engine).await {
            tracing::debug!(agent, error = %e, "agent not reconciled");
            failed.get_or_insert(e);
        }
    }
    // free networks beyond what recent demand keeps
    svc.networks().trim(svc.engines()).await;
    failed.map_or(Ok(()), Err)
}

/// One pass over one agent: its engine's containers and networks against
/// the sessions placed on it.
pub async fn reconcile_agent(
    svc: &Shared,
    agent: &str,
    engine: &Runtime,
) -> Result<(), ReconcileError> {
    let store = svc.store();
    let containers = engine.our_containers(svc.instance()).await?;
    let networks = engine.our_networks(svc.instance()).await?;
    let mut by_kernel: HashMap<&str, &OurContainer> = HashMap::new();
    for c in &containers {
        if let Some(k) = &c.kernel {
            by_kernel.insert(k, c);
        }
    }
    let mut owned: HashSet<String> = HashSet::new();
    for s in store.sessions_in(&SessionStatus::HOLDING_CAPACITY).await? {
        // a cluster's kernels may be on other agents than its main one:
        // every live session's containers are owned here
        let kernels = store.kernels_of(&s.id).await?;
        owned.extend(kernels.iter().map(|k| k.id.clone()));
        if s.agent.as_deref().unwrap_or(LOCAL) != agent {
            continue;
        }
        let tasks = svc.tasks();
        if tasks.runs(Task::Launching, &s.id) || tasks.runs(Task::Stopping, &s.id) {
            continue;
        }
        let Some(k) = kernels.first() else { continue };
        let found = by_kernel.get(k.id.as_str()).copied();
        // a container created by a launch that never recorded it
        if let Some(c) = found {
            if k.container_id.as_deref() != Some(c.id.as_str()) {
                tracing::info!(session = %s.id, container = %c.id, "adopting a container its launch never recorded");
                store.set_kernel_container(&k.id, &c.id).await?;
            }
        }
        match (status_of(&s), found) {
            (Running, Some(c)) if !tasks.runs(Task::Watching, &s.id) => {
                tracing::info!(session = %s.id, "watching a running session again");
                let timeout = time_left(&s, now_ms());
                tokio::spawn(watch(svc.clone(), s, c.id.clone(), timeout));
            }
            (Running, Some(_)) => {}
            // its watcher saw it end and records that (a batch container
            // that ran at once is removed before its end is written)
            (Running, None) if tasks.runs(Task::Watching, &s.id) => {}
            (Running, None) => {
                // started after the listing? ask about its own container
                if let Some(cid) = &k.container_id {
                    match engine.state(cid).await {
                        Ok(None) => {}
                        Ok(Some(_)) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                let end = Change::new(&[Running], Error)
                    .because(reason::CONTAINER_LOST)
                    .with_data(StatusData::error(
                        "agent",
                        "its container is gone from the engine",
                    ));
                finish(svc, &s, end).await;
            }
            (Scheduled | Preparing, Some(c)) => adopt(svc, engine, s, k, c).await,
            // nothing was started yet (at most its network made): start it again
            (Scheduled | Preparing, None) => {
                tracing::info!(session = %s.id, "launching a session again after an interrupted start");
                tokio::spawn(launch(svc.clone(), s.id.clone()));
            }
            (Terminating, _) => {
                let info = s
                    .status_info
                    .clone()
                    .unwrap_or_else(|| reason::USER_REQUESTED.into());
                tokio::spawn(stop_and_finish(svc.clone(), s, false, info, None));
            }
            _ => {}
        }
    }
    for c in &containers {
        let live = c.kernel.as_ref().is_some_and(|k| owned.contains(k));
        let launching = c
            .session
            .as_ref()
            .is_some_and(|s| svc.tasks().runs(Task::Launching, s));
        if !live && !launching {
            tracing::info!(container = %c.id, "removing a container no live session owns");
            if let Err(e) = engine.remove(&c.id).await {
                tracing::warn!(container = %c.id, error = %e, "could not remove an orphan container");
            }
        }
    }
    // networks: in use by a container of ours (any state), or held by this process
    let attached: HashSet<&str> = containers
        .iter()
        .filter_map(|c| c.network.as_deref())
        .collect();
    for n in &networks {
        if !attached.contains(n.as_str()) && !svc.networks().is_known(n) {
            tracing::info!(network = %n, "removing a network no session uses");
            if let Err(e) = engine.remove_network(n).await {
                tracing::warn!(network = %n, error = %e, "could not remove an orphan network");
            }
        }
    }
    Ok(())
}

/// A SCHEDULED/PREPARING session whose container exists: make it RUNNING
/// (starting the container first if the launch only created it).
async fn adopt(
    svc: &Shared,
    engine: &Runtime,
    s: SessionRow,
    k: &crate::store::KernelRow,
    c: &OurContainer,
) {
    if status_of(&s) == Scheduled {
        let preparing = Change::new(&[Scheduled], Preparing).because(reason::PREPARING);
        if !matches!(super::status::change(svc, &s, preparing).await, Ok(true)) {
            return;
        }
    }
    let s = match svc.store().session(&s.id).await {
        Ok(Some(row)) => row,
        _ => s,
    };
    if !c.running {
        if let Err(e) = engine.start(&c.id).await {
            let _ = engine.remove(&c.id).await;
            return failed_to_start(svc, &s, "agent", e.to_string()).await;
        }
    }
    tracing::info!(session = %s.id, container = %c.id, "adopted the container of an interrupted launch");
    started(svc, &s, k, c.id.clone()).await;
}

/// At start: recount what agents hold, then one pass; when the engine
/// cannot tell yet, the loop (`spawn`) retries.
pub async fn recover(svc: &Shared) -> SessionResult<bool> {
    crate::resources::agents::recount_usage(svc.store()).await?;
    match reconcile(svc).await {
        Ok(()) => Ok(true),
        Err(ReconcileError::Engine(e)) => {
            tracing::warn!(error = %e, "engine not reachable; reconciling when it answers");
            Ok(false)
        }
        Err(ReconcileError::Session(e)) => Err(e),
    }
}

/// Every [`PROBE_EVERY`], asks each agent's engine whether it answers
/// (`agents::check` records ALIVE/LOST and what it has, and a change is
/// told to the sessions there, `note_agent`), and reconciles an
/// agent whenever it answers after it did not (or after a failed pass),
/// and every [`PASS_EVERY`] besides. Agents are asked side by side, so a
/// silent one (up to the probe's timeout) holds up no other.
pub fn spawn(svc: Shared, reconciled: bool, stop: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        // per agent: a pass is due, and when the last one ran
        let mut due: HashMap<String, bool> = HashMap::new();
        let mut last_pass: HashMap<String, tokio::time::Instant> = HashMap::new();
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(PROBE_EVERY) => {}
            }
            let rows = match svc.store().agents().await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the agents");
                    continue;
                }
            };
            crate::resources::agents::sync_engines(&svc, &rows);
            let engines = svc.engines().all();
            let answers = futures_util::future::join_all(engines.iter().map(|(id, engine)| {
                let row = rows.iter().find(|r| &r.id == id);
                let svc = &svc;
                async move {
                    let Some(row) = row else { return false };
                    let probe = agents::check(svc, row, engine).await;
                    if let Some(lost_at) = probe.changed {
                        super::note_agent(svc, id, lost_at).await;
                    }
                    probe.answered
                }
            }))
            .await;
            for ((agent, engine), up) in engines.iter().zip(answers) {
                let due = due.entry(agent.clone()).or_insert(!reconciled);
                if !up {
                    *due = true;
                    continue;
                }
                let last = last_pass
                    .entry(agent.clone())
                    .or_insert_with(tokio::time::Instant::now);
                if *due || last.elapsed() >= PASS_EVERY {
                    *last = tokio::time::Instant::now();
                    match reconcile_agent(&svc, agent, engine).await {
                        Ok(()) if *due => {
                            tracing::info!(agent, "the engine answers; state reconciled");
                            *due = false;
                        }
                        Ok(()) => {}
                        Err(e) => {
                            *due = true;
                            tracing::warn!(agent, error = %e, "reconciling failed; retrying");
                        }
                    }
                }
            }
        }
    });
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

//! The scheduler loop: feeds the pure decision core (`core`) with a snapshot
//! from the store, takes capacity for its placements with guarded updates,
//! and has the status machine record why the others wait. Wakes on new
//! sessions and freed capacity, and on a periodic tick (for start times and
//! engines coming back).

pub mod core;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use berth_shared::resources::AgentStatus;
use berth_shared::sessions::{reason, SessionStatus};
use serde_json::json;

use self::core::{Agent, Decision, Failed, Keypair, Pending, Snapshot};
use crate::resources;
use crate::services::{Services, Shared};
use crate::sessions::status::{self, Change};
use crate::sessions::{self, SessionResult};
use crate::store::{now_ms, AgentRow, Hold, SessionRow};

/// How often agent liveness is re-checked.
const LIVENESS_EVERY: Duration = Duration::from_secs(5);
/// The shortest tick, whatever the configuration says.
const MIN_TICK: Duration = Duration::from_millis(10);

/// Starts the loop; it ends when the server shuts down.
pub fn spawn(svc: Shared) {
    tokio::spawn(async move {
        let tick = Duration::from_millis(svc.config().scheduler_tick_ms).max(MIN_TICK);
        let mut last_liveness = tokio::time::Instant::now() - LIVENESS_EVERY;
        loop {
            if last_liveness.elapsed() >= LIVENESS_EVERY {
                resources::agents::refresh_local(&svc).await;
                last_liveness = tokio::time::Instant::now();
            }
            if let Err(e) = round(&svc).await {
                tracing::error!(error = %e, "scheduler round failed");
            }
            tokio::select! {
                _ = svc.shutdown().cancelled() => return,
                _ = svc.scheduler_woken() => {}
                _ = tokio::time::sleep(tick) => {}
            }
        }
    });
}

/// An agent as the core sees it: what is free.
fn free(a: AgentRow) -> Agent {
    let accel_free: BTreeMap<String, f64> = a
        .accel_total
        .iter()
        .map(|(k, total)| {
            (
                k.clone(),
                total - a.accel_used.get(k).copied().unwrap_or(0.0),
            )
        })
        .collect();
    Agent {
        alive: a.status() == AgentStatus::Alive,
        cpu_free: (a.cpu_total - a.cpu_used).max(0.0),
        mem_free: (a.mem_total - a.mem_used).max(0) as u64,
        accel_free,
        id: a.id,
        resource_group: a.resource_group,
    }
}

/// The reason code of a wait: capacity, or another check.
fn wait_reason(failed: &[Failed]) -> &'static str {
    if failed
        .iter()
        .any(|f| f.name == "capacity" || f.name == "designated_agent")
    {
        reason::NO_AVAILABLE_INSTANCES
    } else {
        reason::PREDICATE_CHECKS_FAILED
    }
}

/// The pending sessions as the core sees them. One whose stored
/// accelerators are unreadable cannot be placed as asked: it ends in ERROR
/// with the reason instead of waiting forever.
async fn pending(svc: &Services, rows: &[SessionRow]) -> SessionResult<Vec<Pending>> {
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        match s.accelerators() {
            Ok(accelerators) => out.push(Pending {
                id: s.id.clone(),
                resource_group: s.resource_group.clone(),
                access_key: s.access_key.clone(),
                cpu: s.cpu,
                mem: s.mem.max(0) as u64,
                accelerators,
                agent: s.designated_agent.clone(),
                starts_at: s.starts_at,
            }),
            Err(e) => {
                tracing::error!(error = %e, "a pending session cannot be placed");
                let end = Change::new(&[SessionStatus::Pending], SessionStatus::Error)
                    .because(reason::FAILED_TO_START)
                    .with_data(status::error_data("other", e.to_string()));
                status::change(svc, s, end).await?;
            }
        }
    }
    Ok(out)
}

/// One round: snapshot, decide, apply.
async fn round(svc: &Shared) -> SessionResult<()> {
    let store = svc.store();
    let pending_rows = store.sessions_in(&[SessionStatus::Pending]).await?;
    if pending_rows.is_empty() {
        return Ok(());
    }
    let agents: Vec<Agent> = store.agents().await?.into_iter().map(free).collect();
    let mut keypairs: HashMap<String, Keypair> = store
        .keypair_policies()
        .await?
        .into_iter()
        .map(|(ak, p)| {
            let k = Keypair {
                max_sessions: p.max_concurrent_sessions.max(0) as u32,
                max_cpu: p.max_total_cpu,
                max_mem: p.max_total_mem.max(0) as u64,
                ..Default::default()
            };
            (ak, k)
        })
        .collect();
    for u in store.keypair_usage().await? {
        let k = keypairs.entry(u.access_key).or_default();
        k.sessions = u.sessions.max(0) as u32;
        k.cpu = u.cpu;
        k.mem = u.mem.max(0) as u64;
    }
    let snapshot = Snapshot {
        now: now_ms(),
        pending: pending(svc, &pending_rows).await?,
        agents,
        keypairs,
    };
    let decisions = self::core::schedule(&snapshot, svc.config().scheduler_strategy);
    let by_id: HashMap<&str, &SessionRow> =
        pending_rows.iter().map(|s| (s.id.as_str(), s)).collect();
    let asked: HashMap<&str, &Pending> = snapshot
        .pending
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    for d in decisions {
        match d {
            Decision::Place { session, agent } => {
                let (Some(s), Some(p)) = (by_id.get(session.as_str()), asked.get(session.as_str()))
                else {
                    continue;
                };
                let hold = Hold {
                    cpu: s.cpu,
                    mem: s.mem,
                    accelerators: &p.accelerators,
                };
                if !store.take_capacity(&agent, hold).await? {
                    continue; // someone else took it; next round
                }
                if !status::place(svc, s, &agent).await? {
                    store.give_back_capacity(&agent, hold).await?;
                    continue;
                }
                tokio::spawn(sessions::launch(svc.clone(), s.id.clone()));
            }
            Decision::Wait { session, failed } => {
                let Some(s) = by_id.get(session.as_str()) else {
                    continue;
                };
                let data = json!({"scheduler": {"failed_predicates": failed}});
                status::explain_wait(svc, s, wait_reason(&failed), data).await?;
            }
        }
    }
    Ok(())
}

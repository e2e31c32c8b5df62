//! The scheduler loop: feeds the pure decision core (`core`) with a snapshot
//! from the store, applies its placements with guarded allocations, and
//! records why the others wait. Wakes on new sessions and freed capacity,
//! and on a periodic tick (for start times and engines coming back).

pub mod core;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use berth_shared::sessions::SessionStatus;
use serde_json::json;

use self::core::{Agent, Decision, Keypair, Pending, Snapshot};
use crate::services::Shared;
use crate::sessions;
use crate::store::{now_ms, AgentRow, StoreResult};

/// How often agent liveness is re-checked.
const LIVENESS_EVERY: Duration = Duration::from_secs(5);

/// Starts the loop; it ends when the server shuts down.
pub fn spawn(svc: Shared) {
    tokio::spawn(async move {
        let tick = Duration::from_millis(svc.config().scheduler_tick_ms.max(10));
        let mut last_liveness = tokio::time::Instant::now() - LIVENESS_EVERY;
        loop {
            if last_liveness.elapsed() >= LIVENESS_EVERY {
                refresh_agents(&svc).await;
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

/// Registers or refreshes the local agent from the engine: capacity (or
/// the configured override) and ALIVE, or LOST when the engine is down.
pub async fn refresh_agents(svc: &Shared) {
    let cfg = svc.config();
    let (status, cpu, mem) = match svc.runtime().capacity().await {
        Ok((cpu, mem)) => ("ALIVE", cpu, mem),
        Err(_) => ("LOST", 0.0, 0),
    };
    let existing = svc.store().agents().await.unwrap_or_default();
    let prev = existing.iter().find(|a| a.id == "local");
    let row = AgentRow {
        id: "local".into(),
        resource_group: "default".into(),
        docker_host: cfg.docker_host.clone(),
        status: status.into(),
        cpu_total: cfg.agent_cpu.unwrap_or(if status == "ALIVE" {
            cpu
        } else {
            prev.map_or(0.0, |p| p.cpu_total)
        }),
        mem_total: cfg
            .agent_mem
            .map(|m| m.0 as i64)
            .unwrap_or(if status == "ALIVE" {
                mem
            } else {
                prev.map_or(0, |p| p.mem_total)
            }),
        cpu_used: 0.0,
        mem_used: 0,
        accel_total: serde_json::to_string(&cfg.agent_accelerators).unwrap_or_else(|_| "{}".into()),
    };
    let changed = prev.is_none_or(|p| p.status != row.status);
    if let Err(e) = svc.store().upsert_agent(&row).await {
        tracing::error!(error = %e, "could not register the local agent");
    }
    if changed {
        tracing::info!(agent = "local", status, "agent status");
        svc.wake_scheduler();
    }
}

/// Accelerators held per agent by allocated sessions.
pub fn accel_used(rows: &[crate::store::SessionRow]) -> HashMap<String, BTreeMap<String, f64>> {
    let mut out: HashMap<String, BTreeMap<String, f64>> = HashMap::new();
    for s in rows.iter().filter(|s| s.allocated == 1) {
        if let Some(a) = &s.agent {
            let acc: BTreeMap<String, f64> =
                serde_json::from_str(&s.accelerators).unwrap_or_default();
            for (k, v) in acc {
                *out.entry(a.clone()).or_default().entry(k).or_default() += v;
            }
        }
    }
    out
}

/// One round: snapshot, decide, apply.
async fn round(svc: &Shared) -> StoreResult<()> {
    let store = svc.store();
    let pending_rows = store.sessions_in(&["PENDING"]).await?;
    if pending_rows.is_empty() {
        return Ok(());
    }
    let holding = store
        .sessions_in(&["SCHEDULED", "PREPARING", "RUNNING", "TERMINATING"])
        .await?;
    let used_accel = accel_used(&holding);
    let agents: Vec<Agent> = store
        .agents()
        .await?
        .into_iter()
        .map(|a| {
            let total: BTreeMap<String, f64> =
                serde_json::from_str(&a.accel_total).unwrap_or_default();
            let used = used_accel.get(&a.id).cloned().unwrap_or_default();
            Agent {
                alive: a.status == "ALIVE",
                cpu_free: (a.cpu_total - a.cpu_used).max(0.0),
                mem_free: (a.mem_total - a.mem_used).max(0) as u64,
                accel_free: total
                    .into_iter()
                    .map(|(k, v)| (k.clone(), v - used.get(&k).copied().unwrap_or(0.0)))
                    .collect(),
                id: a.id,
                resource_group: a.resource_group,
            }
        })
        .collect();
    let mut keypairs: HashMap<String, Keypair> = store
        .keypair_policies()
        .await?
        .into_iter()
        .map(|(ak, (sessions, cpu, mem, _))| {
            (
                ak,
                Keypair {
                    max_sessions: sessions.max(0) as u32,
                    max_cpu: cpu,
                    max_mem: mem.max(0) as u64,
                    ..Default::default()
                },
            )
        })
        .collect();
    for (ak, n, cpu, mem) in store.keypair_usage().await? {
        let k = keypairs.entry(ak).or_default();
        k.sessions = n.max(0) as u32;
        k.cpu = cpu;
        k.mem = mem.max(0) as u64;
    }
    let snapshot = Snapshot {
        now: now_ms(),
        pending: pending_rows
            .iter()
            .map(|s| Pending {
                id: s.id.clone(),
                resource_group: s.resource_group.clone(),
                access_key: s.access_key.clone(),
                cpu: s.cpu,
                mem: s.mem.max(0) as u64,
                accelerators: serde_json::from_str(&s.accelerators).unwrap_or_default(),
                agent: s.designated_agent.clone(),
                starts_at: s.starts_at,
            })
            .collect(),
        agents,
        keypairs,
    };
    let decisions = self::core::schedule(&snapshot, svc.config().scheduler_strategy);
    let by_id: HashMap<&str, &crate::store::SessionRow> =
        pending_rows.iter().map(|s| (s.id.as_str(), s)).collect();
    for d in decisions {
        match d {
            Decision::Place { session, agent } => {
                let Some(s) = by_id.get(session.as_str()) else {
                    continue;
                };
                if !store.take_capacity(&agent, s.cpu, s.mem).await? {
                    continue; // someone else took it; next round
                }
                if !store.mark_scheduled(&s.id, &agent, now_ms()).await? {
                    store.give_back_capacity(&agent, s.cpu, s.mem).await?;
                    continue;
                }
                publish(svc, s, SessionStatus::Scheduled, Some("scheduled"), None);
                tokio::spawn(sessions::launch(svc.clone(), s.id.clone()));
            }
            Decision::Wait { session, failed } => {
                let Some(s) = by_id.get(session.as_str()) else {
                    continue;
                };
                let info = if failed
                    .iter()
                    .any(|f| f.name == "capacity" || f.name == "designated_agent")
                {
                    "no-available-instances"
                } else {
                    "predicate-checks-failed"
                };
                let value = json!({"scheduler": {"failed_predicates": failed}});
                let data = value.to_string();
                if s.status_data.as_deref() != Some(data.as_str()) {
                    store.set_pending_reason(&s.id, info, &data).await?;
                    publish(svc, s, SessionStatus::Pending, Some(info), Some(value));
                }
            }
        }
    }
    Ok(())
}

fn publish(
    svc: &Shared,
    s: &crate::store::SessionRow,
    status: SessionStatus,
    info: Option<&str>,
    data: Option<serde_json::Value>,
) {
    svc.events()
        .publish(crate::sessions::event(s, status, info, data, now_ms()));
}

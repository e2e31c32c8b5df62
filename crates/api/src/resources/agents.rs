//! Agents: the local engine registered as agent `local`, its liveness, the
//! list users see, and the recount of what sessions hold after a start.

use std::collections::{BTreeSet, HashMap};

use berth_shared::auth::UserInfo;
use berth_shared::bytes::ByteSize;
use berth_shared::resources::{AgentInfo, AgentList, AgentStatus};

use super::{groups, ResourceResult};
use crate::services::Services;
use crate::store::{AgentRow, Held, Store, StoreResult};

/// The agent of the local engine.
pub const LOCAL: &str = "local";
/// The resource group the local agent is in.
pub const DEFAULT_GROUP: &str = "default";

/// Registers or refreshes the local agent from the engine: capacity (or
/// the configured override), declared accelerators, and ALIVE, or LOST
/// when the engine does not answer (keeping the last known capacity).
pub async fn refresh_local(svc: &Services) {
    let cfg = svc.config();
    let probed = svc.runtime().capacity().await.ok();
    let status = if probed.is_some() {
        AgentStatus::Alive
    } else {
        AgentStatus::Lost
    };
    let existing = svc.store().agents().await.unwrap_or_default();
    let prev = existing.iter().find(|a| a.id == LOCAL);
    let (cpu, mem) =
        probed.unwrap_or_else(|| prev.map_or((0.0, 0), |p| (p.cpu_total, p.mem_total)));
    let row = AgentRow {
        id: LOCAL.into(),
        resource_group: DEFAULT_GROUP.into(),
        docker_host: cfg.docker_host.clone(),
        status: status.as_str().into(),
        cpu_total: cfg.agent_cpu.unwrap_or(cpu),
        mem_total: cfg.agent_mem.map_or(mem, |m| m.0 as i64),
        cpu_used: 0.0,
        mem_used: 0,
        accel_total: cfg.agent_accelerators.clone(),
        accel_used: Default::default(),
    };
    let changed = prev.is_none_or(|p| p.status() != status);
    if let Err(e) = svc.store().upsert_agent(&row).await {
        tracing::error!(error = %e, "could not register the local agent");
    }
    if changed {
        tracing::info!(agent = LOCAL, status = status.as_str(), "agent status");
        svc.wake_scheduler();
    }
}

/// An agent as the API shows it.
fn info(a: AgentRow) -> AgentInfo {
    AgentInfo {
        status: a.status(),
        cpu_total: a.cpu_total,
        cpu_used: a.cpu_used,
        mem_total: ByteSize(a.mem_total.max(0) as u64),
        mem_used: ByteSize(a.mem_used.max(0) as u64),
        accelerators_total: a.accel_total,
        accelerators_used: a.accel_used,
        id: a.id,
        resource_group: a.resource_group,
    }
}

/// The agents of the groups the caller's projects may use (admins: all),
/// with capacity and what is held.
pub async fn list(store: &Store, user: &UserInfo) -> ResourceResult<AgentList> {
    let allowed: BTreeSet<String> = groups::of_user(store, user).await?.into_keys().collect();
    let items = store
        .agents()
        .await?
        .into_iter()
        .filter(|a| user.role.is_admin() || allowed.contains(&a.resource_group))
        .map(info)
        .collect();
    Ok(AgentList { items })
}

/// The agents of one resource group.
pub async fn in_group(store: &Store, group: &str) -> StoreResult<Vec<AgentRow>> {
    Ok(store
        .agents()
        .await?
        .into_iter()
        .filter(|a| a.resource_group == group)
        .collect())
}

/// Sets what every agent holds to the sum of the sessions allocated on it
/// (after a crash, the sessions are the truth). A session whose
/// accelerators are unreadable counts with its CPU and memory only.
pub async fn recount_usage(store: &Store) -> StoreResult<()> {
    let mut usage: HashMap<String, Held> = HashMap::new();
    for s in store.allocated_sessions().await? {
        let Some(agent) = &s.agent else { continue };
        let held = usage.entry(agent.clone()).or_default();
        held.cpu += s.cpu;
        held.mem += s.mem;
        match s.accelerators() {
            Ok(acc) => {
                for (slot, v) in acc {
                    *held.accelerators.entry(slot).or_default() += v;
                }
            }
            Err(e) => tracing::error!(error = %e, "its accelerators are not counted"),
        }
    }
    store.set_agent_usage(&usage).await
}

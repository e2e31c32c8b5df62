//! Agents: the local engine registered as agent `local`, the engines
//! admins register (a unix socket or `tcp://` with TLS client
//! certificates), their liveness (`check`: ALIVE with the capacity the
//! engine reports less the reserve, or LOST since a time), drain, removal,
//! the list, and the recount of what sessions hold after a start.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use berth_shared::agents::{RegisterAgent, UpdateAgent};
use berth_shared::auth::UserInfo;
use berth_shared::bytes::ByteSize;
use berth_shared::resources::{AgentInfo, AgentList, AgentStatus};
use berth_shared::FieldError;

use super::{groups, ResourceError, ResourceResult};
use crate::runtime::{Runtime, TLS_FILES};
use crate::services::Services;
use crate::store::{now_ms, AgentChange, AgentRow, Held, Store, StoreResult};

/// The agent of the local engine.
pub use crate::runtime::LOCAL;
/// The resource group the local agent is in at first.
pub const DEFAULT_GROUP: &str = "default";

/// Registers or refreshes the local agent from the engine: capacity (or
/// the configured override), declared accelerators, and ALIVE, or LOST
/// when the engine does not answer (keeping the last known capacity).
/// Admins' settings (group, drain, reserve) stay.
pub async fn refresh_local(svc: &Services) {
    let cfg = svc.config();
    let probed = svc.runtime().capacity().await.ok();
    let existing = svc.store().agents().await.unwrap_or_default();
    let prev = existing.iter().find(|a| a.id == LOCAL);
    let (cpu, mem) = probed.unwrap_or_else(|| {
        prev.map_or((0.0, 0), |p| {
            (p.cpu_total + p.reserve_cpu, p.mem_total + p.reserve_mem)
        })
    });
    let (reserve_cpu, reserve_mem) = prev.map_or((0.0, 0), |p| (p.reserve_cpu, p.reserve_mem));
    let status = if probed.is_some() {
        AgentStatus::Alive
    } else {
        AgentStatus::Lost
    };
    let row = AgentRow {
        id: LOCAL.into(),
        resource_group: DEFAULT_GROUP.into(),
        docker_host: cfg.docker_host.clone(),
        status: status.as_str().into(),
        cpu_total: (cfg.agent_cpu.unwrap_or(cpu) - reserve_cpu).max(0.0),
        mem_total: (cfg.agent_mem.map_or(mem, |m| m.0 as i64) - reserve_mem).max(0),
        cpu_used: 0.0,
        mem_used: 0,
        schedulable: 1,
        tls_cert_dir: cfg
            .docker_cert_dir
            .as_ref()
            .map(|d| d.display().to_string()),
        reserve_cpu,
        reserve_mem,
        lost_at: match (status, prev) {
            (AgentStatus::Lost, Some(p)) => p.lost_at.or(Some(now_ms())),
            (AgentStatus::Lost, None) => Some(now_ms()),
            (AgentStatus::Alive, _) => None,
        },
        accel_total: cfg.agent_accelerators.clone(),
        accel_used: Default::default(),
        // the server's own engine sees the store where the server does
        storage_path: Some(svc.storage().store_root().to_string_lossy().into_owned()),
        port_range: None,
    };
    if let Err(e) = svc.store().upsert_agent(&row).await {
        tracing::error!(error = %e, "could not register the local agent");
    }
    if prev.is_none_or(|p| p.status() != status) {
        tracing::info!(agent = LOCAL, status = status.as_str(), "agent status");
        svc.wake_scheduler();
    }
}

/// The engine of a registered agent row.
pub fn engine_for(row: &AgentRow) -> Runtime {
    match row.tls_cert_dir.as_deref().filter(|d| !d.is_empty()) {
        Some(dir) => Runtime::with_tls(&row.docker_host, dir),
        None => Runtime::new(&row.docker_host),
    }
}

/// At start: an engine for every registered agent but the local one.
pub async fn load_engines(svc: &Services) -> StoreResult<()> {
    for row in svc.store().agents().await? {
        if row.id != LOCAL {
            svc.engines().insert(&row.id, engine_for(&row));
        }
    }
    Ok(())
}

/// Makes this process's engines those of the agents in `rows`: another
/// replica may have registered or removed one.
pub fn sync_engines(svc: &Services, rows: &[AgentRow]) {
    let known: Vec<String> = svc.engines().all().into_iter().map(|(id, _)| id).collect();
    for row in rows {
        if row.id != LOCAL && !known.contains(&row.id) {
            svc.engines().insert(&row.id, engine_for(row));
        }
    }
    for id in known {
        if id != LOCAL && !rows.iter().any(|r| r.id == id) {
            svc.engines().remove(&id);
        }
    }
}

/// Asks one agent's engine whether it answers and what it has, and records
/// what changed: ALIVE with its capacity (less the reserve; the local
/// agent's configured override first), or LOST since now (keeping the
/// capacity). On a change of status, the scheduler wakes; telling the
/// live sessions on the agent is the caller's (the reconciler's), so this
/// module never calls back into `sessions`.
pub async fn check(svc: &Services, row: &AgentRow, engine: &Runtime) -> Probe {
    let probed = engine.capacity().await.ok();
    let cfg = svc.config();
    let local = row.id == LOCAL;
    let (status, cpu, mem, lost_at) = match probed {
        Some((cpu, mem)) => {
            let cpu = if local {
                cfg.agent_cpu.unwrap_or(cpu)
            } else {
                cpu
            };
            let mem = match (local, cfg.agent_mem) {
                (true, Some(m)) => m.0 as i64,
                _ => mem,
            };
            (
                AgentStatus::Alive,
                (cpu - row.reserve_cpu).max(0.0),
                (mem - row.reserve_mem).max(0),
                None,
            )
        }
        None => (
            AgentStatus::Lost,
            row.cpu_total,
            row.mem_total,
            row.lost_at.or(Some(now_ms())),
        ),
    };
    let was = row.status();
    let same = was == status
        && (row.cpu_total - cpu).abs() < 1e-9
        && row.mem_total == mem
        && row.lost_at == lost_at;
    if !same {
        if let Err(e) = svc
            .store()
            .set_agent_state(&row.id, status, cpu, mem, lost_at)
            .await
        {
            tracing::error!(agent = %row.id, error = %e, "could not record an agent's state");
            return Probe {
                answered: probed.is_some(),
                changed: None,
            };
        }
    }
    if was != status {
        tracing::info!(agent = %row.id, status = status.as_str(), "agent status");
        svc.wake_scheduler();
    }
    Probe {
        answered: probed.is_some(),
        changed: (was != status).then_some(lost_at),
    }
}

/// What one probe of an agent found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// The engine answered.
    pub answered: bool,
    /// The agent's status changed (and was recorded): since when it is
    /// lost (epoch ms), or `None` when it is alive again.
    pub changed: Option<Option<i64>>,
}

/// `POST /agents` (admin): registers an engine as an agent. Its engine
/// must answer now (what it reports is its capacity, less the reserve).
pub async fn register(svc: &Services, req: &RegisterAgent) -> ResourceResult<AgentInfo> {
    req.validate().map_err(ResourceError::Invalid)?;
    let invalid = |field: &str, code: &str, msg: String| {
        ResourceError::Invalid(vec![FieldError::new(field, code, msg)])
    };
    group_exists(svc.store(), &req.resource_group).await?;
    let tls = req.tls_cert_dir.as_deref().filter(|d| !d.is_empty());
    if let Some(dir) = tls {
        let missing: Vec<&str> = TLS_FILES
            .into_iter()
            .filter(|f| !Path::new(dir).join(f).is_file())
            .collect();
        if !missing.is_empty() {
            return Err(invalid(
                "tls_cert_dir",
                "missing_files",
                format!("{dir} has no {} on the server.", missing.join(", ")),
            ));
        }
    }
    if tls.is_none()
        && !berth_shared::agents::is_local_engine(&req.docker_host)
        && !svc.config().allow_insecure_engines
    {
        return Err(invalid(
            "docker_host",
            "insecure_engine",
            "A tcp:// engine off this host needs TLS client certificates (tls_cert_dir): \
             without them anyone who reaches its port owns it. The server's \
             --allow-insecure-engines accepts it anyway."
                .into(),
        ));
    }
    let engine = match tls {
        Some(dir) => Runtime::with_tls(&req.docker_host, dir),
        None => Runtime::new(&req.docker_host),
    };
    let (cpu, mem) = engine.capacity().await.map_err(|e| {
        // the engine's own words stay in the log: they can tell an admin's
        // browser what lives at addresses the server reaches
        tracing::info!(host = %req.docker_host, error = %e, "an agent to register does not answer");
        invalid(
            "docker_host",
            "unreachable",
            "No Docker engine answers there (the server's log says why).".into(),
        )
    })?;
    let reserve_mem = req.reserve_mem.0.min(i64::MAX as u64) as i64;
    let row = AgentRow {
        id: req.id.clone(),
        resource_group: req.resource_group.clone(),
        docker_host: req.docker_host.clone(),
        status: AgentStatus::Alive.as_str().into(),
        cpu_total: (cpu - req.reserve_cpu).max(0.0),
        mem_total: (mem - reserve_mem).max(0),
        cpu_used: 0.0,
        mem_used: 0,
        schedulable: 1,
        tls_cert_dir: tls.map(str::to_string),
        reserve_cpu: req.reserve_cpu,
        reserve_mem,
        lost_at: None,
        accel_total: req.accelerators.clone(),
        accel_used: Default::default(),
        storage_path: req.storage_path.clone().filter(|p| !p.is_empty()),
        port_range: req.port_range.clone().filter(|r| !r.is_empty()),
    };
    if req.id == LOCAL || !svc.store().insert_agent(&row).await? {
        return Err(ResourceError::Conflict(format!(
            "An agent named {} is already registered.",
            req.id
        )));
    }
    svc.engines().insert(&row.id, engine);
    tracing::info!(agent = %row.id, host = %row.docker_host, "agent registered");
    svc.wake_scheduler();
    one(svc.store(), &req.id).await
}

/// `PATCH /agents/{id}` (admin): group, drain, accelerators, reserve,
/// storage path.
pub async fn update(svc: &Services, id: &str, req: &UpdateAgent) -> ResourceResult<AgentInfo> {
    req.validate().map_err(ResourceError::Invalid)?;
    one(svc.store(), id).await?;
    if let Some(g) = &req.resource_group {
        group_exists(svc.store(), g).await?;
    }
    let change = AgentChange {
        resource_group: req.resource_group.clone(),
        schedulable: req.schedulable,
        accelerators: req.accelerators.clone(),
        reserve_cpu: req.reserve_cpu,
        reserve_mem: req.reserve_mem.map(|m| m.0.min(i64::MAX as u64) as i64),
        storage_path: req
            .storage_path
            .as_ref()
            .map(|p| Some(p.clone()).filter(|p| !p.is_empty())),
        port_range: req
            .port_range
            .as_ref()
            .map(|r| Some(r.clone()).filter(|r| !r.is_empty())),
    };
    if !svc.store().update_agent(id, &change).await? {
        return Err(ResourceError::Conflict(format!(
            "Sessions run on {id}; it changes group only when none does (drain it first)."
        )));
    }
    svc.wake_scheduler();
    one(svc.store(), id).await
}

/// `DELETE /agents/{id}` (admin): only when no session holds it; the
/// local agent is the server's own engine and stays.
pub async fn remove(svc: &Services, id: &str) -> ResourceResult<()> {
    one(svc.store(), id).await?;
    if id == LOCAL {
        return Err(ResourceError::Conflict(
            "The local agent is the server's own engine; drain it instead.".into(),
        ));
    }
    if !svc.store().delete_agent(id).await? {
        return Err(ResourceError::Conflict(format!(
            "Sessions still run on {id}; drain it and wait for them to end."
        )));
    }
    svc.engines().remove(id);
    tracing::info!(agent = %id, "agent removed");
    Ok(())
}

async fn group_exists(store: &Store, name: &str) -> ResourceResult<()> {
    if store.resource_groups().await?.iter().any(|g| g.0 == name) {
        Ok(())
    } else {
        Err(ResourceError::Invalid(vec![FieldError::new(
            "resource_group",
            "not_found",
            format!("There is no resource group {name}."),
        )]))
    }
}

/// One agent as admins see it.
async fn one(store: &Store, id: &str) -> ResourceResult<AgentInfo> {
    store
        .agents()
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| info(a, true))
        .ok_or(ResourceError::NotFound("agent"))
}

/// An agent as the API shows it (its engine's address to admins only).
fn info(a: AgentRow, admin: bool) -> AgentInfo {
    AgentInfo {
        status: a.status(),
        schedulable: a.schedulable != 0,
        reserve_cpu: a.reserve_cpu,
        reserve_mem: ByteSize(a.reserve_mem.max(0) as u64),
        lost_since: a.lost_at.and_then(chrono::DateTime::from_timestamp_millis),
        docker_host: admin.then(|| a.docker_host.clone()),
        sees_storage: a.storage_path.is_some(),
        storage_path: a.storage_path.clone().filter(|_| admin),
        port_range: a.port_range.clone().filter(|_| admin),
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
        .map(|a| info(a, user.role.is_admin()))
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
    let sessions = store.allocated_sessions().await?;
    let ids: Vec<String> = sessions.iter().map(|s| s.id.clone()).collect();
    let mut kernels: HashMap<String, Vec<Option<String>>> = HashMap::new();
    for k in store.kernels_of_many(&ids).await? {
        kernels.entry(k.session_id).or_default().push(k.agent);
    }
    for s in sessions {
        let Some(agent) = &s.agent else { continue };
        let acc = s.accelerators().unwrap_or_else(|e| {
            tracing::error!(error = %e, "its accelerators are not counted");
            Default::default()
        });
        // each kernel on its agent (the session's when not recorded)
        let on: Vec<&str> = match kernels.get(&s.id) {
            Some(ks) if !ks.is_empty() => {
                ks.iter().map(|k| k.as_deref().unwrap_or(agent)).collect()
            }
            _ => vec![agent.as_str()],
        };
        for (a, h) in Held::per_agent(on, s.cpu, s.mem, &acc) {
            let held = usage.entry(a).or_default();
            held.cpu += h.cpu;
            held.mem += h.mem;
            for (slot, v) in h.accelerators {
                *held.accelerators.entry(slot).or_default() += v;
            }
        }
    }
    store.set_agent_usage(&usage).await
}

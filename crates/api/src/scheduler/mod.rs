//! The scheduler loop: feeds the pure decision core (`core`) with a snapshot
//! from the store, takes capacity for its placements with guarded updates,
//! and has the status machine record why the others wait. Wakes on new
//! sessions and freed capacity, and on a periodic tick (for start times and
//! engines coming back).

pub mod core;
mod fit;
mod index;
mod snapshot;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use berth_shared::resources::AgentStatus;
use berth_shared::sessions::{reason, ClusterMode, SchedulerWait, SessionStatus, StatusData};

use self::core::{Agent, Decision, Failed, Keypair, Pending, Snapshot};
use crate::resources;
use crate::services::{Services, Shared};
use crate::sessions::status::{self, Change};
use crate::sessions::{self, SessionResult};
use crate::store::{now_ms, AgentRow, Held, SessionRow};

/// The shortest tick, whatever the configuration says.
const MIN_TICK: Duration = Duration::from_millis(10);

/// Starts the loop; it ends when the server shuts down.
pub fn spawn(svc: Shared, stop: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        let tick = Duration::from_millis(svc.config().scheduler_tick_ms).max(MIN_TICK);
        loop {
            if let Err(e) = round(&svc).await {
                tracing::error!(error = %e, "scheduler round failed");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
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
        schedulable: a.schedulable != 0,
        cpu_free: (a.cpu_total - a.cpu_used).max(0.0),
        mem_free: (a.mem_total - a.mem_used).max(0) as u64,
        accel_free,
        sees_storage: a.storage_path.is_some(),
        id: a.id,
        resource_group: a.resource_group,
    }
}

/// The reason code of a wait: capacity, or another check.
pub fn wait_reason(failed: &[Failed]) -> &'static str {
    if failed
        .iter()
        .any(|f| f.name == "capacity" || f.name == "designated_agent")
    {
        reason::NO_AVAILABLE_INSTANCES
    } else {
        reason::PREDICATE_CHECKS_FAILED
    }
}

/// A waiting session as the core sees it; an error when its stored
/// accelerators are unreadable.
pub fn as_pending(s: &SessionRow) -> Result<Pending, crate::store::json::Corrupt> {
    Ok(Pending {
        id: s.id.clone(),
        resource_group: s.resource_group.clone(),
        access_key: s.access_key.clone(),
        cpu: s.cpu,
        mem: s.mem.max(0) as u64,
        accelerators: s.accelerators()?,
        kernels: s.cluster_size.clamp(1, i64::from(u32::MAX)) as u32,
        multi_node: s.cluster_mode == ClusterMode::MultiNode.as_str(),
        image: s.image.clone(),
        agent: s.designated_agent.clone(),
        starts_at: s.starts_at,
        created_at: s.created_at,
        // (set from its mounts when the snapshot is read)
        needs_storage: false,
    })
}

/// The pending sessions as the core sees them. One whose stored
/// accelerators are unreadable cannot be placed as asked: it ends in ERROR
/// with the reason instead of waiting forever.
async fn pending(svc: &Services, rows: &[SessionRow]) -> SessionResult<Vec<Pending>> {
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        match as_pending(s) {
            Ok(p) => out.push(p),
            Err(e) => {
                tracing::error!(error = %e, "a pending session cannot be placed");
                let end = Change::new(&[SessionStatus::Pending], SessionStatus::Error)
                    .because(reason::FAILED_TO_START)
                    .with_data(StatusData::error("other", e.to_string()));
                status::change(svc, s, end).await?;
            }
        }
    }
    Ok(out)
}

/// What the core decides on besides the waiting sessions: the agents' free
/// capacity and each owner's policy and use, read now.
async fn snapshot(svc: &Services, mut pending: Vec<Pending>) -> SessionResult<Snapshot> {
    let store = svc.store();
    // (a session not stored yet, a dry run's, says so itself)
    let mounting = store.mounting_in(SessionStatus::Pending).await?;
    for p in &mut pending {
        p.needs_storage |= mounting.contains(&p.id);
    }
    let rows = store.agents().await?;
    // an agent another replica registered is placed on with its engine
    crate::resources::agents::sync_engines(svc, &rows);
    let agents: Vec<Agent> = rows.into_iter().map(free).collect();
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
    Ok(Snapshot {
        now: now_ms(),
        agents,
        keypairs,
        aging_ms: (svc
            .config()
            .scheduler_aging_secs
            .min(i64::MAX as u64 / 1000)
            * 1000) as i64,
        strategies: resources::groups::strategies(store).await?,
        missing_images: missing_images(svc, &pending).await,
        pending,
    })
}

/// How long an image's presence on the engines is trusted before they are
/// asked again (rounds run every tick).
const IMAGES_FRESH: Duration = Duration::from_secs(5);

/// The images of `pending` that no engine that answers has. An engine that
/// cannot be asked counts as having them: only a real absence holds a
/// session back.
async fn missing_images(svc: &Services, pending: &[Pending]) -> HashSet<String> {
    let images: HashSet<&str> = pending.iter().map(|p| p.image.as_str()).collect();
    let mut missing = HashSet::new();
    for image in images {
        if let Some(present) = svc.images_seen(image, IMAGES_FRESH) {
            if !present {
                missing.insert(image.to_string());
            }
            continue;
        }
        let mut present = false;
        let mut asked = 0;
        for (_, engine) in svc.engines().all() {
            match engine.inspect_image(image).await {
                Ok(_) => {
                    present = true;
                    break;
                }
                Err(crate::runtime::RuntimeError::ImageNotFound(_)) => asked += 1,
                Err(_) => {}
            }
        }
        let present = present || asked == 0;
        svc.remember_image(image, present);
        if !present {
            missing.insert(image.to_string());
        }
    }
    missing
}

/// What a round would decide now for `extra`, queued after every session
/// that waits (they are newer): the same core on the same state, nothing
/// changed. Sessions whose stored accelerators are unreadable are left out
/// (the next real round ends them).
pub async fn predict(svc: &Services, extra: Vec<Pending>) -> SessionResult<Vec<Decision>> {
    let rows = svc.store().sessions_in(&[SessionStatus::Pending]).await?;
    let mut queue: Vec<Pending> = rows.iter().filter_map(|s| as_pending(s).ok()).collect();
    let asked: std::collections::HashSet<String> = extra.iter().map(|p| p.id.clone()).collect();
    queue.extend(extra);
    let state = snapshot(svc, queue).await?;
    Ok(
        self::core::schedule(&state, svc.config().scheduler_strategy)
            .into_iter()
            .filter(|d| asked.contains(d.session()))
            .collect(),
    )
}

/// `status_data` of a wait: the failed checks, and the session's place in
/// its group's queue.
pub fn wait_data(group: &str, position: u32, failed: &[Failed]) -> StatusData {
    StatusData {
        scheduler: Some(SchedulerWait {
            failed_predicates: failed.to_vec(),
            resource_group: group.to_string(),
            position: Some(position),
        }),
        ..Default::default()
    }
}

/// One round: snapshot, decide, apply.
async fn round(svc: &Shared) -> SessionResult<()> {
    let store = svc.store();
    let pending_rows = store.sessions_in(&[SessionStatus::Pending]).await?;
    if pending_rows.is_empty() {
        return Ok(());
    }
    let snapshot = snapshot(svc, pending(svc, &pending_rows).await?).await?;
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
            Decision::Place {
                session,
                agent,
                kernels,
            } => {
                let (Some(s), Some(p)) = (by_id.get(session.as_str()), asked.get(session.as_str()))
                else {
                    continue;
                };
                // every kernel holds the asked resources where it goes
                let holds = Held::per_agent(
                    kernels.iter().map(String::as_str),
                    s.cpu,
                    s.mem,
                    &p.accelerators,
                );
                if !store.take_capacity_all(&holds).await? {
                    continue; // someone else took it; next round
                }
                if !status::place(svc, s, &agent, &kernels).await? {
                    for (a, h) in &holds {
                        store.give_back_capacity(a, h.hold()).await?;
                    }
                    continue;
                }
                tokio::spawn(sessions::launch(svc.clone(), s.id.clone()));
            }
            Decision::Wait {
                session,
                position,
                failed,
            } => {
                let Some(s) = by_id.get(session.as_str()) else {
                    continue;
                };
                let data = wait_data(&s.resource_group, position, &failed);
                status::explain_wait(svc, s, wait_reason(&failed), data).await?;
            }
        }
    }
    Ok(())
}

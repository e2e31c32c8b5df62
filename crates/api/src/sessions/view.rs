//! Rows → the API's `SessionInfo`.

use std::collections::HashMap;

use berth_shared::bytes::ByteSize;
use berth_shared::sessions::{
    KernelInfo, Mount, Resources, SessionInfo, SessionStatus, StatusChange,
};

use crate::accounts::ms_to_time;
use crate::store::json::OrLogged;
use crate::store::{KernelRow, SessionRow, Store, StoreResult};

/// Builds the API view of many sessions with five extra queries in all
/// (plus one per distinct user and project).
pub async fn infos(store: &Store, rows: Vec<SessionRow>) -> StoreResult<Vec<SessionInfo>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut kernels: HashMap<String, Vec<KernelRow>> = HashMap::new();
    let kernel_rows = store.kernels_of_many(&ids).await?;
    let kernel_ids: Vec<String> = kernel_rows.iter().map(|k| k.id.clone()).collect();
    let mut devices = store.devices_of_many(&kernel_ids).await?;
    for mut k in kernel_rows {
        k.devices = devices.remove(&k.id).unwrap_or_default();
        kernels.entry(k.session_id.clone()).or_default().push(k);
    }
    for ks in kernels.values_mut() {
        ks.sort_by_key(KernelRow::index);
    }
    let mut history: HashMap<String, Vec<StatusChange>> = HashMap::new();
    for h in store.history_of_many(&ids).await? {
        // only the status machine writes history: an unknown entry is left out
        if let Some(status) = SessionStatus::parse(&h.status) {
            history.entry(h.session_id).or_default().push(StatusChange {
                status,
                status_info: h.status_info,
                at: ms_to_time(h.at),
            });
        }
    }
    let mut mounts: HashMap<String, Vec<Mount>> = HashMap::new();
    for m in store.mounts_of_many(&ids).await? {
        mounts.entry(m.session_id).or_default().push(Mount {
            name: m.name,
            read_only: m.read_only != 0,
        });
    }
    let mut emails: HashMap<String, String> = HashMap::new();
    let mut projects: HashMap<String, String> = HashMap::new();
    for r in &rows {
        for uid in [&r.owner_id, &r.created_by] {
            if !emails.contains_key(uid) {
                let email = store
                    .user_by_id(uid)
                    .await?
                    .map(|u| u.email)
                    .unwrap_or_default();
                emails.insert(uid.clone(), email);
            }
        }
        if !projects.contains_key(&r.project_id) {
            let name = store.project_name(&r.project_id).await?.unwrap_or_default();
            projects.insert(r.project_id.clone(), name);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let ks = kernels.remove(&r.id).unwrap_or_default();
            let hs = history.remove(&r.id).unwrap_or_default();
            let owner = emails.get(&r.owner_id).cloned().unwrap_or_default();
            let creator = emails.get(&r.created_by).cloned().unwrap_or_default();
            let project = projects.get(&r.project_id).cloned().unwrap_or_default();
            let ms = mounts.remove(&r.id).unwrap_or_default();
            info(r, ks, hs, ms, owner, creator, project)
        })
        .collect())
}

/// One session's view.
pub async fn one(store: &Store, row: SessionRow) -> StoreResult<SessionInfo> {
    Ok(infos(store, vec![row]).await?.remove(0))
}

/// A kernel's status is the session's at its last change.
fn kernel_status(s: &str) -> SessionStatus {
    SessionStatus::parse(s).unwrap_or(SessionStatus::Error)
}

fn info(
    r: SessionRow,
    kernels: Vec<KernelRow>,
    history: Vec<StatusChange>,
    mounts: Vec<Mount>,
    owner_email: String,
    created_by: String,
    project: String,
) -> SessionInfo {
    // A view shows what can be read; unreadable columns show as defaults
    // (ERROR for a status) and are logged.
    SessionInfo {
        session_type: r.session_type().or_logged_default(),
        status: r.status().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "showing an unknown status as ERROR");
            SessionStatus::Error
        }),
        status_data: r.status_data().or_logged_default(),
        resources: Resources {
            cpu: r.cpu,
            mem: ByteSize(r.mem.max(0) as u64),
            shmem: ByteSize(r.shmem.max(0) as u64),
            accelerators: r.accelerators().or_logged_default(),
        },
        env: r.env().or_logged_default(),
        preopen_ports: r.preopen_ports().or_logged_default(),
        nthreads: r.nthreads.max(1) as u32,
        starts_at: r.starts_at.map(ms_to_time),
        batch_timeout: r.batch_timeout.map(|t| t.max(0) as u64),
        cluster_size: r.cluster_size.max(1) as u32,
        created_at: ms_to_time(r.created_at),
        started_at: r.started_at.map(ms_to_time),
        terminated_at: r.terminated_at.map(ms_to_time),
        kernels: kernels
            .into_iter()
            .map(|k| KernelInfo {
                status: kernel_status(&k.status),
                id: k.id,
                role: k.role,
                hostname: k.hostname,
                container_id: k.container_id,
                agent: k.agent,
                exit_code: k.exit_code,
                devices: k.devices,
            })
            .collect(),
        status_history: history,
        mounts,
        idle_checks: None,
        commit: None,
        id: r.id,
        name: r.name,
        status_info: r.status_info,
        owner_email,
        created_by,
        project,
        resource_group: r.resource_group,
        image: r.image,
        image_name: r.image_name,
        startup_command: r.startup_command,
        agent: r.agent,
        cluster_mode: r.cluster_mode,
    }
}

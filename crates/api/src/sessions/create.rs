//! Creating sessions: every check that needs server state, then PENDING
//! rows and a scheduler wake-up.

use std::collections::BTreeMap;

use berth_shared::auth::UserInfo;
use berth_shared::bytes::ByteSize;
use berth_shared::resources::ResourceBounds;
use berth_shared::sessions::{
    CreateSessionRequest, SessionInfo, SessionStatus, SessionType, DEFAULT_CPU, DEFAULT_MEM,
    DEFAULT_SHMEM,
};
use berth_shared::FieldError;
use rand::distributions::{Alphanumeric, DistString};

use super::{view, SessionError, SessionResult};
use crate::accounts::{self, DEFAULT_PROJECT};
use crate::runtime::RuntimeError;
use crate::services::Services;
use crate::store::{now_ms, KernelRow, SessionRow, StoreError};

fn invalid(field: &str, code: &str, message: impl Into<String>) -> SessionError {
    SessionError::Invalid(vec![FieldError::new(field, code, message)])
}

/// Parses an `ai.backend.resource.min.*` label value.
fn min_label(labels: &std::collections::HashMap<String, String>, key: &str) -> Option<String> {
    labels
        .get(&format!("ai.backend.resource.min.{key}"))
        .cloned()
}

/// Creates `count` sessions (PENDING) and wakes the scheduler.
pub async fn create(
    svc: &Services,
    caller: &UserInfo,
    req: &CreateSessionRequest,
) -> SessionResult<Vec<SessionInfo>> {
    req.validate().map_err(SessionError::Invalid)?;
    let store = svc.store();

    // Whose session it is.
    let owner = match req
        .owner_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(email) => {
            if !caller.role.is_admin() {
                return Err(SessionError::Forbidden(
                    "Only admins can launch sessions for other users.",
                ));
            }
            let found = accounts::user_by_email(store, email)
                .await
                .map_err(|e| match e {
                    accounts::AccountError::Store(s) => SessionError::Store(s),
                    other => SessionError::Conflict(other.to_string()),
                })?;
            match found {
                Some(u) if u.is_active => u,
                _ => {
                    return Err(invalid(
                        "owner_email",
                        "unknown_user",
                        format!("There is no active user {email}."),
                    ))
                }
            }
        }
        None => caller.clone(),
    };

    // Project and resource group, checked against the owner.
    let project = match req
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) if owner.projects.iter().any(|m| m == p) => p.to_string(),
        Some(p) => {
            return Err(invalid(
                "project",
                "not_a_member",
                format!("{} is not in project {p}.", owner.email),
            ))
        }
        None if owner.projects.iter().any(|m| m == DEFAULT_PROJECT) => DEFAULT_PROJECT.to_string(),
        None => owner.projects.first().cloned().ok_or_else(|| {
            invalid(
                "project",
                "required",
                format!("{} is in no project.", owner.email),
            )
        })?,
    };
    let project_id = store.project_id(&project).await?.ok_or_else(|| {
        invalid(
            "project",
            "unknown_project",
            format!("There is no project {project}."),
        )
    })?;
    let groups = store.resource_groups_for_project(&project_id).await?;
    let group = match req
        .resource_group
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        Some(g) if groups.iter().any(|(n, _)| n == g) => g.to_string(),
        Some(g) => {
            return Err(invalid(
                "resource_group",
                "not_allowed",
                format!("Project {project} may not use resource group {g}."),
            ))
        }
        None => groups.first().map(|(n, _)| n.clone()).ok_or_else(|| {
            invalid(
                "resource_group",
                "required",
                format!("Project {project} may use no resource group."),
            )
        })?,
    };

    // Image: a listed environment, or (if allowed) any image on the engine.
    let (image, field) = match (&req.image, &req.environment) {
        (Some(img), _) => (img.trim().to_string(), "image"),
        (None, Some(env)) => {
            let version = req
                .version
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or("latest");
            (format!("{}:{version}", env.trim()), "environment")
        }
        (None, None) => {
            return Err(invalid(
                "environment",
                "required",
                "Choose an environment (or give an image).",
            ))
        }
    };
    let info = match svc.runtime().inspect_image(&image).await {
        Ok(i) => i,
        Err(RuntimeError::ImageNotFound(_)) => {
            return Err(invalid(
                field,
                "image_not_found",
                format!("There is no image {image} on the agents."),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let is_environment = info.labels.contains_key("ai.backend.kernelspec");
    if !is_environment && !svc.config().allow_manual_image {
        return Err(invalid(
            field,
            "not_an_environment",
            format!("{image} is not a listed environment, and manual image names are turned off."),
        ));
    }

    // Resources: defaults, image minimums, agent capacity.
    let min_cpu: f64 = min_label(&info.labels, "cpu")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let min_mem = min_label(&info.labels, "mem")
        .and_then(|v| ByteSize::parse(&v))
        .unwrap_or_default();
    let cpu = req.resources.cpu.unwrap_or(DEFAULT_CPU.max(min_cpu));
    let mem = req.resources.mem.unwrap_or(DEFAULT_MEM.max(min_mem));
    let shmem = req.resources.shmem.unwrap_or(DEFAULT_SHMEM.min(mem));
    let mut errors = Vec::new();
    if shmem > mem {
        errors.push(FieldError::new(
            "resources.shmem",
            "shmem_exceeds_mem",
            format!("Shared memory ({shmem}) cannot be more than memory ({mem})."),
        ));
    }
    let agents: Vec<_> = store
        .agents()
        .await?
        .into_iter()
        .filter(|a| a.resource_group == group)
        .collect();
    // the same judgement the launcher's sliders make
    let mut bounds = ResourceBounds {
        min_cpu,
        min_mem,
        capacity_cpu: Some(agents.iter().map(|a| a.cpu_total).fold(0.0, f64::max)),
        capacity_mem: Some(ByteSize(
            agents.iter().map(|a| a.mem_total).max().unwrap_or(0).max(0) as u64,
        )),
        ..Default::default()
    };
    if let Some(p) = store.policy_of(&owner.access_key).await? {
        bounds = bounds.with_policy(&p.into());
    }
    errors.extend(bounds.check(cpu, mem));
    for (slot, want) in &req.resources.accelerators {
        let most = agents
            .iter()
            .filter_map(|a| serde_json::from_str::<BTreeMap<String, f64>>(&a.accel_total).ok())
            .filter_map(|m| m.get(slot).copied())
            .fold(0.0, f64::max);
        if *want > most + 1e-9 {
            errors.push(FieldError::new(
                format!("resources.accelerators.{slot}"),
                "exceeds_capacity",
                format!("No agent in {group} has {want} {slot} (most: {most})."),
            ));
        }
    }
    if let Some(a) = &req.agent {
        if !agents.iter().any(|x| &x.id == a) {
            errors.push(FieldError::new(
                "agent",
                "unknown_agent",
                format!("There is no agent {a} in {group}."),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(SessionError::Invalid(errors));
    }

    // Names: given (suffixed -1..-N for several) or random; unique among live ones.
    let count = req.count.unwrap_or(1);
    let base = if req.name.is_empty() {
        format!(
            "{}-session",
            Alphanumeric
                .sample_string(&mut rand::thread_rng(), 8)
                .to_lowercase()
        )
    } else {
        req.name.clone()
    };
    let names: Vec<String> = if count == 1 {
        vec![base.clone()]
    } else {
        (1..=count).map(|i| format!("{base}-{i}")).collect()
    };
    for n in &names {
        berth_shared::sessions::session_name(n)
            .map_err(|e| SessionError::Invalid(vec![e.at("name")]))?;
        if store.live_name_taken(&owner.id, n, None).await? {
            return Err(invalid(
                "name",
                "taken",
                format!("{} already has a live session named {n}.", owner.email),
            ));
        }
    }

    let nthreads = req.nthreads.unwrap_or_else(|| (cpu.ceil() as u32).max(1));
    let now = now_ms();
    let env_json = serde_json::to_string(&req.env).unwrap_or_else(|_| "{}".into());
    let accel_json =
        serde_json::to_string(&req.resources.accelerators).unwrap_or_else(|_| "{}".into());
    let rows: Vec<(SessionRow, Vec<KernelRow>)> = names
        .into_iter()
        .map(|name| {
            let id = uuid::Uuid::new_v4().to_string();
            let kernel = KernelRow {
                id: uuid::Uuid::new_v4().to_string(),
                session_id: id.clone(),
                role: "main".into(),
                hostname: "main1".into(),
                agent: None,
                container_id: None,
                status: "PENDING".into(),
                exit_code: None,
                logs: None,
                created_at: now,
            };
            let row = SessionRow {
                id,
                name,
                owner_id: owner.id.clone(),
                created_by: caller.id.clone(),
                project_id: project_id.clone(),
                access_key: owner.access_key.clone(),
                resource_group: group.clone(),
                session_type: req.session_type.as_str().into(),
                image: image.clone(),
                cpu,
                mem: mem.0 as i64,
                shmem: shmem.0 as i64,
                accelerators: accel_json.clone(),
                env: env_json.clone(),
                nthreads: i64::from(nthreads),
                startup_command: match req.session_type {
                    SessionType::Batch => req.startup_command.clone(),
                    SessionType::Interactive => None,
                },
                starts_at: req.starts_at.map(|t| t.timestamp_millis()),
                batch_timeout: req.batch_timeout.map(|t| t.min(i64::MAX as u64) as i64),
                designated_agent: req.agent.clone(),
                agent: None,
                cluster_mode: "single-node".into(),
                cluster_size: 1,
                status: "PENDING".into(),
                status_info: None,
                status_data: None,
                status_changed_at: now,
                created_at: now,
                started_at: None,
                terminated_at: None,
                allocated: 0,
            };
            (row, vec![kernel])
        })
        .collect();
    match store.insert_sessions(&rows).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(invalid(
                "name",
                "taken",
                "A live session already has this name.",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    for (row, _) in &rows {
        svc.events()
            .publish(super::event(row, SessionStatus::Pending, None, None, now));
    }
    svc.wake_scheduler();
    let mut remembered = req.clone();
    remembered.name = base.clone();
    if let Err(e) = crate::history::record(store, &caller.id, &base, &remembered).await {
        tracing::warn!(error = %e, "could not remember the launch in the history");
    }
    Ok(view::infos(store, rows.into_iter().map(|(r, _)| r).collect()).await?)
}

//! Resource groups, presets, policies and agents.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use berth_shared::auth::UserInfo;
use berth_shared::bytes::ByteSize;
use berth_shared::resources::{
    AgentInfo, AgentList, PolicyQuery, ResourceGroup, ResourceGroupList, ResourcePolicy,
    ResourcePolicyList, ResourcePreset, ResourcePresetList,
};

use super::error::{ApiError, ApiResult};
use super::extract::{AdminUser, AuthUser};
use super::json::ApiJson;
use super::ApiContext;
use crate::accounts;
use crate::store::{PolicyRow, PresetRow, Store};

/// The routes of these resources.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/resource-groups", get(groups))
        .route("/resource-presets", get(presets).post(put_preset))
        .route("/resource-presets/{name}", delete(delete_preset))
        .route("/resource-policies", get(policies).post(put_policy))
        .route("/resource-policies/{name}", delete(delete_policy))
        .route("/resource-policy", get(policy_of_owner))
        .route("/agents", get(agents))
}

/// Names of the resource groups the user's projects may use.
async fn groups_of(store: &Store, user: &UserInfo) -> ApiResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for p in &user.projects {
        if let Some(pid) = store.project_id(p).await? {
            out.extend(store.resource_groups_for_project(&pid).await?);
        }
    }
    Ok(out)
}

/// Query of `GET /resource-groups`.
#[derive(Debug, serde::Deserialize)]
struct GroupsQuery {
    /// Only the groups this project may use (members, or admins choosing
    /// for a session owner).
    project: Option<String>,
}

async fn groups(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Query(q): Query<GroupsQuery>,
) -> ApiResult<ApiJson<ResourceGroupList>> {
    let allowed = match q.project.as_deref().filter(|p| !p.is_empty()) {
        Some(p) if user.role.is_admin() || user.projects.iter().any(|m| m == p) => {
            let pid = ctx
                .store()
                .project_id(p)
                .await?
                .ok_or(ApiError::NotFound("project"))?;
            ctx.store()
                .resource_groups_for_project(&pid)
                .await?
                .into_iter()
                .collect()
        }
        Some(_) => return Err(ApiError::NotFound("project")),
        None => groups_of(ctx.store(), &user).await?,
    };
    let agents = ctx.store().agents().await?;
    let items = allowed
        .into_iter()
        .map(|(name, description)| ResourceGroup {
            agents: agents
                .iter()
                .filter(|a| a.resource_group == name)
                .map(|a| a.id.clone())
                .collect(),
            name,
            description,
        })
        .collect();
    Ok(ApiJson(ResourceGroupList { items }))
}

async fn agents(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<ApiJson<AgentList>> {
    let allowed: BTreeSet<String> = groups_of(ctx.store(), &user).await?.into_keys().collect();
    let holding = ctx
        .store()
        .sessions_in(&["SCHEDULED", "PREPARING", "RUNNING", "TERMINATING"])
        .await?;
    let used_accel = crate::scheduler::accel_used(&holding);
    let items = ctx
        .store()
        .agents()
        .await?
        .into_iter()
        .filter(|a| user.role.is_admin() || allowed.contains(&a.resource_group))
        .map(|a| {
            let used = used_accel.get(&a.id).cloned().unwrap_or_default();
            AgentInfo {
                accelerators_total: serde_json::from_str(&a.accel_total).unwrap_or_default(),
                accelerators_used: used,
                cpu_total: a.cpu_total,
                cpu_used: a.cpu_used,
                mem_total: ByteSize(a.mem_total.max(0) as u64),
                mem_used: ByteSize(a.mem_used.max(0) as u64),
                id: a.id,
                resource_group: a.resource_group,
                status: a.status,
            }
        })
        .collect();
    Ok(ApiJson(AgentList { items }))
}

fn preset(p: PresetRow) -> ResourcePreset {
    ResourcePreset {
        name: p.name,
        cpu: p.cpu,
        mem: ByteSize(p.mem.max(0) as u64),
        shmem: ByteSize(p.shmem.max(0) as u64),
        accelerators: serde_json::from_str(&p.accelerators).unwrap_or_default(),
    }
}

async fn presets(
    State(ctx): State<ApiContext>,
    AuthUser(_): AuthUser,
) -> ApiResult<ApiJson<ResourcePresetList>> {
    let items = ctx
        .store()
        .presets()
        .await?
        .into_iter()
        .map(preset)
        .collect();
    Ok(ApiJson(ResourcePresetList { items }))
}

async fn put_preset(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(p): ApiJson<ResourcePreset>,
) -> ApiResult<(StatusCode, ApiJson<ResourcePreset>)> {
    p.validate().map_err(ApiError::Invalid)?;
    let row = PresetRow {
        name: p.name.trim().to_string(),
        cpu: p.cpu,
        mem: p.mem.0 as i64,
        shmem: p.shmem.0 as i64,
        accelerators: serde_json::to_string(&p.accelerators).unwrap_or_else(|_| "{}".into()),
    };
    ctx.store().put_preset(&row).await?;
    Ok((StatusCode::CREATED, ApiJson(preset(row))))
}

async fn delete_preset(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if ctx.store().delete_preset(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("preset"))
    }
}

async fn policies(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
) -> ApiResult<ApiJson<ResourcePolicyList>> {
    let items = ctx
        .store()
        .policies()
        .await?
        .into_iter()
        .map(ResourcePolicy::from)
        .collect();
    Ok(ApiJson(ResourcePolicyList { items }))
}

async fn put_policy(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(p): ApiJson<ResourcePolicy>,
) -> ApiResult<(StatusCode, ApiJson<ResourcePolicy>)> {
    p.validate().map_err(ApiError::Invalid)?;
    let row = PolicyRow {
        name: p.name.trim().to_string(),
        max_concurrent_sessions: i64::from(p.max_concurrent_sessions),
        max_total_cpu: p.max_total_cpu,
        max_total_mem: p.max_total_mem.0.min(i64::MAX as u64) as i64,
        max_session_lifetime: p.max_session_lifetime.min(i64::MAX as u64) as i64,
    };
    ctx.store().put_policy(&row).await?;
    ctx.wake_scheduler();
    Ok((StatusCode::CREATED, ApiJson(ResourcePolicy::from(row))))
}

async fn delete_policy(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if ctx.store().delete_policy(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::Conflict(format!(
            "Policy {name} does not exist, is the default, or is bound to a keypair."
        )))
    }
}

/// The policy that bounds the caller's sessions, or (admins) those of the
/// user named by `owner_email`: the launcher caps its sliders with it.
async fn policy_of_owner(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Query(q): Query<PolicyQuery>,
) -> ApiResult<ApiJson<ResourcePolicy>> {
    let email = q
        .owner_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let owner = match email {
        Some(e) if !e.eq_ignore_ascii_case(&user.email) => {
            if !user.role.is_admin() {
                return Err(ApiError::Forbidden(
                    "Only admins launch sessions for other users.",
                ));
            }
            accounts::user_by_email(ctx.store(), e)
                .await?
                .ok_or(ApiError::NotFound("user"))?
        }
        _ => user,
    };
    let row = ctx
        .store()
        .policy_of(&owner.access_key)
        .await?
        .ok_or(ApiError::NotFound("resource policy"))?;
    Ok(ApiJson(row.into()))
}

//! Resource groups, presets, policies and agents.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch};
use axum::Router;
use berth_shared::agents::{RegisterAgent, UpdateAgent};
use berth_shared::resources::{
    AgentInfo, AgentList, GroupsQuery, PolicyQuery, PutResourceGroup, ResourceGroup,
    ResourceGroupList, ResourcePolicy, ResourcePolicyList, ResourcePreset, ResourcePresetList,
};

use super::error::{ApiError, ApiResult};
use super::extract::{AdminUser, AuthUser};
use super::json::ApiJson;
use super::query::ApiQuery;
use super::ApiContext;
use crate::resources::{agents, groups, policies, presets};

/// The routes of these resources.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/resource-groups", get(list_groups).post(put_group))
        .route("/resource-groups/{name}", delete(delete_group))
        .route("/resource-presets", get(list_presets).post(put_preset))
        .route("/resource-presets/{name}", delete(delete_preset))
        .route("/resource-policies", get(list_policies).post(put_policy))
        .route("/resource-policies/{name}", delete(delete_policy))
        .route("/resource-policy", get(policy_of_owner))
        .route("/agents", get(list_agents).post(register_agent))
        .route("/agents/{id}", patch(update_agent).delete(remove_agent))
}

#[utoipa::path(get, path = "/resource-groups", tag = "resources", params(GroupsQuery), responses((status = 200, description = "Resource groups.", body = ResourceGroupList)))]
pub(crate) async fn list_groups(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<GroupsQuery>,
) -> ApiResult<ApiJson<ResourceGroupList>> {
    if q.all {
        if !user.role.is_admin() {
            return Err(ApiError::Forbidden("only admins list every resource group"));
        }
        return Ok(ApiJson(groups::all(ctx.store()).await?));
    }
    Ok(ApiJson(
        groups::visible(ctx.store(), &user, q.project.as_deref()).await?,
    ))
}

#[utoipa::path(post, path = "/resource-groups", tag = "resources", request_body = PutResourceGroup, responses((status = 201, description = "The group, made or replaced.", body = ResourceGroup)))]
pub(crate) async fn put_group(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(g): ApiJson<PutResourceGroup>,
) -> ApiResult<(StatusCode, ApiJson<ResourceGroup>)> {
    let saved = groups::put(ctx.store(), &g).await?;
    ctx.wake_scheduler();
    Ok((StatusCode::CREATED, ApiJson(saved)))
}

#[utoipa::path(delete, path = "/resource-groups/{name}", tag = "resources", params(("name" = String, Path, description = "Group name")), responses((status = 204, description = "Deleted.")))]
pub(crate) async fn delete_group(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    groups::delete(ctx.store(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/agents", tag = "resources", responses((status = 200, description = "Agents (Docker engines).", body = AgentList)))]
pub(crate) async fn list_agents(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<ApiJson<AgentList>> {
    Ok(ApiJson(agents::list(ctx.store(), &user).await?))
}

#[utoipa::path(post, path = "/agents", tag = "resources", request_body = RegisterAgent, responses((status = 201, description = "The agent, registered.", body = AgentInfo)))]
pub(crate) async fn register_agent(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(req): ApiJson<RegisterAgent>,
) -> ApiResult<(StatusCode, ApiJson<AgentInfo>)> {
    let made = agents::register(&ctx, &req).await?;
    Ok((StatusCode::CREATED, ApiJson(made)))
}

#[utoipa::path(patch, path = "/agents/{id}", tag = "resources", params(("id" = String, Path, description = "Agent id")), request_body = UpdateAgent, responses((status = 200, description = "The agent, updated.", body = AgentInfo)))]
pub(crate) async fn update_agent(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateAgent>,
) -> ApiResult<ApiJson<AgentInfo>> {
    Ok(ApiJson(agents::update(&ctx, &id, &req).await?))
}

#[utoipa::path(delete, path = "/agents/{id}", tag = "resources", params(("id" = String, Path, description = "Agent id")), responses((status = 204, description = "Removed.")))]
pub(crate) async fn remove_agent(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    agents::remove(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/resource-presets", tag = "resources", responses((status = 200, description = "Resource presets.", body = ResourcePresetList)))]
pub(crate) async fn list_presets(
    State(ctx): State<ApiContext>,
    AuthUser(_): AuthUser,
) -> ApiResult<ApiJson<ResourcePresetList>> {
    Ok(ApiJson(presets::list(ctx.store()).await?))
}

#[utoipa::path(post, path = "/resource-presets", tag = "resources", request_body = ResourcePreset, responses((status = 201, description = "The preset, made or replaced.", body = ResourcePreset)))]
pub(crate) async fn put_preset(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(p): ApiJson<ResourcePreset>,
) -> ApiResult<(StatusCode, ApiJson<ResourcePreset>)> {
    let saved = presets::put(ctx.store(), &p).await?;
    Ok((StatusCode::CREATED, ApiJson(saved)))
}

#[utoipa::path(delete, path = "/resource-presets/{name}", tag = "resources", params(("name" = String, Path, description = "Preset name")), responses((status = 204, description = "Deleted.")))]
pub(crate) async fn delete_preset(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    presets::delete(ctx.store(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/resource-policies", tag = "resources", responses((status = 200, description = "Resource policies (admins).", body = ResourcePolicyList)))]
pub(crate) async fn list_policies(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
) -> ApiResult<ApiJson<ResourcePolicyList>> {
    Ok(ApiJson(policies::list(ctx.store()).await?))
}

#[utoipa::path(post, path = "/resource-policies", tag = "resources", request_body = ResourcePolicy, responses((status = 201, description = "The policy, made or replaced.", body = ResourcePolicy)))]
pub(crate) async fn put_policy(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(p): ApiJson<ResourcePolicy>,
) -> ApiResult<(StatusCode, ApiJson<ResourcePolicy>)> {
    let saved = policies::put(&ctx, &p).await?;
    Ok((StatusCode::CREATED, ApiJson(saved)))
}

#[utoipa::path(delete, path = "/resource-policies/{name}", tag = "resources", params(("name" = String, Path, description = "Policy name")), responses((status = 204, description = "Deleted.")))]
pub(crate) async fn delete_policy(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    policies::delete(ctx.store(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The policy that bounds the caller's sessions, or (admins) those of the
/// user named by `owner_email`.
#[utoipa::path(get, path = "/resource-policy", tag = "resources", params(PolicyQuery), responses((status = 200, description = "The policy that applies to the caller (or, for admins, an owner).", body = ResourcePolicy)))]
pub(crate) async fn policy_of_owner(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<PolicyQuery>,
) -> ApiResult<ApiJson<ResourcePolicy>> {
    Ok(ApiJson(
        policies::for_owner(ctx.store(), user, q.owner_email.as_deref()).await?,
    ))
}

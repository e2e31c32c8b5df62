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

async fn list_groups(
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

async fn put_group(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(g): ApiJson<PutResourceGroup>,
) -> ApiResult<(StatusCode, ApiJson<ResourceGroup>)> {
    let saved = groups::put(ctx.store(), &g).await?;
    ctx.wake_scheduler();
    Ok((StatusCode::CREATED, ApiJson(saved)))
}

async fn delete_group(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    groups::delete(ctx.store(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_agents(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<ApiJson<AgentList>> {
    Ok(ApiJson(agents::list(ctx.store(), &user).await?))
}

async fn register_agent(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(req): ApiJson<RegisterAgent>,
) -> ApiResult<(StatusCode, ApiJson<AgentInfo>)> {
    let made = agents::register(&ctx, &req).await?;
    Ok((StatusCode::CREATED, ApiJson(made)))
}

async fn update_agent(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateAgent>,
) -> ApiResult<ApiJson<AgentInfo>> {
    Ok(ApiJson(agents::update(&ctx, &id, &req).await?))
}

async fn remove_agent(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    agents::remove(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_presets(
    State(ctx): State<ApiContext>,
    AuthUser(_): AuthUser,
) -> ApiResult<ApiJson<ResourcePresetList>> {
    Ok(ApiJson(presets::list(ctx.store()).await?))
}

async fn put_preset(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(p): ApiJson<ResourcePreset>,
) -> ApiResult<(StatusCode, ApiJson<ResourcePreset>)> {
    let saved = presets::put(ctx.store(), &p).await?;
    Ok((StatusCode::CREATED, ApiJson(saved)))
}

async fn delete_preset(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    presets::delete(ctx.store(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_policies(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
) -> ApiResult<ApiJson<ResourcePolicyList>> {
    Ok(ApiJson(policies::list(ctx.store()).await?))
}

async fn put_policy(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiJson(p): ApiJson<ResourcePolicy>,
) -> ApiResult<(StatusCode, ApiJson<ResourcePolicy>)> {
    let saved = policies::put(&ctx, &p).await?;
    Ok((StatusCode::CREATED, ApiJson(saved)))
}

async fn delete_policy(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    policies::delete(ctx.store(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The policy that bounds the caller's sessions, or (admins) those of the
/// user named by `owner_email`.
async fn policy_of_owner(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<PolicyQuery>,
) -> ApiResult<ApiJson<ResourcePolicy>> {
    Ok(ApiJson(
        policies::for_owner(ctx.store(), user, q.owner_email.as_deref()).await?,
    ))
}

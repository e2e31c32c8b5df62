//! `/api/v1/users`: admin-only user management and lookup by email.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use berth_shared::auth::{Role, UserInfo};
use berth_shared::users::{CreateUserRequest, UpdateUserRequest, UserList, UserQuery};

use super::error::{ApiError, ApiResult};
use super::extract::AdminUser;
use super::json::ApiJson;
use super::query::ApiQuery;
use super::ApiContext;
use crate::accounts;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(get_one).patch(update))
}

#[utoipa::path(get, path = "/users", tag = "users", params(UserQuery), responses((status = 200, description = "Users (admins).", body = UserList)))]
pub(crate) async fn list(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<ApiJson<UserList>> {
    let email = q.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let items = accounts::list_users(ctx.store(), email).await?;
    Ok(ApiJson(UserList { items }))
}

#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = String, Path, description = "User id")), responses((status = 200, description = "The user.", body = UserInfo)))]
pub(crate) async fn get_one(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<UserInfo>> {
    Ok(ApiJson(accounts::user_info(ctx.store(), &id).await?))
}

#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUserRequest, responses((status = 201, description = "The new user.", body = UserInfo)))]
pub(crate) async fn create(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, ApiJson<UserInfo>)> {
    if req.role != Role::User && admin.role != Role::Superadmin {
        return Err(ApiError::Forbidden(
            "Only a superadmin can create admin accounts.",
        ));
    }
    let user = accounts::create_user(ctx.store(), &req).await?;
    Ok((StatusCode::CREATED, ApiJson(user)))
}

#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = String, Path, description = "User id")), request_body = UpdateUserRequest, responses((status = 200, description = "The user, updated.", body = UserInfo)))]
pub(crate) async fn update(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> ApiResult<ApiJson<UserInfo>> {
    let target = accounts::user_info(ctx.store(), &id).await?;
    // Admins manage users; only a superadmin touches admins or hands out admin roles.
    let elevated = target.role != Role::User || req.role.is_some_and(|r| r != Role::User);
    if elevated && admin.role != Role::Superadmin {
        return Err(ApiError::Forbidden(
            "Only a superadmin can change admin accounts.",
        ));
    }
    if target.id == admin.id
        && (req.is_active == Some(false) || req.role.is_some_and(|r| r != admin.role))
    {
        return Err(ApiError::Forbidden(
            "You cannot disable or demote your own account.",
        ));
    }
    let user = accounts::update_user(ctx.store(), &id, &req).await?;
    if !user.is_active {
        // a disabled account's apps, public ones included, stop answering
        let closed = ctx.apps().close_owner(&user.id);
        if closed > 0 {
            tracing::info!(user = %user.id, apps = closed, "closed a disabled account's apps");
        }
    }
    ctx.accounts_changed();
    Ok(ApiJson(user))
}

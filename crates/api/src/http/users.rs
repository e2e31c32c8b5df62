//! `/api/v1/users`: admin-only user management and lookup by email.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use berth_shared::auth::{Role, UserInfo};
use berth_shared::users::{CreateUserRequest, UserList, UserQuery};

use super::error::{ApiError, ApiResult};
use super::extract::AdminUser;
use super::json::ApiJson;
use super::ApiContext;
use crate::accounts;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(get_one))
}

async fn list(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Query(q): Query<UserQuery>,
) -> ApiResult<ApiJson<UserList>> {
    let email = q.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let items = accounts::list_users(ctx.store(), email).await?;
    Ok(ApiJson(UserList { items }))
}

async fn get_one(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<UserInfo>> {
    Ok(ApiJson(accounts::user_info(ctx.store(), &id).await?))
}

async fn create(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, ApiJson<UserInfo>)> {
    if req.role != Role::User && admin.role != Role::Superadmin {
        return Err(ApiError::Forbidden("Only a superadmin can create admin accounts."));
    }
    let user = accounts::create_user(ctx.store(), &req).await?;
    Ok((StatusCode::CREATED, ApiJson(user)))
}

//! `/api/v1/sessions/{id}/commit` and `/api/v1/customized-images`: saving
//! a session as an image, and the caller's customized images;
//! `/api/v1/resource-groups/{name}/pre-pulls`: an admin's pre-pull of an
//! environment to a group's agents.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::Router;
use berth_shared::images::{
    CommitRequest, CustomizedImageList, PrePull, PrePullList, PrePullRequest,
};
use berth_shared::sessions::SessionInfo;

use super::error::ApiResult;
use super::extract::{AdminUser, AuthUser};
use super::json::ApiJson;
use super::ApiContext;
use crate::images;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/sessions/{id}/commit", post(commit))
        .route("/customized-images", get(list))
        .route("/customized-images/{id}", delete(remove))
        .route(
            "/resource-groups/{name}/pre-pulls",
            get(list_prepulls).post(prepull),
        )
}

#[utoipa::path(post, path = "/sessions/{id}/commit", tag = "images", params(("id" = String, Path, description = "Session id or name")), request_body = CommitRequest, responses((status = 202, description = "Saving the session as an image; progress arrives on the session.", body = SessionInfo)))]
pub(crate) async fn commit(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CommitRequest>,
) -> ApiResult<(StatusCode, ApiJson<SessionInfo>)> {
    let started = images::commit(&ctx, &user, &id, &req).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(started.info)))
}

#[utoipa::path(get, path = "/customized-images", tag = "images", responses((status = 200, description = "The caller's customized images.", body = CustomizedImageList)))]
pub(crate) async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<ApiJson<CustomizedImageList>> {
    Ok(ApiJson(images::list(&ctx, &user).await?))
}

#[utoipa::path(delete, path = "/customized-images/{id}", tag = "images", params(("id" = String, Path, description = "Image id")), responses((status = 204, description = "Removed.")))]
pub(crate) async fn remove(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    images::delete(&ctx, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/resource-groups/{name}/pre-pulls", tag = "images", params(("name" = String, Path, description = "Resource group")), request_body = PrePullRequest, responses((status = 202, description = "Every agent of the group fetches the image; follow it on the list.", body = PrePull)))]
pub(crate) async fn prepull(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<PrePullRequest>,
) -> ApiResult<(StatusCode, ApiJson<PrePull>)> {
    let job = images::prepull::start(&ctx, &name, &req).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(job)))
}

#[utoipa::path(get, path = "/resource-groups/{name}/pre-pulls", tag = "images", params(("name" = String, Path, description = "Resource group")), responses((status = 200, description = "The group's recent pre-pulls, newest first, with each agent's progress.", body = PrePullList)))]
pub(crate) async fn list_prepulls(
    State(ctx): State<ApiContext>,
    AdminUser(_): AdminUser,
    Path(name): Path<String>,
) -> ApiResult<ApiJson<PrePullList>> {
    Ok(ApiJson(PrePullList {
        items: ctx.prepulls().of_group(&name),
    }))
}

//! `/api/v1/sessions/{id}/commit` and `/api/v1/customized-images`: saving
//! a session as an image, and the caller's customized images.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::Router;
use berth_shared::images::{CommitRequest, CustomizedImageList};
use berth_shared::sessions::SessionInfo;

use super::error::ApiResult;
use super::extract::AuthUser;
use super::json::ApiJson;
use super::ApiContext;
use crate::images;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/sessions/{id}/commit", post(commit))
        .route("/customized-images", get(list))
        .route("/customized-images/{id}", delete(remove))
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

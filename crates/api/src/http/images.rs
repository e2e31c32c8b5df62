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

async fn commit(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CommitRequest>,
) -> ApiResult<(StatusCode, ApiJson<SessionInfo>)> {
    let info = images::commit(&ctx, &user, &id, &req).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(info)))
}

async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<ApiJson<CustomizedImageList>> {
    Ok(ApiJson(images::list(&ctx, &user).await?))
}

async fn remove(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    images::delete(&ctx, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/api/v1/launcher-history`: the caller's recent launches (list, rename,
//! pin/unpin, delete). Entries are added by every successful launch.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::Router;
use berth_shared::history::{HistoryList, UpdateHistoryRequest};

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::json::ApiJson;
use super::ApiContext;
use crate::history::{self, Updated};

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/launcher-history", get(list))
        .route("/launcher-history/{id}", patch(update).delete(remove))
}

#[utoipa::path(get, path = "/launcher-history", tag = "sessions", responses((status = 200, description = "The caller's recent and pinned launches.", body = HistoryList)))]
pub(crate) async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<ApiJson<HistoryList>> {
    Ok(ApiJson(HistoryList {
        items: history::list(ctx.store(), &user.id).await?,
    }))
}

#[utoipa::path(patch, path = "/launcher-history/{id}", tag = "sessions", params(("id" = String, Path, description = "History entry id")), request_body = UpdateHistoryRequest, responses((status = 200, description = "The entry, renamed or (un)pinned.", body = berth_shared::history::HistoryEntry), (status = 204, description = "Unpinned and past the recent list: forgotten.")))]
pub(crate) async fn update(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateHistoryRequest>,
) -> ApiResult<Response> {
    match history::update(ctx.store(), &user.id, &id, &req).await? {
        Updated::Kept(e) => Ok(ApiJson(*e).into_response()),
        Updated::Forgotten => Ok(StatusCode::NO_CONTENT.into_response()),
        Updated::NotFound => Err(ApiError::NotFound("history entry")),
        Updated::Invalid(errors) => Err(ApiError::Invalid(errors)),
    }
}

#[utoipa::path(delete, path = "/launcher-history/{id}", tag = "sessions", params(("id" = String, Path, description = "History entry id")), responses((status = 204, description = "Removed.")))]
pub(crate) async fn remove(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if history::remove(ctx.store(), &user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("history entry"))
    }
}

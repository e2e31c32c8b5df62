//! `/api/v1/sessions`: create, list, get, rename, logs, terminate.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use berth_shared::sessions::{
    CreateSessionRequest, CreatedSessions, LogsQuery, RenameRequest, SessionInfo, SessionList,
    SessionLogs, SessionQuery, SessionUsage, TerminateQuery,
};

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::json::ApiJson;
use super::ApiContext;
use crate::sessions;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/sessions", get(list).post(create))
        .route("/sessions/{id}", get(get_one).delete(terminate))
        .route("/sessions/{id}/rename", post(rename))
        .route("/sessions/{id}/logs", get(logs))
        .route("/sessions/{id}/usage", get(usage))
}

async fn create(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> ApiResult<(StatusCode, ApiJson<CreatedSessions>)> {
    let items = sessions::create(&ctx, &user, &req).await?;
    Ok((StatusCode::CREATED, ApiJson(CreatedSessions { items })))
}

async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Query(q): Query<SessionQuery>,
) -> ApiResult<ApiJson<SessionList>> {
    Ok(ApiJson(sessions::list(&ctx, &user, &q).await?))
}

async fn get_one(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<SessionInfo>> {
    Ok(ApiJson(sessions::get(&ctx, &user, &id).await?))
}

async fn rename(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RenameRequest>,
) -> ApiResult<ApiJson<SessionInfo>> {
    // 404 before 422: nobody learns about someone else's session from a bad name
    sessions::get(&ctx, &user, &id).await?;
    req.validate().map_err(ApiError::Invalid)?;
    Ok(ApiJson(
        sessions::rename(&ctx, &user, &id, &req.name).await?,
    ))
}

async fn logs(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
) -> ApiResult<ApiJson<SessionLogs>> {
    Ok(ApiJson(
        sessions::logs(&ctx, &user, &id, q.kernel.as_deref(), q.tail).await?,
    ))
}

async fn usage(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<SessionUsage>> {
    Ok(ApiJson(sessions::usage(&ctx, &user, &id).await?))
}

async fn terminate(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Query(q): Query<TerminateQuery>,
) -> ApiResult<(StatusCode, ApiJson<SessionInfo>)> {
    let s = sessions::terminate(&ctx, &user, &id, q.force).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(s)))
}

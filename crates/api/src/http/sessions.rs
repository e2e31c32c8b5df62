//! `/api/v1/sessions`: create (or predict it: dry-run), list, get, rename,
//! logs (a bounded tail, or the whole log streamed as a download), usage,
//! terminate.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use berth_shared::sessions::{
    CreateSessionRequest, CreatedSessions, DryRun, LogsQuery, RenameRequest, SessionInfo,
    SessionLogs, SessionQuery, SessionUsage, TerminateQuery,
};

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::json::ApiJson;
use super::query::ApiQuery;
use super::ApiContext;
use crate::sessions::{self, LogDownload};

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/sessions", get(list).post(create))
        .route("/sessions/dry-run", post(dry_run))
        .route("/sessions/{id}", get(get_one).delete(terminate))
        .route("/sessions/{id}/rename", post(rename))
        .route("/sessions/{id}/logs", get(logs))
        .route("/sessions/{id}/logs/download", get(download_logs))
        .route("/sessions/{id}/usage", get(usage))
}

#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = CreateSessionRequest, responses((status = 201, description = "The sessions made (several with `count`), queued (PENDING).", body = CreatedSessions)))]
pub(crate) async fn create(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> ApiResult<(StatusCode, ApiJson<CreatedSessions>)> {
    let items = sessions::create(&ctx, &user, &req).await?;
    Ok((StatusCode::CREATED, ApiJson(CreatedSessions { items })))
}

/// The scheduler's decision now for what `create` would make; stores nothing.
#[utoipa::path(post, path = "/sessions/dry-run", tag = "sessions", request_body = CreateSessionRequest, responses((status = 200, description = "What the scheduler would decide now; nothing is stored.", body = DryRun)))]
pub(crate) async fn dry_run(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> ApiResult<ApiJson<DryRun>> {
    Ok(ApiJson(sessions::dry_run(&ctx, &user, &req).await?))
}

#[utoipa::path(get, path = "/sessions", tag = "sessions", params(SessionQuery), responses((status = 200, description = "A page of sessions, newest first.", body = berth_shared::sessions::SessionList)))]
pub(crate) async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> ApiResult<Response> {
    // a `SessionList`, serialized once per page and kept while it holds
    let json = sessions::list_json(&ctx, &user, &q).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions", params(("id" = String, Path, description = "Session id or name")), responses((status = 200, description = "The session.", body = SessionInfo)))]
pub(crate) async fn get_one(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<SessionInfo>> {
    Ok(ApiJson(sessions::get(&ctx, &user, &id).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/rename", tag = "sessions", params(("id" = String, Path, description = "Session id or name")), request_body = RenameRequest, responses((status = 200, description = "The session, renamed.", body = SessionInfo)))]
pub(crate) async fn rename(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RenameRequest>,
) -> ApiResult<ApiJson<SessionInfo>> {
    Ok(ApiJson(sessions::rename(&ctx, &user, &id, &req).await?))
}

#[utoipa::path(get, path = "/sessions/{id}/logs", tag = "sessions", params(("id" = String, Path, description = "Session id or name"), LogsQuery), responses((status = 200, description = "The log's tail (bounded).", body = SessionLogs)))]
pub(crate) async fn logs(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LogsQuery>,
) -> ApiResult<ApiJson<SessionLogs>> {
    let lines = q.lines().map_err(ApiError::Invalid)?;
    Ok(ApiJson(
        sessions::logs(&ctx, &user, &id, q.kernel.as_deref(), lines).await?,
    ))
}

/// The whole log as a file, streamed: memory stays flat however long it is.
#[utoipa::path(get, path = "/sessions/{id}/logs/download", tag = "sessions", params(("id" = String, Path, description = "Session id or name"), LogsQuery), responses((status = 200, description = "The whole log as a text file.", content_type = "text/plain")))]
pub(crate) async fn download_logs(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LogsQuery>,
) -> ApiResult<Response> {
    let (file, log) = sessions::log_download(&ctx, &user, &id, q.kernel.as_deref()).await?;
    let body = match log {
        LogDownload::Live(stream) => Body::from_stream(stream),
        LogDownload::Kept(text) => Body::from(text),
    };
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file.replace(
            |c: char| !c.is_ascii_alphanumeric() && !"-_.".contains(c),
            "_"
        )
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(get, path = "/sessions/{id}/usage", tag = "sessions", params(("id" = String, Path, description = "Session id or name")), responses((status = 200, description = "Live CPU, memory and I/O use.", body = SessionUsage)))]
pub(crate) async fn usage(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<SessionUsage>> {
    Ok(ApiJson(sessions::usage(&ctx, &user, &id).await?))
}

#[utoipa::path(delete, path = "/sessions/{id}", tag = "sessions", params(("id" = String, Path, description = "Session id or name"), TerminateQuery), responses((status = 202, description = "Terminating: the session as it is now; it ends shortly.", body = SessionInfo)))]
pub(crate) async fn terminate(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TerminateQuery>,
) -> ApiResult<(StatusCode, ApiJson<SessionInfo>)> {
    let s = sessions::terminate(&ctx, &user, &id, q.force).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(s)))
}

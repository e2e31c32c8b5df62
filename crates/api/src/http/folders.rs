//! `/api/v1/folders`: the caller's storage folders (create, list, get,
//! rename, delete) and the explorer inside one (entries, mkdir, move, and
//! `files?path=` to download, upload and delete).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use berth_shared::folders::{
    content_disposition, CreateFolderRequest, FolderInfo, FolderList, FolderListing, MkdirRequest,
    MoveRequest, PathQuery, RenameFolderRequest,
};
use tokio_util::io::ReaderStream;

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::json::ApiJson;
use super::query::ApiQuery;
use super::ApiContext;
use crate::folders::fs::IO_BUFFER;
use crate::folders::{self, explorer};

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/folders", get(list).post(create))
        .route("/folders/{id}", get(get_one).patch(rename).delete(remove))
        .route("/folders/{id}/entries", get(entries))
        .route("/folders/{id}/mkdir", post(mkdir))
        .route("/folders/{id}/move", post(move_entry))
        .route(
            "/folders/{id}/files",
            get(download).put(upload).delete(remove_entry),
        )
}

#[utoipa::path(get, path = "/folders", tag = "folders", responses((status = 200, description = "The caller's storage folders.", body = FolderList)))]
pub(crate) async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<ApiJson<FolderList>> {
    Ok(ApiJson(folders::list(&ctx, &user).await?))
}

#[utoipa::path(post, path = "/folders", tag = "folders", request_body = CreateFolderRequest, responses((status = 201, description = "The new folder.", body = FolderInfo)))]
pub(crate) async fn create(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<CreateFolderRequest>,
) -> ApiResult<(StatusCode, ApiJson<FolderInfo>)> {
    let f = folders::create(&ctx, &user, &req).await?;
    Ok((StatusCode::CREATED, ApiJson(f)))
}

#[utoipa::path(get, path = "/folders/{id}", tag = "folders", params(("id" = String, Path, description = "Folder id or name")), responses((status = 200, description = "The folder.", body = FolderInfo)))]
pub(crate) async fn get_one(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<FolderInfo>> {
    Ok(ApiJson(folders::get(&ctx, &user, &id).await?))
}

#[utoipa::path(patch, path = "/folders/{id}", tag = "folders", params(("id" = String, Path, description = "Folder id or name")), request_body = RenameFolderRequest, responses((status = 200, description = "The folder, renamed.", body = FolderInfo)))]
pub(crate) async fn rename(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RenameFolderRequest>,
) -> ApiResult<ApiJson<FolderInfo>> {
    Ok(ApiJson(folders::rename(&ctx, &user, &id, &req).await?))
}

#[utoipa::path(delete, path = "/folders/{id}", tag = "folders", params(("id" = String, Path, description = "Folder id or name")), responses((status = 204, description = "Deleted, with its files.")))]
pub(crate) async fn remove(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    folders::delete(&ctx, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/folders/{id}/entries", tag = "folders", params(("id" = String, Path, description = "Folder id or name"), PathQuery), responses((status = 200, description = "A directory's entries.", body = FolderListing)))]
pub(crate) async fn entries(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PathQuery>,
) -> ApiResult<ApiJson<FolderListing>> {
    Ok(ApiJson(explorer::list(&ctx, &user, &id, &q.path).await?))
}

#[utoipa::path(post, path = "/folders/{id}/mkdir", tag = "folders", params(("id" = String, Path, description = "Folder id or name")), request_body = MkdirRequest, responses((status = 201, description = "Made.")))]
pub(crate) async fn mkdir(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MkdirRequest>,
) -> ApiResult<StatusCode> {
    explorer::mkdir(&ctx, &user, &id, &req).await?;
    Ok(StatusCode::CREATED)
}

#[utoipa::path(post, path = "/folders/{id}/move", tag = "folders", params(("id" = String, Path, description = "Folder id or name")), request_body = MoveRequest, responses((status = 204, description = "Moved or renamed.")))]
pub(crate) async fn move_entry(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> ApiResult<StatusCode> {
    explorer::move_entry(&ctx, &user, &id, &req).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/folders/{id}/files", tag = "folders", params(("id" = String, Path, description = "Folder id or name"), PathQuery), responses((status = 204, description = "Deleted.")))]
pub(crate) async fn remove_entry(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PathQuery>,
) -> ApiResult<StatusCode> {
    explorer::remove(&ctx, &user, &id, &q.path).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Streams a file from disk: never read whole into memory.
#[utoipa::path(get, path = "/folders/{id}/files", tag = "folders", params(("id" = String, Path, description = "Folder id or name"), PathQuery), responses((status = 200, description = "The file's bytes.", content_type = "application/octet-stream")))]
pub(crate) async fn download(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PathQuery>,
) -> ApiResult<Response> {
    let (file, size, name) = explorer::download(&ctx, &user, &id, &q.path).await?;
    let disposition = HeaderValue::from_str(&content_disposition(&name))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_LENGTH, HeaderValue::from(size)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(ReaderStream::with_capacity(file, IO_BUFFER)),
    )
        .into_response())
}

/// Streams the request body to disk (the body limit of JSON requests does
/// not apply; the upload limit does).
#[utoipa::path(put, path = "/folders/{id}/files", tag = "folders", params(("id" = String, Path, description = "Folder id or name"), PathQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"), responses((status = 201, description = "Written.")))]
pub(crate) async fn upload(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PathQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    explorer::upload(&ctx, &user, &id, &q.path, declared, body.into_data_stream()).await?;
    Ok(StatusCode::CREATED)
}

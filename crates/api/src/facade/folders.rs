//! `/backend.ai/folders`: the caller's storage folders listed and made as
//! the reference's vfolders (one host, `local`; user folders only), by
//! the operations `/api/v1/folders` calls.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use berth_shared::auth::UserInfo;
use berth_shared::compat::{CreateFolder, Folder};
use berth_shared::folders::{CreateFolderRequest, FolderInfo};

use super::auth::KeyUser;
use super::body::Body;
use super::error::FacadeResult;
use crate::folders;
use crate::services::Shared as ApiContext;

/// The one folder host berth has.
pub const HOST: &str = "local";

fn folder(f: FolderInfo, owner: &UserInfo) -> Folder {
    Folder {
        id: f.id,
        name: f.name,
        host: HOST.into(),
        usage_mode: "general".into(),
        permission: "rw".into(),
        created_at: f.created_at.to_rfc3339(),
        is_owner: true,
        user: owner.id.clone(),
        group: None,
        creator: owner.email.clone(),
        folder_type: "user".into(),
        ownership_type: "user".into(),
        max_size: 0,
        status: "ready".into(),
        cloneable: false,
    }
}

/// `GET /folders`.
pub async fn list(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
) -> FacadeResult<Json<Vec<Folder>>> {
    let all = folders::list(&ctx, &user).await?;
    Ok(Json(
        all.items.into_iter().map(|f| folder(f, &user)).collect(),
    ))
}

/// `POST /folders`.
pub async fn create(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Body(body): Body<CreateFolder>,
) -> FacadeResult<(StatusCode, Json<Folder>)> {
    let made = folders::create(&ctx, &user, &CreateFolderRequest { name: body.name }).await?;
    Ok((StatusCode::CREATED, Json(folder(made, &user))))
}

//! The folder explorer's operations: list a directory, make one, upload,
//! download, rename or move, delete — always inside one of the caller's
//! folders (see `fs/` for how paths are kept inside).

use berth_shared::auth::UserInfo;
use berth_shared::folders::{entry_path, FolderListing, MkdirRequest, MoveRequest};
use bytes::Bytes;
use futures_util::Stream;

use super::fs::Limit;
use super::{owned, parts, quota_of, FolderError, FolderResult};
use crate::held::Kind;
use crate::services::Services;

/// A path that names an entry (not the folder itself), as parts.
fn entry_parts(path: &str) -> FolderResult<Vec<String>> {
    entry_path(path)
        .map(|p| p.into_iter().map(String::from).collect())
        .map_err(|e| FolderError::BadPath(e.message))
}

/// A directory's entries.
pub async fn list(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    path: &str,
) -> FolderResult<FolderListing> {
    let f = owned(svc, caller, id).await?;
    let parts = parts(path)?;
    let (items, truncated) = svc
        .storage()
        .list(
            &f.owner_id,
            &f.id,
            parts.clone(),
            svc.config().max_dir_entries,
        )
        .await?;
    Ok(FolderListing {
        path: parts.join("/"),
        items,
        truncated,
    })
}

/// Makes a directory.
pub async fn mkdir(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    req: &MkdirRequest,
) -> FolderResult<()> {
    // the folder before the request: someone else's stays a 404
    let f = owned(svc, caller, id).await?;
    req.validate().map_err(FolderError::Invalid)?;
    let parts = entry_parts(&req.path)?;
    Ok(svc.storage().mkdir(&f.owner_id, &f.id, parts).await?)
}

/// Renames or moves an entry within the folder.
pub async fn move_entry(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    req: &MoveRequest,
) -> FolderResult<()> {
    // the folder before the request: someone else's stays a 404
    let f = owned(svc, caller, id).await?;
    req.validate().map_err(FolderError::Invalid)?;
    let from = entry_parts(&req.from)?;
    let to = entry_parts(&req.to)?;
    if to.starts_with(&from) {
        return Err(FolderError::Conflict(
            "A directory cannot move into itself.".into(),
        ));
    }
    Ok(svc.storage().rename(&f.owner_id, &f.id, from, to).await?)
}

/// Deletes a file or a directory with everything in it.
pub async fn remove(svc: &Services, caller: &UserInfo, id: &str, path: &str) -> FolderResult<()> {
    let f = owned(svc, caller, id).await?;
    let parts = entry_parts(path)?;
    Ok(svc
        .storage()
        .remove_entry(&f.owner_id, &f.id, parts)
        .await?)
}

/// A file to download: open, its size and its name.
pub async fn download(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    path: &str,
) -> FolderResult<(tokio::fs::File, u64, String)> {
    let f = owned(svc, caller, id).await?;
    let parts = entry_parts(path)?;
    Ok(svc.storage().open_file(&f.owner_id, &f.id, parts).await?)
}

/// Writes an upload to `path` (at most the configured upload size, within
/// the owner's folder quota, at most `--max-parallel-uploads` of one user
/// at once, cut off when its body stalls); the bytes written.
pub async fn upload<S, E>(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    path: &str,
    declared_len: Option<u64>,
    body: S,
) -> FolderResult<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let f = owned(svc, caller, id).await?;
    let parts = entry_parts(path)?;
    let max = svc.config().max_parallel_uploads;
    let _slot = svc
        .held()
        .take(Kind::Upload, &caller.id, max)
        .ok_or(FolderError::Busy {
            kind: Kind::Upload,
            max,
        })?;
    let quota = quota_of(svc, caller).await?;
    let quota = match quota {
        Some(q) => Some((q, svc.storage().used_bytes(&f.owner_id).await?)),
        None => None,
    };
    let limit = Limit {
        max: svc.config().max_upload_bytes.0,
        quota,
        stall: std::time::Duration::from_secs(svc.config().upload_stall_secs.max(1)),
    };
    if let Some(n) = declared_len {
        limit.check(n)?;
    }
    Ok(svc
        .storage()
        .upload(&f.owner_id, &f.id, parts, body, limit)
        .await?)
}

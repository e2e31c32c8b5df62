//! Storage folders: a user's directories that outlive sessions. Create,
//! list, rename and delete them (`mod.rs`); browse and change what is in
//! them (`explorer.rs`); resolve the folders a session mounts
//! (`for_mounts`). `fs/` is the only code that touches their files.

pub mod explorer;
pub mod fs;
pub mod mount;

use std::collections::HashMap;

use berth_shared::auth::UserInfo;
use berth_shared::folders::{
    folder_path, CreateFolderRequest, FolderInfo, FolderList, MountedIn, RenameFolderRequest,
    DEFAULT_MAX_FOLDERS,
};
use berth_shared::sessions::Mount;
use berth_shared::FieldError;

use self::fs::FsError;
use crate::accounts::ms_to_time;
use crate::services::Services;
use crate::store::{now_ms, FolderRow, StoreError};

/// Why a folder operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// Input broke a rule.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// A path that cannot be used: `..`, absolute, NUL, a backslash, or a
    /// symlink out of the folder.
    #[error("{0}")]
    BadPath(String),
    /// No such folder, or not the caller's.
    #[error("folder not found")]
    NoFolder,
    /// No such file or directory in the folder.
    #[error("there is no {0} in the folder")]
    NoEntry(String),
    /// Not possible as things are (mounted, already there).
    #[error("{0}")]
    Conflict(String),
    /// An upload over the limit.
    #[error("the upload is larger than {0} bytes")]
    TooLarge(u64),
    /// An upload past the owner's folder quota.
    #[error("the folders may hold {quota} bytes together and hold {used}")]
    OverQuota {
        /// The policy's `max_folder_bytes`.
        quota: u64,
        /// What they hold.
        used: u64,
    },
    /// The user already runs as many of these as allowed.
    #[error("too many {} at once (at most {max})", .kind.noun())]
    Busy {
        /// What.
        kind: crate::held::Kind,
        /// The cap.
        max: u32,
    },
    /// The upload's body broke off or stalled.
    #[error("the upload broke off: {0}")]
    Aborted(String),
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// File-system failure.
    #[error("file system error: {0}")]
    Io(std::io::Error),
}

impl From<FsError> for FolderError {
    fn from(e: FsError) -> Self {
        match e {
            FsError::NotFound(what) => FolderError::NoEntry(what),
            e @ FsError::Outside(_) => FolderError::BadPath(format!("The path {e}.")),
            FsError::Exists(what) => FolderError::Conflict(format!("{what} already exists.")),
            FsError::WrongKind(what) => FolderError::Conflict(format!("{what}.")),
            FsError::TooLarge(limit) => FolderError::TooLarge(limit),
            FsError::OverQuota { quota, used } => FolderError::OverQuota { quota, used },
            FsError::Aborted(why) => FolderError::Aborted(why),
            FsError::Io(e) => FolderError::Io(e),
        }
    }
}

/// Result of a folder operation.
pub type FolderResult<T> = Result<T, FolderError>;

fn invalid(field: &str, code: &str, message: impl Into<String>) -> FolderError {
    FolderError::Invalid(vec![FieldError::new(field, code, message)])
}

/// A path from the explorer as parts, or why it cannot be used.
pub fn parts(path: &str) -> FolderResult<Vec<String>> {
    folder_path(path)
        .map(|p| p.into_iter().map(String::from).collect())
        .map_err(|e| FolderError::BadPath(e.message))
}

/// The caller's folder with this id; anyone else's is "not found".
pub async fn owned(svc: &Services, caller: &UserInfo, id: &str) -> FolderResult<FolderRow> {
    match svc.store().folder(id).await? {
        Some(f) if f.owner_id == caller.id => Ok(f),
        _ => Err(FolderError::NoFolder),
    }
}

/// How many folders `user` may own (0 = no limit).
async fn max_folders(svc: &Services, user: &UserInfo) -> FolderResult<u32> {
    Ok(svc
        .store()
        .policy_of(&user.access_key)
        .await?
        .map_or(DEFAULT_MAX_FOLDERS, |p| {
            p.max_folders.clamp(0, i64::from(u32::MAX)) as u32
        }))
}

/// The bytes `user`'s folders may hold together, when their policy says.
pub(crate) async fn quota_of(svc: &Services, user: &UserInfo) -> FolderResult<Option<u64>> {
    Ok(svc
        .store()
        .policy_of(&user.access_key)
        .await?
        .map(|p| p.max_folder_bytes.max(0) as u64)
        .filter(|q| *q > 0))
}

/// Folders as the API shows them, with the live sessions they are in.
async fn infos(svc: &Services, rows: Vec<FolderRow>) -> FolderResult<Vec<FolderInfo>> {
    let ids: Vec<String> = rows.iter().map(|f| f.id.clone()).collect();
    let mut mounted: HashMap<String, Vec<MountedIn>> = HashMap::new();
    for m in svc.store().live_mounts(&ids).await? {
        mounted.entry(m.folder_id).or_default().push(MountedIn {
            session_id: m.session_id,
            session_name: m.session_name,
            read_only: m.read_only != 0,
        });
    }
    Ok(rows
        .into_iter()
        .map(|f| FolderInfo {
            mounted_in: mounted.remove(&f.id).unwrap_or_default(),
            created_at: ms_to_time(f.created_at),
            id: f.id,
            name: f.name,
        })
        .collect())
}

/// The caller's folders, by name, and how many they may own.
pub async fn list(svc: &Services, caller: &UserInfo) -> FolderResult<FolderList> {
    let rows = svc.store().folders_of(&caller.id).await?;
    Ok(FolderList {
        items: infos(svc, rows).await?,
        max_folders: max_folders(svc, caller).await?,
    })
}

/// One of the caller's folders.
pub async fn get(svc: &Services, caller: &UserInfo, id: &str) -> FolderResult<FolderInfo> {
    let row = owned(svc, caller, id).await?;
    Ok(infos(svc, vec![row]).await?.remove(0))
}

fn name_taken(name: &str) -> FolderError {
    invalid(
        "name",
        "taken",
        format!("You already have a folder named {name}."),
    )
}

/// Creates a folder for the caller, within their policy's quota.
pub async fn create(
    svc: &Services,
    caller: &UserInfo,
    req: &CreateFolderRequest,
) -> FolderResult<FolderInfo> {
    req.validate().map_err(FolderError::Invalid)?;
    let max = max_folders(svc, caller).await?;
    let row = FolderRow {
        id: uuid::Uuid::new_v4().to_string(),
        owner_id: caller.id.clone(),
        name: req.name.clone(),
        created_at: now_ms(),
    };
    match svc.store().insert_folder(&row, i64::from(max)).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(invalid(
                "name",
                "quota_exceeded",
                format!("You have {max} folders, the most your resource policy allows."),
            ))
        }
        Err(StoreError::Conflict) => return Err(name_taken(&req.name)),
        Err(e) => return Err(e.into()),
    }
    if let Err(e) = svc.storage().create(&row.owner_id, &row.id).await {
        // no folder without its directory
        let _ = svc.store().delete_folder(&row.id).await;
        return Err(e.into());
    }
    Ok(infos(svc, vec![row]).await?.remove(0))
}

/// Renames one of the caller's folders (sessions that mount it now keep
/// the old mount point until they end).
pub async fn rename(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    req: &RenameFolderRequest,
) -> FolderResult<FolderInfo> {
    let row = owned(svc, caller, id).await?;
    req.validate().map_err(FolderError::Invalid)?;
    match svc.store().rename_folder(&row.id, &req.name).await {
        Ok(true) => get(svc, caller, id).await,
        Ok(false) => Err(FolderError::NoFolder),
        Err(StoreError::Conflict) => Err(name_taken(&req.name)),
        Err(e) => Err(e.into()),
    }
}

/// Deletes one of the caller's folders and its files, unless a live
/// session mounts it (then it says which).
pub async fn delete(svc: &Services, caller: &UserInfo, id: &str) -> FolderResult<()> {
    let row = owned(svc, caller, id).await?;
    let busy = svc
        .store()
        .live_mounts(std::slice::from_ref(&row.id))
        .await?;
    let refused = |names: Vec<String>| {
        FolderError::Conflict(format!(
            "Folder {} is mounted in the live session {}; end it first.",
            row.name,
            names.join(", ")
        ))
    };
    if !busy.is_empty() {
        return Err(refused(busy.into_iter().map(|m| m.session_name).collect()));
    }
    if !svc.store().delete_folder(&row.id).await? {
        // a session mounting it started meanwhile
        let busy = svc
            .store()
            .live_mounts(std::slice::from_ref(&row.id))
            .await?;
        return Err(refused(busy.into_iter().map(|m| m.session_name).collect()));
    }
    svc.storage().remove(&row.owner_id, &row.id).await?;
    Ok(())
}

/// The owner's folders a session asks to mount, each with its request;
/// an unknown name is a 422 on `mounts[i]`.
pub async fn for_mounts(
    svc: &Services,
    owner: &UserInfo,
    mounts: &[Mount],
) -> FolderResult<Vec<(FolderRow, Mount)>> {
    if mounts.is_empty() {
        return Ok(vec![]);
    }
    let mine = svc.store().folders_of(&owner.id).await?;
    let mut out = Vec::with_capacity(mounts.len());
    let mut errors = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        match mine.iter().find(|f| f.name == m.name) {
            Some(f) => out.push((f.clone(), m.clone())),
            None => errors.push(FieldError::new(
                format!("mounts[{i}]"),
                "unknown_folder",
                format!("{} has no folder named {}.", owner.email, m.name),
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(FolderError::Invalid(errors))
    }
}

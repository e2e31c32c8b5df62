//! The session's SSH private key, for its owner's SSH and SFTP commands.

use std::time::Duration;

use berth_shared::auth::UserInfo;

use super::error::{AppError, AppResult};
use super::running;
use crate::services::Services;
use crate::sessions::{self, SessionError};

/// Where the session's SSH private key is made (see `sessions::launch`).
pub const SSH_KEY_PATH: &str = "/home/work/id_container";
/// The most of it read (an ed25519 key is about 400 bytes).
const SSH_KEY_MAX: usize = 16 * 1024;

/// The session's SSH private key, for its owner alone (not admins: it
/// signs in as the session's user): what the SSH tile's commands use. The
/// container is the owner's, so what it holds there is read briefly and
/// capped, and only something shaped like a private key is given.
pub async fn ssh_key(svc: &Services, caller: &UserInfo, id: &str) -> AppResult<String> {
    // whose it is before whether it runs: an admin learns nothing more
    let seen = sessions::visible_row(svc, caller, id).await?;
    if seen.owner_id != caller.id {
        return Err(
            SessionError::Forbidden("Only the session's owner may download its SSH key.").into(),
        );
    }
    let (row, cid) = running(svc, caller, id).await?;
    let out = super::service::read_file(
        &svc.runtime_of(row.agent.as_deref()),
        &cid,
        SSH_KEY_PATH,
        SSH_KEY_MAX,
        Duration::from_secs(svc.config().exec_timeout_secs.max(1)),
        "The session's SSH key",
    )
    .await?;
    let key = out.output.trim_start();
    if out.code != Some(0) || !key.starts_with("-----BEGIN") || !key.contains("PRIVATE KEY-----") {
        return Err(AppError::Conflict(
            "This session has no SSH key (its image has no SSH server).".into(),
        ));
    }
    Ok(key.to_string())
}

//! Renaming a live session.

use berth_shared::auth::UserInfo;
use berth_shared::sessions::{RenameRequest, SessionInfo};

use super::{get, invalid, visible, SessionError, SessionResult};
use crate::services::Services;
use crate::store::StoreError;

/// Renames a live session (same rule as at creation, unique among the
/// owner's live sessions). The session is looked up before the name is
/// judged: someone else's session is a 404 whatever the name (nobody
/// learns of it from a 422).
pub async fn rename(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    req: &RenameRequest,
) -> SessionResult<SessionInfo> {
    let row = visible(svc, caller, id).await?;
    req.validate().map_err(SessionError::Invalid)?;
    let name = req.name.as_str();
    let ended = || SessionError::Conflict("Only a live session can be renamed.".into());
    if row.terminated_at.is_some() {
        return Err(ended());
    }
    let taken = || {
        invalid(
            "name",
            "taken",
            "You already have a live session with this name.",
        )
    };
    if row.name != name
        && svc
            .store()
            .live_name_taken(&row.owner_id, name, Some(id))
            .await?
    {
        return Err(taken());
    }
    match svc.store().rename_session(id, name).await {
        Ok(true) => {}
        Ok(false) => return Err(ended()),
        Err(StoreError::Conflict) => return Err(taken()),
        Err(e) => return Err(e.into()),
    }
    get(svc, caller, id).await
}

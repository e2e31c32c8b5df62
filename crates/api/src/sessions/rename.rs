//! Renaming a live session.

use berth_shared::auth::UserInfo;
use berth_shared::sessions::SessionInfo;

use super::{get, invalid, visible, SessionError, SessionResult};
use crate::services::Services;
use crate::store::StoreError;

/// Renames a live session (same rule as at creation, unique among the
/// owner's live sessions).
pub async fn rename(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    name: &str,
) -> SessionResult<SessionInfo> {
    let row = visible(svc, caller, id).await?;
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

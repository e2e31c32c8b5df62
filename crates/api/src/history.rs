//! Operations on the launcher history (recent launch configurations).

use berth_shared::history::{HistoryEntry, UpdateHistoryRequest, KEEP_RECENT};
use berth_shared::sessions::CreateSessionRequest;

use crate::accounts::ms_to_time;
use crate::store::json::encode;
use crate::store::{now_ms, HistoryEntryRow, Store, StoreResult};

/// An entry as the API shows it; one whose stored request is unreadable is
/// left out (and logged): loading half a configuration would launch
/// something else.
fn entry(row: HistoryEntryRow) -> Option<HistoryEntry> {
    let config = row
        .config()
        .map_err(|e| tracing::warn!(error = %e, "leaving out a history entry"))
        .ok()?;
    Some(HistoryEntry {
        config,
        id: row.id,
        name: row.name,
        pinned: row.pinned != 0,
        created_at: ms_to_time(row.created_at),
    })
}

/// Remembers a successful launch for `user_id` under `name`.
pub async fn record(
    store: &Store,
    user_id: &str,
    name: &str,
    config: &CreateSessionRequest,
) -> StoreResult<()> {
    let row = HistoryEntryRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user_id.to_string(),
        name: name.to_string(),
        pinned: 0,
        config: encode(config),
        created_at: now_ms(),
    };
    store.push_history(&row, KEEP_RECENT).await
}

/// The user's entries: pinned first, then newest.
pub async fn list(store: &Store, user_id: &str) -> StoreResult<Vec<HistoryEntry>> {
    Ok(store
        .history_of(user_id)
        .await?
        .into_iter()
        .filter_map(entry)
        .collect())
}

/// What became of an updated entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Updated {
    /// It is kept, as it is now.
    Kept(Box<HistoryEntry>),
    /// Unpinned while older than the five most recent: forgotten.
    Forgotten,
    /// The user has no such entry.
    NotFound,
    /// The request breaks a rule (judged once the entry is known to be
    /// the user's: someone else's is `NotFound` whatever was asked).
    Invalid(Vec<berth_shared::FieldError>),
}

/// Renames or (un)pins an entry.
pub async fn update(
    store: &Store,
    user_id: &str,
    id: &str,
    req: &UpdateHistoryRequest,
) -> StoreResult<Updated> {
    if !list(store, user_id).await?.iter().any(|e| e.id == id) {
        return Ok(Updated::NotFound);
    }
    if let Err(errors) = req.validate() {
        return Ok(Updated::Invalid(errors));
    }
    let name = req.name.as_deref().map(str::trim);
    if !store
        .update_history(user_id, id, name, req.pinned, KEEP_RECENT)
        .await?
    {
        return Ok(Updated::NotFound);
    }
    Ok(
        match list(store, user_id).await?.into_iter().find(|e| e.id == id) {
            Some(e) => Updated::Kept(Box::new(e)),
            None => Updated::Forgotten,
        },
    )
}

/// Forgets one of the user's entries; false when they have no such entry.
pub async fn remove(store: &Store, user_id: &str, id: &str) -> StoreResult<bool> {
    store.delete_history(user_id, id).await
}

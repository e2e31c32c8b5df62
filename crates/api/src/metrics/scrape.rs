//! A scrape of `/metrics`: the states read now, with what was recorded.

use crate::services::Services;
use crate::store::{now_ms, StoreResult};

/// The text a scrape gets (sessions and queues from the database, agents
/// as last recorded, the process as it is now).
pub async fn scrape(svc: &Services) -> StoreResult<String> {
    let tallies = svc.store().status_tallies().await?;
    let agents = svc.store().agents().await?;
    let open_apps = svc.apps().open_count();
    Ok(svc.metrics().render(&tallies, &agents, open_apps, now_ms()))
}

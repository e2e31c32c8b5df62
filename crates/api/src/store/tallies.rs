//! Counts for `/metrics`: sessions by status and resource group, each
//! group's longest-standing session in that status.

use sqlx::FromRow;

use super::{Store, StoreResult};

/// Sessions of one status in one resource group.
#[derive(Debug, Clone, FromRow)]
pub struct StatusTally {
    /// The status.
    pub status: String,
    /// The resource group.
    pub resource_group: String,
    /// How many.
    pub sessions: i64,
    /// Since when (ms) the longest-standing of them has had this status.
    pub since: i64,
}

impl Store {
    /// Every (status, group) pair with its count and oldest change.
    pub async fn status_tallies(&self) -> StoreResult<Vec<StatusTally>> {
        Ok(sqlx::query_as(
            "SELECT status, resource_group, CAST(COUNT(*) AS BIGINT) AS sessions,
                    CAST(MIN(status_changed_at) AS BIGINT) AS since
             FROM sessions GROUP BY status, resource_group",
        )
        .fetch_all(self.pool())
        .await?)
    }
}

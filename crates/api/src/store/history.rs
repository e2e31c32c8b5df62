//! launcher_history.

use berth_shared::sessions::CreateSessionRequest;
use sqlx::FromRow;

use super::json::{decode, Corrupt};
use super::{Store, StoreResult};

/// A row of `launcher_history`.
#[derive(Debug, Clone, FromRow)]
pub struct HistoryEntryRow {
    /// Id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Name.
    pub name: String,
    /// 0/1.
    pub pinned: i64,
    /// JSON of the create request; read it with [`HistoryEntryRow::config`].
    pub config: String,
    /// Epoch ms.
    pub created_at: i64,
}

impl HistoryEntryRow {
    /// The launch it remembers. Corrupt: the entry is left out of the list
    /// (loading half a configuration would launch something else).
    pub fn config(&self) -> Result<CreateSessionRequest, Corrupt> {
        decode("launcher_history", "config", &self.id, &self.config)
    }
}

impl Store {
    /// Adds an entry, then forgets the user's unpinned entries beyond the
    /// `keep` newest.
    pub async fn push_history(&self, row: &HistoryEntryRow, keep: usize) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO launcher_history (id, user_id, name, pinned, config, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.name)
        .bind(row.pinned)
        .bind(&row.config)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM launcher_history WHERE user_id = $1 AND pinned = 0 AND id NOT IN (
               SELECT id FROM launcher_history WHERE user_id = $1 AND pinned = 0
               ORDER BY created_at DESC, id DESC LIMIT $2)",
        )
        .bind(&row.user_id)
        .bind(keep as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A user's entries: pinned first, then newest first.
    pub async fn history_of(&self, user_id: &str) -> StoreResult<Vec<HistoryEntryRow>> {
        Ok(sqlx::query_as(
            "SELECT id, user_id, name, pinned, config, created_at FROM launcher_history
             WHERE user_id = $1 ORDER BY pinned DESC, created_at DESC, id DESC",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Renames and/or (un)pins one of the user's entries; false when absent.
    /// Unpinning may push it out of the kept window: then it is forgotten.
    pub async fn update_history(
        &self,
        user_id: &str,
        id: &str,
        name: Option<&str>,
        pinned: Option<bool>,
        keep: usize,
    ) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE launcher_history SET name = COALESCE($1, name), pinned = COALESCE($2, pinned)
             WHERE id = $3 AND user_id = $4",
        )
        .bind(name)
        .bind(pinned.map(i64::from))
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM launcher_history WHERE user_id = $1 AND pinned = 0 AND id NOT IN (
               SELECT id FROM launcher_history WHERE user_id = $1 AND pinned = 0
               ORDER BY created_at DESC, id DESC LIMIT $2)",
        )
        .bind(user_id)
        .bind(keep as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes one of the user's entries; false when absent.
    pub async fn delete_history(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM launcher_history WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

//! folders and session_mounts: users' storage folders, and which sessions
//! mount them.

use sqlx::FromRow;

use super::sessions::placeholders;
use super::{Store, StoreResult};

/// A row of `folders`.
#[derive(Debug, Clone, FromRow)]
pub struct FolderRow {
    /// Id (its directory's name on disk).
    pub id: String,
    /// Owner.
    pub owner_id: String,
    /// Name, unique per owner.
    pub name: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// A row of `session_mounts`.
#[derive(Debug, Clone, FromRow)]
pub struct MountRow {
    /// Session.
    pub session_id: String,
    /// Folder (kept after the folder is deleted).
    pub folder_id: String,
    /// The folder's name at launch: the mount point `/home/work/<name>`.
    pub name: String,
    /// 1 when mounted read-only.
    pub read_only: i64,
}

/// A live session that mounts a folder.
#[derive(Debug, Clone, FromRow)]
pub struct LiveMount {
    /// The folder.
    pub folder_id: String,
    /// The session.
    pub session_id: String,
    /// Its name.
    pub session_name: String,
    /// 1 when mounted read-only.
    pub read_only: i64,
}

const FOLDER_COLUMNS: &str = "id, owner_id, name, created_at";

impl Store {
    /// Stores a new folder unless the owner already has `max` (0 = no
    /// limit); false when the quota refused it. One guarded INSERT, so
    /// concurrent creates cannot pass the quota together.
    pub async fn insert_folder(&self, f: &FolderRow, max: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO folders (id, owner_id, name, created_at) SELECT $1, $2, $3, $4
             WHERE $5 = 0 OR (SELECT COUNT(*) FROM folders WHERE owner_id = $2) < $5",
        )
        .bind(&f.id)
        .bind(&f.owner_id)
        .bind(&f.name)
        .bind(f.created_at)
        .bind(max)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An owner's folders, by name.
    pub async fn folders_of(&self, owner_id: &str) -> StoreResult<Vec<FolderRow>> {
        let sql = format!("SELECT {FOLDER_COLUMNS} FROM folders WHERE owner_id = $1 ORDER BY name");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner_id)
            .fetch_all(self.pool())
            .await?)
    }

    /// One folder by id.
    pub async fn folder(&self, id: &str) -> StoreResult<Option<FolderRow>> {
        let sql = format!("SELECT {FOLDER_COLUMNS} FROM folders WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Renames a folder; false when there is no such folder.
    pub async fn rename_folder(&self, id: &str, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE folders SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a folder's row unless a live session mounts it; false when
    /// nothing was deleted.
    pub async fn delete_folder(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM folders WHERE id = $1 AND NOT EXISTS (
               SELECT 1 FROM session_mounts m JOIN sessions s ON s.id = m.session_id
               WHERE m.folder_id = $1 AND s.terminated_at IS NULL)",
        )
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The live sessions that mount any of `folder_ids`.
    pub async fn live_mounts(&self, folder_ids: &[String]) -> StoreResult<Vec<LiveMount>> {
        if folder_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT m.folder_id, s.id AS session_id, s.name AS session_name, m.read_only
             FROM session_mounts m JOIN sessions s ON s.id = m.session_id
             WHERE s.terminated_at IS NULL AND m.folder_id IN ({})
             ORDER BY s.created_at, s.id",
            placeholders(1, folder_ids.len())
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in folder_ids {
            q = q.bind(id.clone());
        }
        Ok(q.fetch_all(self.pool()).await?)
    }

    /// The sessions in `status` that mount a folder (the scheduler's
    /// pending ones: a list of ids of any length would be bound one by one).
    pub async fn mounting_in(
        &self,
        status: berth_shared::sessions::SessionStatus,
    ) -> StoreResult<std::collections::HashSet<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT m.session_id FROM session_mounts m
               JOIN sessions s ON s.id = m.session_id WHERE s.status = $1",
        )
        .bind(status.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// What sessions mounted, by name within each.
    pub async fn mounts_of_many(&self, session_ids: &[String]) -> StoreResult<Vec<MountRow>> {
        if session_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT session_id, folder_id, name, read_only FROM session_mounts
             WHERE session_id IN ({}) ORDER BY name",
            placeholders(1, session_ids.len())
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in session_ids {
            q = q.bind(id.clone());
        }
        Ok(q.fetch_all(self.pool()).await?)
    }
}

//! projects and project_members.

use sqlx::FromRow;

use super::{Store, StoreResult};

/// `(user_id, project name)` of one membership.
#[derive(Debug, Clone, FromRow)]
pub struct MembershipRow {
    /// Member.
    pub user_id: String,
    /// Project name.
    pub name: String,
}

impl Store {
    /// The id of the project with this name.
    pub async fn project_id(&self, name: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT id FROM projects WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Names of the projects one user belongs to, alphabetically.
    pub async fn projects_of(&self, user_id: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT p.name FROM projects p JOIN project_members m ON m.project_id = p.id
             WHERE m.user_id = $1 ORDER BY p.name",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// Every membership, by project name.
    pub async fn all_memberships(&self) -> StoreResult<Vec<MembershipRow>> {
        Ok(sqlx::query_as(
            "SELECT m.user_id, p.name FROM projects p JOIN project_members m ON m.project_id = p.id
             ORDER BY p.name",
        )
        .fetch_all(self.pool())
        .await?)
    }
}

impl Store {
    /// The name of a project.
    pub async fn project_name(&self, id: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT name FROM projects WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(n,)| n))
    }
}

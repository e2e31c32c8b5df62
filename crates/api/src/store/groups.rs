//! resource_groups and resource_group_projects: which projects may use
//! which named set of agents.

use super::{Store, StoreResult};

impl Store {
    /// Resource groups a project may use: (name, description), by name.
    pub async fn resource_groups_for_project(
        &self,
        project_id: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT g.name, g.description FROM resource_groups g
             JOIN resource_group_projects p ON p.resource_group = g.name
             WHERE p.project_id = $1 ORDER BY g.name",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Every group: (name, description, strategy), by name.
    pub async fn resource_groups(&self) -> StoreResult<Vec<(String, String, Option<String>)>> {
        Ok(
            sqlx::query_as("SELECT name, description, strategy FROM resource_groups ORDER BY name")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Names of the projects that may use group `name`, by name.
    pub async fn resource_group_projects(&self, name: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT p.name FROM projects p JOIN resource_group_projects g ON g.project_id = p.id
             WHERE g.resource_group = $1 ORDER BY p.name",
        )
        .bind(name)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// Creates or replaces a group: its description, strategy and the
    /// projects (ids) that may use it, in one transaction.
    pub async fn put_resource_group(
        &self,
        name: &str,
        description: &str,
        strategy: Option<&str>,
        project_ids: &[String],
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO resource_groups (name, description, strategy) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET description = $2, strategy = $3",
        )
        .bind(name)
        .bind(description)
        .bind(strategy)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM resource_group_projects WHERE resource_group = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        for id in project_ids {
            sqlx::query(
                "INSERT INTO resource_group_projects (resource_group, project_id) VALUES ($1, $2)",
            )
            .bind(name)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What still uses group `name`: (agents in it, sessions in it that
    /// have not ended).
    pub async fn resource_group_use(&self, name: &str) -> StoreResult<(i64, i64)> {
        let (agents,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM agents WHERE resource_group = $1")
                .bind(name)
                .fetch_one(self.pool())
                .await?;
        let (sessions,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sessions WHERE resource_group = $1 AND terminated_at IS NULL",
        )
        .bind(name)
        .fetch_one(self.pool())
        .await?;
        Ok((agents, sessions))
    }

    /// Deletes group `name` (its project grants go with it); false when
    /// there is none.
    pub async fn delete_resource_group(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM resource_groups WHERE name = $1")
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

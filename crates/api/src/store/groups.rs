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
}

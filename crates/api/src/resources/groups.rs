//! Resource groups: named sets of agents, and which projects may use them.

use std::collections::BTreeMap;

use berth_shared::auth::UserInfo;
use berth_shared::resources::{ResourceGroup, ResourceGroupList};

use super::{ResourceError, ResourceResult};
use crate::store::{Store, StoreResult};

/// Names (with descriptions) of the groups the user's projects may use.
pub async fn of_user(store: &Store, user: &UserInfo) -> StoreResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for p in &user.projects {
        if let Some(pid) = store.project_id(p).await? {
            out.extend(store.resource_groups_for_project(&pid).await?);
        }
    }
    Ok(out)
}

/// Names of the groups project `project_id` may use, by name.
pub async fn of_project(store: &Store, project_id: &str) -> StoreResult<Vec<String>> {
    Ok(store
        .resource_groups_for_project(project_id)
        .await?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// The groups the caller may launch in, with their agents: those of one
/// project (its members, or admins choosing for a session's owner), else
/// those of all the caller's projects. Another's project is "not found".
pub async fn visible(
    store: &Store,
    user: &UserInfo,
    project: Option<&str>,
) -> ResourceResult<ResourceGroupList> {
    let allowed = match project.filter(|p| !p.is_empty()) {
        Some(p) if user.role.is_admin() || user.projects.iter().any(|m| m == p) => {
            let pid = store
                .project_id(p)
                .await?
                .ok_or(ResourceError::NotFound("project"))?;
            store
                .resource_groups_for_project(&pid)
                .await?
                .into_iter()
                .collect()
        }
        Some(_) => return Err(ResourceError::NotFound("project")),
        None => of_user(store, user).await?,
    };
    let agents = store.agents().await?;
    let items = allowed
        .into_iter()
        .map(|(name, description)| ResourceGroup {
            agents: agents
                .iter()
                .filter(|a| a.resource_group == name)
                .map(|a| a.id.clone())
                .collect(),
            name,
            description,
        })
        .collect();
    Ok(ResourceGroupList { items })
}

//! Resource groups: named sets of agents, and which projects may use them.

use std::collections::BTreeMap;

use berth_shared::auth::UserInfo;
use std::collections::HashMap;

use berth_shared::resources::{PutResourceGroup, ResourceGroup, ResourceGroupList, Strategy};

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
    let own = strategies(store).await?;
    let items = allowed
        .into_iter()
        .map(|(name, description)| ResourceGroup {
            agents: agents
                .iter()
                .filter(|a| a.resource_group == name)
                .map(|a| a.id.clone())
                .collect(),
            strategy: own.get(&name).copied(),
            projects: vec![],
            name,
            description,
        })
        .collect();
    Ok(ResourceGroupList { items })
}

/// Every group with its agents, strategy and projects (for admins).
pub async fn all(store: &Store) -> ResourceResult<ResourceGroupList> {
    let agents = store.agents().await?;
    let mut items = Vec::new();
    for (name, description, strategy) in store.resource_groups().await? {
        items.push(ResourceGroup {
            agents: agents
                .iter()
                .filter(|a| a.resource_group == name)
                .map(|a| a.id.clone())
                .collect(),
            strategy: strategy.as_deref().and_then(Strategy::parse),
            projects: store.resource_group_projects(&name).await?,
            name,
            description,
        });
    }
    Ok(ResourceGroupList { items })
}

/// The groups that have a strategy of their own.
pub async fn strategies(store: &Store) -> StoreResult<HashMap<String, Strategy>> {
    Ok(store
        .resource_groups()
        .await?
        .into_iter()
        .filter_map(|(name, _, s)| Some((name, s.as_deref().and_then(Strategy::parse)?)))
        .collect())
}

/// Creates or replaces a group (after its rules; every project must exist).
pub async fn put(store: &Store, g: &PutResourceGroup) -> ResourceResult<ResourceGroup> {
    g.validate().map_err(ResourceError::Invalid)?;
    let mut ids = Vec::with_capacity(g.projects.len());
    for (i, p) in g.projects.iter().enumerate() {
        match store.project_id(p).await? {
            Some(id) => ids.push(id),
            None => {
                return Err(ResourceError::Invalid(vec![berth_shared::FieldError::new(
                    format!("projects[{i}]"),
                    "unknown_project",
                    format!("There is no project {p}."),
                )]))
            }
        }
    }
    ids.sort();
    ids.dedup();
    store
        .put_resource_group(
            &g.name,
            &g.description,
            g.strategy.map(Strategy::as_str),
            &ids,
        )
        .await?;
    all(store)
        .await?
        .items
        .into_iter()
        .find(|x| x.name == g.name)
        .ok_or(ResourceError::NotFound("resource group"))
}

/// Deletes a group that nothing uses: no agent in it, no session in it
/// that has not ended.
pub async fn delete(store: &Store, name: &str) -> ResourceResult<()> {
    let (agents, sessions) = store.resource_group_use(name).await?;
    if agents > 0 || sessions > 0 {
        return Err(ResourceError::Conflict(format!(
            "Resource group {name} still has {agents} agents and {sessions} sessions that have not ended; move or end them first."
        )));
    }
    if store.delete_resource_group(name).await? {
        Ok(())
    } else {
        Err(ResourceError::NotFound("resource group"))
    }
}

//! What the wizard's pages choose from, fetched from the server: the
//! environments, the resource groups of the session's project, presets,
//! agents, the owner's policy and the caller's folders. The state follows
//! them: the first environment is chosen once the list arrives, a group
//! the project may not use is dropped, folders that no longer exist are
//! dropped from the mounts (and named), and the CPU/memory bounds and the
//! preopen-port rules are recomputed.

use berth_shared::folders::FolderList;
use berth_shared::resources::{
    AgentList, EnvironmentList, ResourceGroupList, ResourcePolicy, ResourcePresetList,
};
use berth_shared::sessions::PortRules;
use leptos::prelude::*;

use super::state::{bounds_for, WizardState};
use crate::api::{self, ApiError};

/// A list fetched once (or again when what it depends on changes).
pub type Res<T> = LocalResource<Result<T, ApiError>>;

/// The lists, shared by the pages.
#[derive(Clone, Copy)]
pub struct Sources {
    /// Environment images and whether manual images are allowed.
    pub envs: Res<EnvironmentList>,
    /// Groups the session's project may use (the assigned owner's).
    pub groups: Res<ResourceGroupList>,
    /// Resource presets.
    pub presets: Res<ResourcePresetList>,
    /// Agents with their capacity.
    pub agents: Res<AgentList>,
    /// The session owner's resource policy.
    pub policy: Res<ResourcePolicy>,
    /// The caller's storage folders.
    pub folders: Res<FolderList>,
    /// Moves to fetch the folders again (one was created).
    pub folders_version: RwSignal<u32>,
    /// Mounts dropped because their folder no longer exists (from a
    /// Recent history entry), to say so on the data page.
    pub missing_folders: RwSignal<Vec<String>>,
    /// Set when a configuration is loaded: its mounts are checked against
    /// the folders once they are known.
    pub check_mounts: RwSignal<bool>,
}

/// The loaded value of a list, if it has arrived (failures read as none:
/// the server judges the launch anyway).
pub fn loaded<T: Clone + Send + Sync + 'static>(r: Res<T>) -> Option<T> {
    r.get().and_then(Result::ok)
}

impl Sources {
    /// Starts the fetches and keeps `state` in step with their answers.
    pub fn load(state: RwSignal<WizardState>) -> Self {
        let project = Memo::new(move |_| state.with(|s| s.project.clone()));
        let owner = Memo::new(move |_| state.with(|s| s.owner_email.clone()));
        let folders_version = RwSignal::new(0u32);
        let live = crate::live::use_live();
        let sources = Sources {
            envs: LocalResource::new(api::environments),
            groups: LocalResource::new(move || api::resource_groups(project.get())),
            presets: LocalResource::new(api::presets),
            // free resources are live: asked again on every session event
            agents: LocalResource::new(move || {
                live.version.track();
                api::agents()
            }),
            policy: LocalResource::new(move || api::resource_policy(owner.get())),
            folders: LocalResource::new(move || {
                folders_version.track();
                api::folders()
            }),
            folders_version,
            missing_folders: RwSignal::new(vec![]),
            check_mounts: RwSignal::new(false),
        };
        sources.drop_unusable_group(state);
        sources.choose_first_environment(state);
        sources.follow_bounds(state);
        sources.drop_missing_folders(state);
        sources
    }

    /// After a configuration is loaded, mounts of folders the caller no
    /// longer has are dropped and named (not before the list is known, and
    /// not on ordinary edits: a folder just created may not be listed yet).
    fn drop_missing_folders(self, state: RwSignal<WizardState>) {
        Effect::new(move || {
            if !self.check_mounts.get() {
                return;
            }
            let Some(list) = loaded(self.folders) else {
                return;
            };
            self.check_mounts.set(false);
            let missing: Vec<String> = state.with_untracked(|s| {
                s.mounts
                    .iter()
                    .filter(|m| !list.items.iter().any(|f| f.name == m.name))
                    .map(|m| m.name.clone())
                    .collect()
            });
            self.missing_folders.set(missing.clone());
            if !missing.is_empty() {
                state.update(|s| s.mounts.retain(|m| !missing.contains(&m.name)));
            }
        });
    }

    /// A group the (new) project may not use is forgotten.
    fn drop_unusable_group(self, state: RwSignal<WizardState>) {
        Effect::new(move || {
            if let Some(list) = loaded(self.groups) {
                let chosen = state.with_untracked(|s| s.resource_group.clone());
                if chosen.is_some_and(|g| !list.items.iter().any(|x| x.name == g)) {
                    state.update(|s| s.resource_group = None);
                }
            }
        });
    }

    /// The first environment and its newest version, once the list arrives.
    fn choose_first_environment(self, state: RwSignal<WizardState>) {
        Effect::new(move || {
            if let Some(list) = loaded(self.envs) {
                state.update(|s| {
                    if s.environment.is_empty() && s.manual_image.is_empty() {
                        if let Some(e) = list.items.first() {
                            s.environment = e.name.clone();
                            s.version = e
                                .versions
                                .first()
                                .map(|v| v.version.clone())
                                .unwrap_or_default();
                        }
                    }
                });
            }
        });
    }

    /// The bounds of CPU and memory follow the image, the group's agents
    /// and the owner's policy, and the preopen-port rules the image and the
    /// server's limit; the state carries them so every page judges alike.
    fn follow_bounds(self, state: RwSignal<WizardState>) {
        Effect::new(move || {
            state.track();
            let (bounds, rules) = state.with_untracked(|s| {
                let envs = loaded(self.envs);
                let version = envs.as_ref().and_then(|l| {
                    l.items
                        .iter()
                        .find(|e| s.manual_image.trim().is_empty() && e.name == s.environment)
                        .and_then(|e| e.versions.iter().find(|v| v.version == s.version))
                        .cloned()
                });
                let rules = PortRules {
                    taken: version
                        .as_ref()
                        .map(|v| v.service_ports.iter().map(|p| p.port).collect())
                        .unwrap_or_default(),
                    max: envs.as_ref().map(|l| l.max_preopen_ports),
                };
                let group = s.resource_group.clone().or_else(|| {
                    loaded(self.groups).and_then(|g| g.items.first().map(|g| g.name.clone()))
                });
                let agents = loaded(self.agents).map(|a| a.items).unwrap_or_default();
                let policy = loaded(self.policy);
                (
                    bounds_for(
                        version.as_ref(),
                        group.as_deref(),
                        s.agent.as_deref(),
                        &agents,
                        policy.as_ref(),
                    )
                    // the sliders bound each kernel of a cluster
                    .per_kernel(
                        s.cluster_size,
                        s.cluster_mode == berth_shared::sessions::ClusterMode::SingleNode,
                    ),
                    rules,
                )
            });
            if state.with_untracked(|s| s.bounds != bounds || s.port_rules != rules) {
                state.update(|s| {
                    s.bounds = bounds;
                    s.port_rules = rules;
                });
            }
        });
    }
}

//! The Resource groups page (admins): every group with its description,
//! scheduling strategy, the projects that may use it and its agents;
//! create, edit (description, strategy, projects) and delete a group
//! nothing uses.

use berth_shared::resources::{PutResourceGroup, ResourceGroup, Strategy};
use berth_shared::FieldError;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::confirm_dialog::{ConfirmAction, ConfirmDialog};
use crate::components::dialog::Modal;
use crate::components::field::{error_message, error_message_of};
use crate::components::loaded::Loaded;
use crate::components::text_field::TextField;
use crate::i18n::*;

/// The page.
#[component]
pub fn GroupsPage() -> impl IntoView {
    let i18n = use_i18n();
    let refresh = RwSignal::new(0u32);
    let bump = move || refresh.update(|n| *n += 1);
    let groups = LocalResource::new(move || {
        refresh.track();
        api::all_resource_groups()
    });
    // Some(None): a new group; Some(Some(g)): editing g
    let editing = RwSignal::new(None::<Option<ResourceGroup>>);
    let deleting = RwSignal::new(None::<ResourceGroup>);
    view! {
        <section class="page" aria-labelledby="groups-title">
            <header class="page-header">
                <h1 id="groups-title" tabindex="-1">{t!(i18n, groups_title)}</h1>
                <button type="button" class="btn btn-primary" id="new-group-button" aria-haspopup="dialog"
                    on:click=move |_| editing.set(Some(None))>{t!(i18n, group_new)}</button>
            </header>
            <div class="page-intro" id="groups-intro">
                <p>{t!(i18n, groups_intro)}</p>
                <ul>
                    <li>{t!(i18n, groups_intro_usable)}</li>
                    <li>{t!(i18n, groups_intro_agents)}</li>
                    <li>{t!(i18n, groups_intro_delete)}</li>
                </ul>
            </div>
            <div class="card">
                <Loaded value=Signal::derive(move || groups.get()) let:list>
                    <table class="admin-table" id="groups-table">
                        <thead><tr>
                            <th scope="col">{t!(i18n, group_name)}</th>
                            <th scope="col">{t!(i18n, group_strategy)}</th>
                            <th scope="col">{t!(i18n, group_projects)}</th>
                            <th scope="col">{t!(i18n, group_agents)}</th>
                            <th scope="col"><span class="sr-only">{t!(i18n, explorer_actions)}</span></th>
                        </tr></thead>
                        <tbody>
                            {list.items.into_iter().map(|g| {
                                let stored = StoredValue::new(g.clone());
                                // usable once projects may use it and it has agents
                                let missing = match (g.projects.is_empty(), g.agents.is_empty()) {
                                    (true, true) => Some(t_string!(i18n, group_unusable_both).to_string()),
                                    (true, false) => Some(t_string!(i18n, group_unusable_projects).to_string()),
                                    (false, true) => Some(t_string!(i18n, group_unusable_agents).to_string()),
                                    (false, false) => None,
                                };
                                // a group with agents is refused: say why instead of offering it
                                let has_agents = !g.agents.is_empty();
                                let strategy = match g.strategy {
                                    Some(Strategy::Dispersed) => t_string!(i18n, strategy_dispersed).to_string(),
                                    Some(Strategy::Concentrated) => t_string!(i18n, strategy_concentrated).to_string(),
                                    None => t_string!(i18n, strategy_default).to_string(),
                                };
                                view! {
                                    <tr id=format!("group-{}", g.name) data-row=format!("group-{}", g.name)>
                                        <th scope="row">
                                            <span>{g.name.clone()}</span>
                                            <span class="muted group-description">{g.description.clone()}</span>
                                            {missing.map(|m| view! { <span class="status status-pending group-unusable">{m}</span> })}
                                        </th>
                                        <td>{strategy}</td>
                                        <td>{g.projects.join(", ")}</td>
                                        <td>{g.agents.join(", ")}</td>
                                        <td class="entry-actions">
                                            <button type="button" class="btn btn-small" id=format!("edit-group-{}", g.name)
                                                aria-haspopup="dialog"
                                                on:click=move |_| editing.set(Some(Some(stored.get_value())))>{t!(i18n, btn_edit)}</button>
                                            <button type="button" class="btn btn-small btn-danger" id=format!("delete-group-{}", g.name)
                                                aria-haspopup="dialog" disabled=has_agents
                                                aria-describedby=has_agents.then(|| format!("delete-group-{}-why", g.name))
                                                on:click=move |_| deleting.set(Some(stored.get_value()))>{t!(i18n, btn_delete)}</button>
                                            {has_agents.then(|| view! {
                                                <span class="muted delete-why" id=format!("delete-group-{}-why", g.name)>{t!(i18n, group_delete_has_agents)}</span>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </Loaded>
            </div>
            <GroupDialog editing=editing on_done=Callback::new(move |_| bump()) />
            <DeleteGroupDialog group=deleting on_done=Callback::new(move |_| bump()) />
        </section>
    }
}

/// Create or edit a group; the server's field errors under each field.
#[component]
fn GroupDialog(
    editing: RwSignal<Option<Option<ResourceGroup>>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let strategy = RwSignal::new(String::new());
    let projects = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<String>);
    let is_new = move || editing.with(|e| matches!(e, Some(None)));
    // fill the form each time it opens
    Effect::new(move |_| {
        if let Some(g) = editing.get() {
            let g = g.unwrap_or(ResourceGroup {
                name: String::new(),
                description: String::new(),
                agents: vec![],
                strategy: None,
                projects: vec![],
            });
            name.set(g.name);
            description.set(g.description);
            strategy.set(
                g.strategy
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            );
            projects.set(g.projects.join(", "));
            errors.set(vec![]);
            failure.set(None);
        }
    });
    let error_of = move |field: &'static str| {
        move || {
            errors.with(|es| {
                es.iter()
                    .find(|e| e.field == field || e.field.starts_with(&format!("{field}[")))
                    .map(|e| error_message_of(i18n, e))
            })
        }
    };
    let close = move || editing.set(None);
    let save = Action::new_unsync(|req: &PutResourceGroup| {
        let req = req.clone();
        async move { api::put_resource_group(&req).await.map(|_| ()) }
    });
    crate::action::settled(save, move |outcome| match outcome {
        Ok(()) => {
            editing.set(None);
            on_done.run(());
        }
        Err(ApiError::Invalid(es)) => errors.set(es),
        Err(e) => failure.set(Some(error_message(i18n, &e))),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = PutResourceGroup {
            name: name.get_untracked().trim().to_string(),
            description: description.get_untracked().trim().to_string(),
            strategy: Strategy::parse(&strategy.get_untracked()),
            projects: projects
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        };
        if let Err(es) = req.validate() {
            errors.set(es);
            return;
        }
        failure.set(None);
        save.dispatch(req);
    };
    view! {
        <Modal open=Signal::derive(move || editing.with(Option::is_some)) on_close=Callback::new(move |_| close())
            id="group-dialog" labelled_by="group-dialog-title">
            <h2 id="group-dialog-title">{move || if is_new() { t_string!(i18n, group_new) } else { t_string!(i18n, group_edit) }}</h2>
            <form on:submit=submit novalidate=true>
                <TextField id="group-name" autocomplete="off" value=name readonly=Signal::derive(move || !is_new())
                    label=Signal::derive(move || t_string!(i18n, group_name).to_string())
                    error=Signal::derive(error_of("name")) />
                <TextField id="group-description" autocomplete="off" value=description
                    label=Signal::derive(move || t_string!(i18n, group_description).to_string())
                    error=Signal::derive(error_of("description")) />
                <div class="field">
                    <label for="group-strategy">{t!(i18n, group_strategy)}</label>
                    <select id="group-strategy" prop:value=move || strategy.get()
                        on:change=move |ev| strategy.set(event_target_value(&ev))>
                        <option value="">{t!(i18n, strategy_default)}</option>
                        <option value="dispersed">{t!(i18n, strategy_dispersed)}</option>
                        <option value="concentrated">{t!(i18n, strategy_concentrated)}</option>
                    </select>
                </div>
                <TextField id="group-projects" autocomplete="off" value=projects
                    label=Signal::derive(move || t_string!(i18n, group_projects).to_string())
                    hint=Signal::derive(move || t_string!(i18n, group_projects_hint).to_string())
                    error=Signal::derive(error_of("projects")) />
                <Show when=move || failure.with(Option::is_some)>
                    <p class="alert alert-error" role="alert">{move || failure.get()}</p>
                </Show>
                <div class="dialog-buttons">
                    <button type="button" class="btn" id="group-cancel" on:click=move |_| close()>{t!(i18n, btn_cancel)}</button>
                    <button type="submit" class="btn btn-primary" id="group-save"
                        disabled=move || save.pending().get()>{t!(i18n, btn_save)}</button>
                </div>
            </form>
        </Modal>
    }
}

/// Asks before deleting a group; says why when the server refuses.
#[component]
fn DeleteGroupDialog(
    group: RwSignal<Option<ResourceGroup>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let name = move || group.with(|g| g.as_ref().map(|g| g.name.clone()).unwrap_or_default());
    let delete: ConfirmAction = Action::new_unsync(move |_: &()| {
        let n = name();
        async move { api::delete_resource_group(&n).await }
    });
    view! {
        <ConfirmDialog open=Signal::derive(move || group.with(Option::is_some))
            on_close=Callback::new(move |_| group.set(None)) id="delete-group"
            title=Signal::derive(move || t_string!(i18n, group_delete_title).to_string())
            body=Signal::derive(move || t_string!(i18n, group_delete_body, name = name()).to_string())
            confirm=Signal::derive(move || t_string!(i18n, btn_delete).to_string())
            action=delete on_done=on_done />
    }
}

//! The Resource groups page (admins): every group with its description,
//! scheduling strategy, the projects that may use it and its agents;
//! create, edit (description, strategy, projects) and delete a group
//! nothing uses; pre-pull an environment to a group's agents and follow
//! each agent's progress.

use berth_shared::bytes::ByteSize;
use berth_shared::images::{PrePull, PrePullAgent, PrePullRequest, PrePullState};
use berth_shared::resources::{PutResourceGroup, ResourceGroup, Strategy};
use berth_shared::FieldError;
use leptos::prelude::set_interval_with_handle;
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
    let pulling_to = RwSignal::new(None::<String>);
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
                                            <button type="button" class="btn btn-small" id=format!("prepull-group-{}", g.name)
                                                aria-haspopup="dialog"
                                                on:click=move |_| pulling_to.set(Some(stored.with_value(|g| g.name.clone())))>{t!(i18n, prepull_button)}</button>
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
            <PrePullDialog group=pulling_to />
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

/// Pre-pulls an environment to every agent of a group, and shows the
/// group's latest pre-pull, agent by agent, while the dialog is open.
#[component]
fn PrePullDialog(group: RwSignal<Option<String>>) -> impl IntoView {
    let i18n = use_i18n();
    let image = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<String>);
    let latest = RwSignal::new(None::<PrePull>);
    let name = move || group.get().unwrap_or_default();
    let envs = LocalResource::new(move || async move {
        api::environments().await.map(|l| {
            l.items
                .into_iter()
                .flat_map(|e| {
                    let display = e.display_name.clone();
                    e.versions
                        .into_iter()
                        .map(move |v| (v.image, format!("{display} {}", v.version)))
                })
                .collect::<Vec<_>>()
        })
    });
    let refresh = move || {
        let Some(g) = group.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Ok(list) = api::prepulls(&g).await {
                if group.get_untracked().as_deref() == Some(g.as_str()) {
                    latest.set(list.items.into_iter().next());
                }
            }
        });
    };
    // fresh each time it opens, then followed while one runs
    Effect::new(move |_| {
        if group.with(Option::is_some) {
            image.set(String::new());
            errors.set(vec![]);
            failure.set(None);
            latest.set(None);
            refresh();
        }
    });
    if let Ok(h) = set_interval_with_handle(
        move || {
            let running = latest.with_untracked(|l| l.as_ref().is_some_and(|p| !p.is_over()));
            if running {
                refresh();
            }
        },
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || h.clear());
    }
    let start = Action::new_unsync(move |req: &PrePullRequest| {
        let (req, g) = (req.clone(), name());
        async move { api::prepull(&g, &req).await }
    });
    crate::action::settled(start, move |outcome| match outcome {
        Ok(job) => latest.set(Some(job)),
        Err(ApiError::Invalid(es)) => errors.set(es),
        Err(e) => failure.set(Some(error_message(i18n, &e))),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = PrePullRequest {
            image: image.get_untracked(),
        };
        if let Err(es) = req.validate() {
            errors.set(es);
            return;
        }
        errors.set(vec![]);
        failure.set(None);
        start.dispatch(req);
    };
    let image_error = move || {
        errors.with(|es| {
            es.iter()
                .find(|e| e.field == "image")
                .map(|e| error_message_of(i18n, e))
        })
    };
    let state_text = move |a: &PrePullAgent| match a.state {
        PrePullState::Waiting => t_string!(i18n, prepull_waiting).to_string(),
        PrePullState::Pulling if a.total > 0 => t_string!(
            i18n,
            prepull_pulling_of,
            done = ByteSize(a.bytes).human(),
            total = ByteSize(a.total).human()
        )
        .to_string(),
        PrePullState::Pulling => t_string!(i18n, prepull_pulling).to_string(),
        PrePullState::Present => t_string!(i18n, prepull_present).to_string(),
        PrePullState::Done => t_string!(i18n, prepull_done).to_string(),
        PrePullState::Failed => t_string!(
            i18n,
            prepull_failed,
            reason = a.error.clone().unwrap_or_default()
        )
        .to_string(),
    };
    view! {
        <Modal open=Signal::derive(move || group.with(Option::is_some)) on_close=Callback::new(move |_| group.set(None))
            id="prepull-dialog" labelled_by="prepull-dialog-title">
            <h2 id="prepull-dialog-title">{move || t_string!(i18n, prepull_title, group = name()).to_string()}</h2>
            <p class="muted">{t!(i18n, prepull_intro)}</p>
            <form on:submit=submit novalidate=true>
                <div class="field">
                    <label for="prepull-image">{t!(i18n, prepull_image)}</label>
                    <select id="prepull-image" prop:value=move || image.get()
                        aria-invalid=move || image_error().is_some().then_some("true")
                        aria-describedby=move || image_error().is_some().then_some("prepull-image-error")
                        on:change=move |ev| image.set(event_target_value(&ev))>
                        <option value="">{t!(i18n, prepull_choose)}</option>
                        {move || envs.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|(image, label)| {
                            view! { <option value=image>{label}</option> }
                        }).collect_view()}
                    </select>
                    <Show when=move || image_error().is_some()>
                        <p class="field-error" id="prepull-image-error">{image_error}</p>
                    </Show>
                </div>
                <Show when=move || failure.with(Option::is_some)>
                    <p class="alert alert-error" role="alert">{move || failure.get()}</p>
                </Show>
                <div class="dialog-buttons">
                    <button type="button" class="btn" id="prepull-close" on:click=move |_| group.set(None)>{t!(i18n, btn_close)}</button>
                    <button type="submit" class="btn btn-primary" id="prepull-start"
                        disabled=move || start.pending().get()>{t!(i18n, prepull_start)}</button>
                </div>
            </form>
            <Show when=move || latest.with(Option::is_some)>
                <table class="admin-table" id="prepull-progress" aria-live="polite">
                    <caption>{move || latest.with(|l| l.as_ref().map(|p| t_string!(i18n, prepull_latest, image = p.image.clone()).to_string()))}</caption>
                    <thead><tr>
                        <th scope="col">{t!(i18n, group_agents)}</th>
                        <th scope="col">{t!(i18n, prepull_state)}</th>
                    </tr></thead>
                    <tbody>
                        {move || latest.get().map(|p| p.agents.into_iter().map(|a| {
                            let text = state_text(&a);
                            view! {
                                <tr id=format!("prepull-agent-{}", a.agent) data-state=format!("{:?}", a.state).to_lowercase()>
                                    <th scope="row">{a.agent.clone()}</th>
                                    <td>{text}</td>
                                </tr>
                            }
                        }).collect_view())}
                    </tbody>
                </table>
            </Show>
        </Modal>
    }
}

//! The session launcher: five pages with a side navigation, Previous /
//! Next / Skip to review, and a review page that launches. The state and
//! its rules live in `wizard::state` (plain Rust, shared rules).

use berth_shared::bytes::{ByteSize, MIB};
use berth_shared::resources::ResourceBounds;
use berth_shared::sessions::SessionType;
use berth_shared::FieldError;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::hooks::use_navigate;

use crate::api::{self, ApiError};
use crate::components::dialog::Modal;
use crate::components::field::field_message;
use crate::components::history::HistoryModal;
use crate::i18n::*;
use crate::wizard::state::{EnvRow, Page, WizardState};

fn page_label(i18n: I18nContext<Locale>, p: Page) -> String {
    match p {
        Page::SessionType => t_string!(i18n, step_type).to_string(),
        Page::Environment => t_string!(i18n, step_environment).to_string(),
        Page::Data => t_string!(i18n, step_data).to_string(),
        Page::Network => t_string!(i18n, step_network).to_string(),
        Page::Review => t_string!(i18n, step_review).to_string(),
    }
}

fn page_id(p: Page) -> &'static str {
    match p {
        Page::SessionType => "type",
        Page::Environment => "environment",
        Page::Data => "data",
        Page::Network => "network",
        Page::Review => "review",
    }
}

/// The wizard.
#[component]
pub fn LaunchPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = RwSignal::new(WizardState::default());
    let page = RwSignal::new(Page::SessionType);
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let history_open = RwSignal::new(false);
    let envs = LocalResource::new(api::environments);
    // the groups of the session's project: the owner's when an admin assigns one
    let project = Memo::new(move |_| state.with(|s| s.project.clone()));
    let groups = LocalResource::new(move || api::resource_groups(project.get()));
    Effect::new(move || {
        if let Some(Ok(list)) = groups.get() {
            let chosen = state.with_untracked(|s| s.resource_group.clone());
            if chosen.is_some_and(|g| !list.items.iter().any(|x| x.name == g)) {
                state.update(|s| s.resource_group = None);
            }
        }
    });
    let presets = LocalResource::new(api::presets);
    let agents = LocalResource::new(api::agents);
    let owner = Memo::new(move |_| state.with(|s| s.owner_email.clone()));
    let policy = LocalResource::new(move || api::resource_policy(owner.get()));

    // The bounds of CPU and memory follow the image, the group's agents and
    // the owner's policy; the state carries them so every page judges alike.
    Effect::new(move || {
        state.track();
        let bounds = state.with_untracked(|s| {
            let version = envs.get().and_then(Result::ok).and_then(|l| {
                l.items
                    .into_iter()
                    .find(|e| s.manual_image.trim().is_empty() && e.name == s.environment)
                    .and_then(|e| e.versions.into_iter().find(|v| v.version == s.version))
            });
            let group = s.resource_group.clone().or_else(|| {
                groups
                    .get()
                    .and_then(Result::ok)
                    .and_then(|g| g.items.first().map(|g| g.name.clone()))
            });
            let agents: Vec<_> = agents
                .get()
                .and_then(Result::ok)
                .map(|a| a.items)
                .unwrap_or_default()
                .into_iter()
                .filter(|a| group.as_ref().is_none_or(|g| &a.resource_group == g))
                .collect();
            let bounds = ResourceBounds {
                min_cpu: version.as_ref().map_or(0.0, |v| v.min_cpu),
                min_mem: version.map(|v| v.min_mem).unwrap_or_default(),
                capacity_cpu: (!agents.is_empty())
                    .then(|| agents.iter().map(|a| a.cpu_total).fold(0.0, f64::max)),
                capacity_mem: agents.iter().map(|a| a.mem_total).max(),
                ..Default::default()
            };
            match policy.get() {
                Some(Ok(p)) => bounds.with_policy(&p),
                _ => bounds,
            }
        });
        if state.with_untracked(|s| s.bounds != bounds) {
            state.update(|s| s.bounds = bounds);
        }
    });

    // Choose the first environment once the list arrives.
    Effect::new(move || {
        if let Some(Ok(list)) = envs.get() {
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

    // What the server said holds until the configuration changes.
    Effect::new(move |_| {
        state.track();
        server_errors.set(vec![]);
    });

    // A field's message: the shared rules first, else what the server said.
    let error = move |field: String| {
        state
            .with(|s| s.error_for(&field))
            .or_else(|| server_errors.with(|e| e.iter().find(|e| e.field == field).cloned()))
            .map(|e| field_message(i18n, &e.code))
    };
    let ctx = Ctx {
        i18n,
        state,
        page,
        error: Callback::new(error),
    };

    let nav = move || {
        Page::ALL
            .iter()
            .copied()
            .map(|p| {
                let has_errors =
                    move || p != Page::Review && state.with(|s| !s.page_errors(p).is_empty());
                view! {
                    <li>
                        <button
                            type="button"
                            class="wizard-step"
                            id=format!("step-{}", page_id(p))
                            class:current=move || page.get() == p
                            class:step-has-error=has_errors
                            aria-current=move || (page.get() == p).then_some("step")
                            on:click=move |_| page.set(p)
                        >
                            <span class="step-number" aria-hidden="true">{p.index() + 1}</span>
                            {move || page_label(i18n, p)}
                        </button>
                    </li>
                }
            })
            .collect_view()
    };

    view! {
        <section class="page launcher" aria-labelledby="launch-title">
            <header class="page-header">
                <h1 id="launch-title">{t!(i18n, launch_title)}</h1>
                <button type="button" class="btn" id="history-button" aria-haspopup="dialog"
                    on:click=move |_| history_open.set(true)>
                    {t!(i18n, history_button)}
                </button>
            </header>
            <HistoryModal open=history_open on_load=Callback::new(move |loaded: WizardState| {
                server_errors.set(vec![]);
                state.update(|s| *s = WizardState { bounds: s.bounds, ..loaded });
                page.set(Page::Review);
            }) />
            <div class="wizard">
                <div class="wizard-main">
                    <h2 class="wizard-page-title" id="wizard-page-title">{move || page_label(i18n, page.get())}</h2>
                    {move || match page.get() {
                        Page::SessionType => view! { <TypePage ctx=ctx /> }.into_any(),
                        Page::Environment => {
                            view! { <EnvironmentPage ctx=ctx envs=envs groups=groups presets=presets agents=agents /> }
                                .into_any()
                        }
                        Page::Data => view! { <p class="placeholder">{t!(i18n, data_placeholder)}</p> }.into_any(),
                        Page::Network => view! { <p class="placeholder">{t!(i18n, network_placeholder)}</p> }.into_any(),
                        Page::Review => view! { <ReviewPage ctx=ctx server_errors=server_errors /> }.into_any(),
                    }}
                    <div class="wizard-buttons">
                        <button type="button" class="btn" id="wizard-prev"
                            disabled=move || page.get().prev().is_none()
                            on:click=move |_| if let Some(p) = page.get().prev() { page.set(p) }>
                            {t!(i18n, btn_previous)}
                        </button>
                        <Show when=move || page.get() != Page::Review>
                            <button type="button" class="btn" id="wizard-skip" on:click=move |_| page.set(Page::Review)>
                                {t!(i18n, btn_skip)}
                            </button>
                            <button type="button" class="btn btn-primary" id="wizard-next"
                                on:click=move |_| if let Some(p) = page.get().next() { page.set(p) }>
                                {t!(i18n, btn_next)}
                            </button>
                        </Show>
                    </div>
                </div>
                <nav class="wizard-nav" aria-label=move || t_string!(i18n, launch_steps).to_string()>
                    <ol>{nav}</ol>
                </nav>
            </div>
        </section>
    }
}

/// What every page needs.
#[derive(Clone, Copy)]
struct Ctx {
    i18n: I18nContext<Locale>,
    state: RwSignal<WizardState>,
    page: RwSignal<Page>,
    error: Callback<String, Option<String>>,
}

/// A message under a field, announced politely.
#[component]
fn FieldMessage(ctx: Ctx, field: &'static str, id: &'static str) -> impl IntoView {
    view! { <p class="field-error" id=id aria-live="polite">{move || ctx.error.run(field.to_string())}</p> }
}

/// A (?) button that shows a help text.
#[component]
fn Help(ctx: Ctx, #[prop(into)] id: String, text: Signal<String>) -> impl IntoView {
    let open = RwSignal::new(false);
    let i18n = ctx.i18n;
    let help_id = format!("{id}-help");
    let help_id2 = help_id.clone();
    view! {
        <button type="button" class="help-btn" id=format!("{id}-help-btn")
            aria-expanded=move || open.get().to_string()
            aria-controls=help_id
            aria-label=move || t_string!(i18n, help).to_string()
            on:click=move |_| open.update(|o| *o = !*o)
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { open.set(false) }>
            "?"
        </button>
        <Show when=move || open.get()>
            <p class="help-text" role="note" id=help_id2.clone()>{move || text.get()}</p>
        </Show>
    }
}

#[component]
fn TypePage(ctx: Ctx) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let is_batch = move || state.with(|s| s.session_type == SessionType::Batch);
    let auth = crate::auth::use_auth();
    let is_admin = move || {
        auth.user
            .with(|u| u.as_ref().is_some_and(|u| u.role.is_admin()))
    };
    let set_type = move |t: SessionType| state.update(|s| s.session_type = t);
    let starts_at_raw = RwSignal::new(String::new());
    let timeout_raw = RwSignal::new(state.with_untracked(|s| {
        s.batch_timeout
            .map(|t| (t / 60).to_string())
            .unwrap_or_default()
    }));
    view! {
        <fieldset class="choices">
            <legend>{t!(i18n, step_type)}</legend>
            <label class="choice">
                <input type="radio" name="session-type" id="type-interactive"
                    prop:checked=move || !is_batch()
                    on:change=move |_| set_type(SessionType::Interactive) />
                <span class="choice-title">{t!(i18n, type_interactive)}</span>
                <span class="choice-help">{t!(i18n, type_interactive_help)}</span>
            </label>
            <label class="choice">
                <input type="radio" name="session-type" id="type-batch"
                    prop:checked=is_batch
                    on:change=move |_| set_type(SessionType::Batch) />
                <span class="choice-title">{t!(i18n, type_batch)}</span>
                <span class="choice-help">{t!(i18n, type_batch_help)}</span>
            </label>
        </fieldset>
        <div class="field">
            <label for="session-name">{t!(i18n, session_name)}</label>
            <input id="session-name" type="text" autocomplete="off"
                prop:value=move || state.with(|s| s.name.clone())
                on:input=move |ev| state.update(|s| s.name = event_target_value(&ev))
                aria-invalid=move || ctx.error.run("name".into()).is_some().to_string()
                aria-describedby="session-name-hint session-name-error" />
            <p class="field-hint" id="session-name-hint">{t!(i18n, session_name_help)}</p>
            <FieldMessage ctx=ctx field="name" id="session-name-error" />
        </div>
        <Show when=is_admin>
            <OwnerFields ctx=ctx />
        </Show>
        <Show when=is_batch>
            <div class="field">
                <label for="startup-command">{t!(i18n, startup_command)}</label>
                <textarea id="startup-command" rows="3"
                    prop:value=move || state.with(|s| s.startup_command.clone())
                    on:input=move |ev| state.update(|s| s.startup_command = event_target_value(&ev))
                    aria-invalid=move || ctx.error.run("startup_command".into()).is_some().to_string()
                    aria-describedby="startup-command-error"></textarea>
                <FieldMessage ctx=ctx field="startup_command" id="startup-command-error" />
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="starts-at">{t!(i18n, starts_at)}</label>
                    <input id="starts-at" type="datetime-local"
                        prop:value=move || starts_at_raw.get()
                        on:input=move |ev| {
                            let raw = event_target_value(&ev);
                            let at = (!raw.is_empty())
                                .then(|| js_sys::Date::new(&raw.as_str().into()).get_time())
                                .filter(|ms| ms.is_finite())
                                .and_then(|ms| chrono::DateTime::from_timestamp_millis(ms as i64));
                            starts_at_raw.set(raw);
                            state.update(|s| s.starts_at = at);
                        } />
                </div>
                <div class="field">
                    <label for="batch-timeout">{t!(i18n, batch_timeout)}</label>
                    <input id="batch-timeout" type="number" min="1" step="1"
                        prop:value=move || timeout_raw.get()
                        on:input=move |ev| {
                            let raw = event_target_value(&ev);
                            let secs = raw.trim().parse::<u64>().ok().map(|m| m * 60);
                            timeout_raw.set(raw);
                            state.update(|s| s.batch_timeout = secs);
                        }
                        aria-describedby="batch-timeout-error" />
                    <FieldMessage ctx=ctx field="batch_timeout" id="batch-timeout-error" />
                </div>
            </div>
        </Show>
    }
}

type Res<T> = LocalResource<Result<T, ApiError>>;

#[component]
fn EnvironmentPage(
    ctx: Ctx,
    envs: Res<berth_shared::resources::EnvironmentList>,
    groups: Res<berth_shared::resources::ResourceGroupList>,
    presets: Res<berth_shared::resources::ResourcePresetList>,
    agents: Res<berth_shared::resources::AgentList>,
) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let env_list = move || {
        envs.get()
            .and_then(Result::ok)
            .map(|l| l.items)
            .unwrap_or_default()
    };
    let allow_manual = move || {
        envs.get()
            .and_then(Result::ok)
            .is_some_and(|l| l.allow_manual_image)
    };
    let versions = move || {
        let name = state.with(|s| s.environment.clone());
        env_list()
            .into_iter()
            .find(|e| e.name == name)
            .map(|e| e.versions)
            .unwrap_or_default()
    };
    let group_names = move || {
        groups
            .get()
            .and_then(Result::ok)
            .map(|g| g.items)
            .unwrap_or_default()
    };
    let max_cpu = move || state.with(|s| s.bounds.max_cpu()).unwrap_or(8.0);
    let min_cpu = move || state.with(|s| s.bounds.min_cpu).max(0.1);
    let max_mem_mib = move || {
        state
            .with(|s| s.bounds.max_mem())
            .map_or(16 * 1024, |m| m.0 / MIB)
    };
    let min_mem_mib = move || state.with(|s| (s.bounds.min_mem.0 / MIB).max(8));
    let env_len = Memo::new(move |_| state.with(|s| s.env.len()));
    // accelerator slots declared by the agents, with the most any one has
    let accel_slots = move || {
        let mut slots: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
        for a in agents
            .get()
            .and_then(Result::ok)
            .map(|a| a.items)
            .unwrap_or_default()
        {
            for (k, v) in a.accelerators_total {
                let e = slots.entry(k).or_default();
                *e = e.max(v);
            }
        }
        slots
    };

    let env_row = move |i: usize| {
        let name_id = format!("env-{i}-name");
        let value_id = format!("env-{i}-value");
        let err_id = format!("env-{i}-error");
        let field = format!("env[{i}].name");
        let field2 = field.clone();
        let message = move || {
            state
                .with(|s| s.error_for(&field))
                .map(|e| field_message(i18n, &e.code))
        };
        view! {
            <div class="env-row">
                <input id=name_id type="text" class="env-name" autocomplete="off"
                    aria-label=move || t_string!(i18n, env_name).to_string()
                    prop:value=move || state.with(|s| s.env.get(i).map(|r| r.name.clone()).unwrap_or_default())
                    on:input=move |ev| state.update(|s| if let Some(r) = s.env.get_mut(i) { r.name = event_target_value(&ev) })
                    aria-invalid=move || state.with(|s| s.error_for(&field2).is_some()).to_string()
                    aria-describedby=err_id.clone() />
                <input id=value_id type="text" class="env-value" autocomplete="off"
                    aria-label=move || t_string!(i18n, env_value).to_string()
                    prop:value=move || state.with(|s| s.env.get(i).map(|r| r.value.clone()).unwrap_or_default())
                    on:input=move |ev| state.update(|s| if let Some(r) = s.env.get_mut(i) { r.value = event_target_value(&ev) }) />
                <button type="button" class="btn btn-icon" id=format!("env-{i}-remove")
                    aria-label=move || t_string!(i18n, env_remove).to_string()
                    on:click=move |_| state.update(|s| { if i < s.env.len() { s.env.remove(i); } })>"−"</button>
                <p class="field-error" id=err_id aria-live="polite">{message}</p>
            </div>
        }
    };

    view! {
        <div class="field-row">
            <div class="field">
                <label for="environment">{t!(i18n, environment)}</label>
                <select id="environment"
                    on:change=move |ev| {
                        let name = event_target_value(&ev);
                        let first = env_list().into_iter().find(|e| e.name == name)
                            .and_then(|e| e.versions.first().map(|v| v.version.clone())).unwrap_or_default();
                        state.update(|s| { s.environment = name; s.version = first; });
                    }
                    aria-describedby="environment-error">
                    {move || env_list().into_iter().map(|e| {
                        let selected = state.with(|s| s.environment == e.name);
                        view! { <option value=e.name.clone() selected=selected>{e.display_name.clone()}" ("{e.name.clone()}")"</option> }
                    }).collect_view()}
                </select>
                <FieldMessage ctx=ctx field="environment" id="environment-error" />
            </div>
            <div class="field">
                <label for="version">{t!(i18n, version)}</label>
                <select id="version" on:change=move |ev| state.update(|s| s.version = event_target_value(&ev))>
                    {move || versions().into_iter().map(|v| {
                        let selected = state.with(|s| s.version == v.version);
                        view! { <option value=v.version.clone() selected=selected>{v.version.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
        </div>
        <Show when=allow_manual>
            <div class="field">
                <label for="manual-image">{t!(i18n, manual_image)}</label>
                <input id="manual-image" type="text" autocomplete="off"
                    prop:value=move || state.with(|s| s.manual_image.clone())
                    on:input=move |ev| state.update(|s| s.manual_image = event_target_value(&ev))
                    aria-describedby="manual-image-error" />
                <FieldMessage ctx=ctx field="image" id="manual-image-error" />
            </div>
        </Show>
        <fieldset class="env-vars">
            <legend>{t!(i18n, env_vars)}</legend>
            {move || (0..env_len.get()).map(env_row).collect_view()}
            <button type="button" class="btn" id="env-add"
                on:click=move |_| state.update(|s| s.env.push(EnvRow::default()))>{t!(i18n, env_add)}</button>
        </fieldset>
        <fieldset class="resources">
            <legend>{t!(i18n, resources)}</legend>
            <div class="field-row">
                <div class="field">
                    <label for="resource-group">{t!(i18n, resource_group)}</label>
                    <select id="resource-group" disabled=move || group_names().len() <= 1
                        on:change=move |ev| state.update(|s| s.resource_group = Some(event_target_value(&ev)))>
                        {move || group_names().into_iter().map(|g| {
                            let selected = state.with(|s| s.resource_group.as_deref() == Some(g.name.as_str()));
                            view! { <option value=g.name.clone() selected=selected>{g.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="preset">{t!(i18n, preset)}</label>
                    <select id="preset" on:change=move |ev| {
                        let name = event_target_value(&ev);
                        if let Some(Ok(list)) = presets.get() {
                            if let Some(p) = list.items.iter().find(|p| p.name == name) {
                                state.update(|s| s.apply_preset(p.cpu, p.mem, p.shmem, &p.accelerators));
                            }
                        }
                    }>
                        <option value="">{t!(i18n, preset_custom)}</option>
                        {move || presets.get().and_then(Result::ok).map(|l| l.items).unwrap_or_default().into_iter().map(|p| {
                            view! { <option value=p.name.clone()>{format!("{} ({} CPU, {})", p.name, p.cpu, p.mem)}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <SliderField ctx=ctx id="cpu" field="resources.cpu" min=Signal::derive(min_cpu) max=Signal::derive(max_cpu) step=0.1
                label=Signal::derive(move || t_string!(i18n, cpu).to_string())
                help=Signal::derive(move || t_string!(i18n, cpu_help).to_string())
                value=Signal::derive(move || state.with(|s| s.cpu))
                set=Callback::new(move |v: f64| state.update(|s| s.cpu = (v * 100.0).round() / 100.0)) />
            <SliderField ctx=ctx id="memory" field="resources.mem" min=Signal::derive(move || min_mem_mib() as f64) max=Signal::derive(move || max_mem_mib() as f64) step=1.0
                label=Signal::derive(move || t_string!(i18n, memory).to_string())
                help=Signal::derive(move || t_string!(i18n, memory_help).to_string())
                value=Signal::derive(move || state.with(|s| s.mem_mib() as f64))
                set=Callback::new(move |v: f64| state.update(|s| s.mem = ByteSize(v.max(0.0) as u64 * MIB))) />
            <SliderField ctx=ctx id="shmem" field="resources.shmem" min=Signal::derive(|| 0.0) max=Signal::derive(move || state.with(|s| s.mem_mib()) as f64) step=1.0
                label=Signal::derive(move || t_string!(i18n, shmem).to_string())
                help=Signal::derive(move || t_string!(i18n, shmem_help).to_string())
                value=Signal::derive(move || state.with(|s| s.shmem_mib() as f64))
                set=Callback::new(move |v: f64| state.update(|s| s.shmem = ByteSize(v.max(0.0) as u64 * MIB))) />
            {move || accel_slots().into_iter().map(|(slot, most)| {
                let (s1, s2, s3) = (slot.clone(), slot.clone(), slot.clone());
                let step = if slot.ends_with("shares") { 0.1 } else { 1.0 };
                view! {
                    <SliderField ctx=ctx id=format!("accel-{}", slot.replace('.', "-")) field=format!("resources.accelerators.{slot}")
                        min=Signal::derive(|| 0.0) max=Signal::derive(move || most) step=step
                        label=Signal::derive(move || t_string!(i18n, accelerator, slot = s1.clone()).to_string())
                        help=Signal::derive(move || t_string!(i18n, accelerator_help).to_string())
                        value=Signal::derive(move || state.with(|s| s.accelerators.get(&s2).copied().unwrap_or(0.0)))
                        set=Callback::new(move |v: f64| state.update(|s| { s.accelerators.insert(s3.clone(), v.max(0.0)); })) />
                }
            }).collect_view()}
            <div class="field-row">
                <div class="field">
                    <label for="session-count">{t!(i18n, session_count)}
                        <Help ctx=ctx id="session-count" text=Signal::derive(move || t_string!(i18n, session_count_help).to_string()) />
                    </label>
                    <input id="session-count" type="number" min="1" max="100" step="1"
                        prop:value=move || state.with(|s| s.count.to_string())
                        on:input=move |ev| if let Ok(n) = event_target_value(&ev).parse() { state.update(|s| s.count = n) }
                        aria-describedby="session-count-error" />
                    <FieldMessage ctx=ctx field="count" id="session-count-error" />
                </div>
                <div class="field">
                    <label for="nthreads">{t!(i18n, nthreads)}
                        <Help ctx=ctx id="nthreads" text=Signal::derive(move || t_string!(i18n, nthreads_help).to_string()) />
                    </label>
                    <input id="nthreads" type="number" min="1" max="1000" step="1"
                        placeholder=move || state.with(|s| (s.cpu.ceil() as u32).max(1).to_string())
                        prop:value=move || state.with(|s| s.nthreads.map(|n| n.to_string()).unwrap_or_default())
                        on:input=move |ev| { let v = event_target_value(&ev).trim().parse().ok(); state.update(|s| s.nthreads = v) }
                        aria-describedby="nthreads-error" />
                    <FieldMessage ctx=ctx field="nthreads" id="nthreads-error" />
                </div>
            </div>
        </fieldset>
    }
}

/// A slider and a number input kept in sync, with a (?) help and the error.
#[component]
fn SliderField(
    ctx: Ctx,
    #[prop(into)] id: String,
    #[prop(into)] field: String,
    label: Signal<String>,
    help: Signal<String>,
    min: Signal<f64>,
    max: Signal<f64>,
    step: f64,
    value: Signal<f64>,
    set: Callback<f64>,
) -> impl IntoView {
    let field2 = field.clone();
    // Only real changes are written back: re-setting the box while someone
    // types "0." would eat the dot.
    let on_input = move |ev| {
        if let Ok(v) = event_target_value(&ev).trim().parse::<f64>() {
            if (v - value.get_untracked()).abs() > 1e-9 {
                set.run(v);
            }
        }
    };
    view! {
        <div class="field slider-field">
            <label for=format!("{id}-number")>{move || label.get()} <Help ctx=ctx id=id.clone() text=help /></label>
            <div class="slider-row">
                <input type="range" id=format!("{id}-range") aria-label=move || label.get()
                    prop:min=move || min.get() prop:max=move || max.get() step=step
                    prop:value=move || value.get() on:input=on_input />
                <input type="number" id=format!("{id}-number") class="slider-number"
                    prop:min=move || min.get() prop:max=move || max.get() step=step
                    prop:value=move || value.get() on:input=on_input
                    aria-invalid=move || ctx.error.run(field.clone()).is_some().to_string()
                    aria-describedby=format!("{id}-error") />
            </div>
            <p class="field-error" id=format!("{id}-error") aria-live="polite">{move || ctx.error.run(field2.clone())}</p>
        </div>
    }
}

#[component]
fn ReviewPage(ctx: Ctx, server_errors: RwSignal<Vec<FieldError>>) -> impl IntoView {
    let Ctx {
        i18n, state, page, ..
    } = ctx;
    let navigate = use_navigate();
    let confirm = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let card = move |p: Page| {
        let errors = move || state.with(|s| s.page_errors(p));
        let lines = move || -> Vec<(String, String)> {
            state.with(|s| match p {
                Page::SessionType => vec![
                    (
                        t_string!(i18n, step_type).to_string(),
                        match s.session_type {
                            SessionType::Interactive => {
                                t_string!(i18n, type_interactive).to_string()
                            }
                            SessionType::Batch => t_string!(i18n, type_batch).to_string(),
                        },
                    ),
                    (
                        t_string!(i18n, session_name).to_string(),
                        if s.name.is_empty() {
                            t_string!(i18n, default_value).to_string()
                        } else {
                            s.name.clone()
                        },
                    ),
                ]
                .into_iter()
                .chain(
                    s.owner_email
                        .clone()
                        .map(|o| (t_string!(i18n, owner_email).to_string(), o)),
                )
                .collect(),
                Page::Environment => vec![
                    (
                        t_string!(i18n, environment).to_string(),
                        if s.manual_image.is_empty() {
                            format!("{}:{}", s.environment, s.version)
                        } else {
                            s.manual_image.clone()
                        },
                    ),
                    (
                        t_string!(i18n, resources).to_string(),
                        format!("{} CPU, {}, /dev/shm {}", s.cpu, s.mem, s.shmem),
                    ),
                    (
                        t_string!(i18n, env_vars).to_string(),
                        if s.env.is_empty() {
                            t_string!(i18n, none).to_string()
                        } else {
                            s.env
                                .iter()
                                .map(|r| r.name.clone())
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                    ),
                    (
                        t_string!(i18n, session_count).to_string(),
                        s.count.to_string(),
                    ),
                ],
                Page::Data => vec![(
                    t_string!(i18n, step_data).to_string(),
                    t_string!(i18n, none).to_string(),
                )],
                Page::Network => vec![(
                    t_string!(i18n, step_network).to_string(),
                    t_string!(i18n, none).to_string(),
                )],
                Page::Review => vec![],
            })
        };
        view! {
            <article class="review-card" id=format!("review-{}", page_id(p)) class:review-error=move || !errors().is_empty()
                aria-labelledby=format!("review-{}-title", page_id(p))>
                <header>
                    <h3 id=format!("review-{}-title", page_id(p))>{move || page_label(i18n, p)}</h3>
                    <button type="button" class="btn btn-small" id=format!("review-{}-edit", page_id(p)) on:click=move |_| page.set(p)>
                        {t!(i18n, btn_edit)}
                    </button>
                </header>
                {move || if errors().is_empty() {
                    view! { <dl>{lines().into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl> }.into_any()
                } else {
                    view! {
                        <div class="review-errors" role="alert">
                            <p>{t!(i18n, review_has_errors)}</p>
                            <ul>{errors().into_iter().map(|e| view! { <li>{field_message(i18n, &e.code)}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any()
                }}
            </article>
        }
    };
    let launch = move || {
        confirm.set(false);
        busy.set(true);
        failure.set(None);
        let req = state.with_untracked(|s| s.to_request());
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = api::create_session(&req).await;
            busy.set(false);
            match result {
                Ok(_) => navigate("/sessions", Default::default()),
                Err(ApiError::Invalid(errs)) => {
                    let first = errs.first().map(|e| Page::of_field(&e.field));
                    server_errors.set(errs);
                    if let Some(p) = first {
                        page.set(p);
                    }
                }
                Err(ApiError::Network(_)) => {
                    failure.set(Some(t_string!(i18n, error_network).to_string()))
                }
                Err(_) => failure.set(Some(t_string!(i18n, error_generic).to_string())),
            }
        });
    };
    let launch = StoredValue::new(launch);
    view! {
        <div class="review-grid">
            {[Page::SessionType, Page::Environment, Page::Data, Page::Network].into_iter().map(card).collect_view()}
        </div>
        <Show when=move || failure.with(Option::is_some)>
            <div class="alert alert-error" role="alert">{move || failure.get()}</div>
        </Show>
        <button type="button" class="btn btn-primary btn-launch" id="launch-button"
            disabled=move || busy.get() || !state.with(|s| s.can_launch())
            on:click=move |_| confirm.set(true)>
            {move || if busy.get() { t_string!(i18n, launching).to_string() } else { t_string!(i18n, btn_launch).to_string() }}
        </button>
        <Modal open=confirm on_close=Callback::new(move |_| confirm.set(false)) id="no-folder-dialog"
            labelled_by="no-folder-title" described_by="no-folder-body">
            <h2 id="no-folder-title">{t!(i18n, no_folder_title)}</h2>
            <p id="no-folder-body">{t!(i18n, no_folder_body)}</p>
            <div class="dialog-buttons">
                <button type="button" class="btn" id="no-folder-cancel" on:click=move |_| confirm.set(false)>
                    {t!(i18n, btn_cancel)}
                </button>
                <button type="button" class="btn btn-primary" id="no-folder-launch" autofocus=true
                    on:click=move |_| launch.with_value(|f| f())>
                    {t!(i18n, btn_launch)}
                </button>
            </div>
        </Modal>
    }
}

/// Admins: launch for another user, found by email; then their project.
#[component]
fn OwnerFields(ctx: Ctx) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let enabled = RwSignal::new(state.with_untracked(|s| s.owner_email.is_some()));
    let email = RwSignal::new(state.with_untracked(|s| s.owner_email.clone().unwrap_or_default()));
    // None: not searched; Some(None): no such user; Some(Some(user)): found
    let found = RwSignal::new(None::<Option<berth_shared::auth::UserInfo>>);
    let search = move || {
        let query = email.get_untracked();
        leptos::task::spawn_local(async move {
            let user = api::find_user(&query)
                .await
                .ok()
                .and_then(|l| l.items.into_iter().next());
            state.update(|s| {
                s.owner_email = user.as_ref().map(|u| u.email.clone());
                s.project = user.as_ref().and_then(|u| u.projects.first().cloned());
            });
            found.set(Some(user));
        });
    };
    let projects =
        move || found.with(|f| f.clone().flatten().map(|u| u.projects).unwrap_or_default());
    view! {
        <div class="owner-fields">
            <label class="switch">
                <input type="checkbox" role="switch" id="owner-toggle"
                    prop:checked=move || enabled.get()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        enabled.set(on);
                        if !on {
                            found.set(None);
                            state.update(|s| { s.owner_email = None; s.project = None; });
                        }
                    } />
                {t!(i18n, owner_toggle)}
            </label>
            <Show when=move || enabled.get()>
                <div class="field">
                    <label for="owner-email">{t!(i18n, owner_email)}</label>
                    <div class="inline-row">
                        <input id="owner-email" type="email" autocomplete="off"
                            prop:value=move || email.get()
                            on:input=move |ev| email.set(event_target_value(&ev))
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); search() }
                            aria-describedby="owner-result" />
                        <button type="button" class="btn" id="owner-search" on:click=move |_| search()>{t!(i18n, owner_search)}</button>
                    </div>
                    <p id="owner-result" class="field-hint" aria-live="polite">
                        {move || match found.get() {
                            None => String::new(),
                            Some(None) => t_string!(i18n, owner_not_found).to_string(),
                            Some(Some(u)) => {
                                let name = if u.full_name.is_empty() { u.email.clone() } else { u.full_name.clone() };
                                t_string!(i18n, owner_found, name = name, key = u.access_key.clone()).to_string()
                            }
                        }}
                    </p>
                    <FieldMessage ctx=ctx field="owner_email" id="owner-email-error" />
                </div>
                <Show when=move || !projects().is_empty()>
                    <div class="field">
                        <label for="owner-project">{t!(i18n, project)}</label>
                        <select id="owner-project" on:change=move |ev| state.update(|s| s.project = Some(event_target_value(&ev)))>
                            {move || projects().into_iter().map(|p| {
                                let selected = state.with(|s| s.project.as_deref() == Some(p.as_str()));
                                view! { <option value=p.clone() selected=selected>{p.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                </Show>
            </Show>
        </div>
    }
}

//! Page 5: a card per page (or its errors) with Edit, and Launch, which
//! asks first when no folder is mounted.

use berth_shared::sessions::{ClusterMode, CreateSessionRequest, SessionType};
use berth_shared::FieldError;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::ctx::{page_label, Ctx};
use super::prediction::PredictionBox;
use super::state::{Page, SECS_PER_MINUTE};
use crate::api::{self, ApiError};
use crate::components::dialog::Modal;
use crate::components::field::error_message_of;
use crate::format::{local_datetime, unbroken};
use crate::i18n::*;

/// What a random session name looks like (the server makes the real one).
const RANDOM_NAME_EXAMPLE: &str = "k3j9x2ab-session";

/// What a request field is called on the wizard's pages.
fn field_label(i18n: leptos_i18n::I18nContext<Locale>, field: &str) -> String {
    let label = match field.split(['[']).next().unwrap_or(field) {
        "name" => t_string!(i18n, session_name),
        "startup_command" => t_string!(i18n, startup_command),
        "starts_at" => t_string!(i18n, review_starts_at),
        "batch_timeout" => t_string!(i18n, review_batch_timeout),
        "owner_email" | "project" => t_string!(i18n, owner_email),
        "count" => t_string!(i18n, session_count),
        "cluster_size" => t_string!(i18n, cluster_size),
        "cluster_mode" => t_string!(i18n, cluster_mode),
        "resources.cpu" => t_string!(i18n, cpu),
        "resources.mem" => t_string!(i18n, memory),
        "resources.shmem" => t_string!(i18n, shmem),
        "image" | "environment" | "version" => t_string!(i18n, environment),
        "resource_group" => t_string!(i18n, resource_group),
        "agent" => t_string!(i18n, agent),
        "mounts" => t_string!(i18n, folders_to_mount),
        "preopen_ports" => t_string!(i18n, preopen_ports),
        f if f.starts_with("env") => t_string!(i18n, env_vars),
        f if f.starts_with("resources.") => t_string!(i18n, resources),
        f => return f.to_string(),
    };
    label.to_string()
}

/// The page.
#[component]
pub fn ReviewPage(
    ctx: Ctx,
    server_errors: RwSignal<Vec<FieldError>>,
    missing_folders: RwSignal<Vec<String>>,
    /// The environments (a customized image reads by its name).
    envs: super::sources::Res<berth_shared::resources::EnvironmentList>,
) -> impl IntoView {
    let Ctx {
        i18n, state, page, ..
    } = ctx;
    let navigate = use_navigate();
    let confirm = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let card = move |p: Page| {
        let errors = move || state.with(|s| s.page_errors(p));
        let lines = move || -> Vec<(String, String)> {
            state.with(|s| match p {
                Page::SessionType => {
                    let mut lines = vec![
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
                            if s.name.trim().is_empty() {
                                t_string!(i18n, name_random, example = RANDOM_NAME_EXAMPLE)
                                    .to_string()
                            } else {
                                s.name.clone()
                            },
                        ),
                    ];
                    if s.session_type == SessionType::Batch {
                        lines.push((
                            t_string!(i18n, startup_command).to_string(),
                            s.startup_command.clone(),
                        ));
                        lines.push((
                            t_string!(i18n, review_starts_at).to_string(),
                            s.starts_at
                                .map(|t| local_datetime(i18n, t))
                                .unwrap_or_else(|| t_string!(i18n, review_asap).to_string()),
                        ));
                        lines.push((
                            t_string!(i18n, review_batch_timeout).to_string(),
                            s.batch_timeout.map_or_else(
                                || t_string!(i18n, review_no_limit).to_string(),
                                |t| {
                                    t_string!(i18n, review_minutes, n = t / SECS_PER_MINUTE)
                                        .to_string()
                                },
                            ),
                        ));
                    }
                    lines.extend(
                        s.owner_email
                            .clone()
                            .map(|o| (t_string!(i18n, owner_email).to_string(), o)),
                    );
                    lines.extend(
                        s.project
                            .clone()
                            .map(|p| (t_string!(i18n, project).to_string(), p)),
                    );
                    lines
                }
                Page::Environment => {
                    // a value never parts from its unit
                    let mut resources = [
                        format!("{} CPU", s.cpu),
                        s.mem.to_string(),
                        format!("/dev/shm {}", s.shmem),
                    ]
                    .map(unbroken)
                    .join(", ");
                    for (slot, n) in s.accelerators.iter().filter(|(_, n)| **n > 0.0) {
                        resources.push_str(&format!(", {}", unbroken(format!("{n} {slot}"))));
                    }
                    let mut lines = vec![(
                        t_string!(i18n, environment).to_string(),
                        if s.manual_image.is_empty() {
                            // a customized image by the name its owner gave it
                            super::sources::loaded(envs)
                                .and_then(|l| l.items.into_iter().find(|e| e.name == s.environment))
                                .filter(|e| {
                                    e.name.starts_with(berth_shared::images::CUSTOMIZED_PREFIX)
                                })
                                .map(|e| e.display_name)
                                .unwrap_or_else(|| format!("{}:{}", s.environment, s.version))
                        } else {
                            s.manual_image.clone()
                        },
                    )];
                    lines.extend(
                        s.resource_group
                            .clone()
                            .map(|g| (t_string!(i18n, resource_group).to_string(), g)),
                    );
                    lines.extend(
                        s.agent
                            .clone()
                            .map(|a| (t_string!(i18n, review_agent).to_string(), a)),
                    );
                    lines.push((t_string!(i18n, resources).to_string(), resources));
                    lines.push((t_string!(i18n, env_vars).to_string(), {
                        let names: Vec<String> = s
                            .env
                            .iter()
                            .filter(|r| !r.name.is_empty())
                            .map(|r| r.name.clone())
                            .collect();
                        if names.is_empty() {
                            t_string!(i18n, none).to_string()
                        } else {
                            names.join(", ")
                        }
                    }));
                    lines.push((
                        t_string!(i18n, session_count).to_string(),
                        s.count.to_string(),
                    ));
                    if s.cluster_size > 1 {
                        let mode = match s.cluster_mode {
                            ClusterMode::SingleNode => t_string!(i18n, cluster_single_node),
                            ClusterMode::MultiNode => t_string!(i18n, cluster_multi_node),
                        };
                        lines.push((
                            t_string!(i18n, cluster).to_string(),
                            t_string!(i18n, cluster_review, mode = mode, size = s.cluster_size)
                                .to_string(),
                        ));
                    }
                    lines
                        .extend(s.nthreads.map(|n| {
                            (t_string!(i18n, review_nthreads).to_string(), n.to_string())
                        }));
                    lines
                }
                Page::Data => vec![(
                    t_string!(i18n, folders_to_mount).to_string(),
                    if s.mounts.is_empty() {
                        t_string!(i18n, none).to_string()
                    } else {
                        s.mounts
                            .iter()
                            .map(|m| {
                                if m.read_only {
                                    t_string!(i18n, mount_read_only, name = m.name.clone())
                                        .to_string()
                                } else {
                                    m.name.clone()
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                )]
                .into_iter()
                .chain(missing_folders.with(|m| {
                    (!m.is_empty())
                        .then(|| (t_string!(i18n, folders_left_out).to_string(), m.join(", ")))
                }))
                .collect(),
                Page::Network => vec![(
                    t_string!(i18n, preopen_ports).to_string(),
                    match s.to_request().preopen_ports {
                        p if p.is_empty() => t_string!(i18n, none).to_string(),
                        p => p.iter().map(u16::to_string).collect::<Vec<_>>().join(", "),
                    },
                )],
                Page::Review => vec![],
            })
        };
        view! {
            <article class="review-card" id=format!("review-{}", p.id()) class:review-error=move || !errors().is_empty()
                aria-labelledby=format!("review-{}-title", p.id())>
                <header>
                    <h3 id=format!("review-{}-title", p.id())>{move || page_label(i18n, p)}</h3>
                    <button type="button" class="btn btn-small" id=format!("review-{}-edit", p.id()) on:click=move |_| page.set(p)
                        aria-label=move || format!("{}: {}", t_string!(i18n, btn_edit), page_label(i18n, p))>
                        {t!(i18n, btn_edit)}
                    </button>
                </header>
                {move || if errors().is_empty() {
                    view! { <dl>{lines().into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl> }.into_any()
                } else {
                    view! {
                        <div class="review-errors" role="alert">
                            <p>{t!(i18n, review_has_errors)}</p>
                            // each line names its field (and the limit it broke)
                            <ul>{errors().into_iter().map(|e| view! { <li>{t_string!(i18n, review_field_error,
                                field = field_label(i18n, &e.field), message = error_message_of(i18n, &e)).to_string()}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any()
                }}
            </article>
        }
    };
    let action = Action::new_unsync(|req: &CreateSessionRequest| {
        let req = req.clone();
        async move { api::create_session(&req).await.map(|_| ()) }
    });
    let busy = action.pending();
    crate::action::settled(action, move |outcome| match outcome {
        Ok(()) => {
            navigate("/sessions", Default::default());
        }
        Err(ApiError::Invalid(errs)) => {
            let first = errs.first().map(|e| Page::of_field(&e.field));
            server_errors.set(errs);
            if let Some(p) = first {
                page.set(p);
            }
        }
        Err(ApiError::Network(_)) => failure.set(Some(t_string!(i18n, error_network).to_string())),
        Err(_) => failure.set(Some(t_string!(i18n, error_generic).to_string())),
    });
    let launch = move || {
        confirm.set(false);
        if busy.get_untracked() {
            return;
        }
        failure.set(None);
        action.dispatch(state.with_untracked(|s| s.to_request()));
    };
    let launch = StoredValue::new(launch);
    view! {
        <div class="review-grid">
            {[Page::SessionType, Page::Environment, Page::Data, Page::Network].into_iter().map(card).collect_view()}
        </div>
        <PredictionBox ctx=ctx />
        <Show when=move || failure.with(Option::is_some)>
            <div class="alert alert-error" role="alert">{move || failure.get()}</div>
        </Show>
        <button type="button" class="btn btn-primary btn-launch" id="launch-button"
            disabled=move || busy.get() || !state.with(|s| s.can_launch())
            on:click=move |_| {
                // launching with nothing mounted asks first: /home/work dies with the session
                if state.with_untracked(|s| s.mounts.is_empty()) {
                    confirm.set(true)
                } else {
                    launch.with_value(|f| f())
                }
            }>
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

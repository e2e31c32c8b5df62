//! The app launcher dialog: one tile per app of a session (its image's
//! services, its preopen ports, the terminal), the two options the server
//! enables (open to public, preferred port), and what opening answered —
//! a new tab for web apps, the exact `ssh`/`sftp` commands with a copy
//! button for SSH, the terminal page for the terminal.

use berth_shared::apps::{AppInfo, AppKind, AppList, AppOpened, AppProtocol, OpenAppRequest};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::api;
use crate::components::customized_images::copy_text;
use crate::components::dialog_targets::{open_terminal, use_dialogs, AppsTarget};
use crate::components::field::error_message;
use crate::i18n::*;

/// What an app is called on its tile.
fn app_label(i18n: I18nContext<Locale>, app: &AppInfo) -> String {
    match (app.kind, app.name.as_str()) {
        (AppKind::Terminal, _) => t_string!(i18n, app_terminal).to_string(),
        (AppKind::Preopen, n) => t_string!(i18n, app_preopen, port = n.to_string()).to_string(),
        (_, "jupyter") => t_string!(i18n, app_jupyter).to_string(),
        (_, "jupyterlab") => t_string!(i18n, app_jupyterlab).to_string(),
        (_, "jupyternotebook") => t_string!(i18n, app_jupyter_notebook).to_string(),
        (_, "sshd") => t_string!(i18n, app_sshd).to_string(),
        // another image's service: its label's name is all we know
        (_, n) => n.to_string(),
    }
}

/// A small glyph per kind of app (decorative; the tile has a text label).
fn app_icon(app: &AppInfo) -> AnyView {
    let path = match (app.protocol, app.name.as_str()) {
        (AppProtocol::Pty, _) => "M4 5h16v14H4zM6 8l4 4-4 4M11 16h6",
        (AppProtocol::Tcp, _) => "M14 4a6 6 0 1 1-4.9 9.5L4 18.6V20h3v-2h2v-2h2l.5-.5A6 6 0 0 1 14 4zm2 3a1.5 1.5 0 1 0 0 3",
        (_, "jupyter" | "jupyterlab" | "jupyternotebook") => "M12 4a8 3 0 1 0 .01 0M4 12a8 3 0 0 0 16 0M12 9a3 3 0 1 0 .01 0",
        _ => "M12 3a9 9 0 1 0 .01 0M3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18",
    };
    view! {
        <svg class="app-icon" aria-hidden="true" viewBox="0 0 24 24" width="28" height="28">
            <path fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" d=path />
        </svg>
    }
    .into_any()
}

/// A command with its copy button.
#[component]
fn CommandLine(#[prop(into)] id: String, command: String) -> impl IntoView {
    let i18n = use_i18n();
    let copied = RwSignal::new(false);
    let text = StoredValue::new(command.clone());
    view! {
        <div class="command-line">
            <code id=id.clone()>{command}</code>
            <button type="button" class="btn btn-small" id=format!("{id}-copy")
                on:click=move |_| { copy_text(&text.get_value()); copied.set(true); }>
                {move || if copied.get() { t_string!(i18n, btn_copied).to_string() } else { t_string!(i18n, btn_copy).to_string() }}
            </button>
        </div>
    }
}

/// The dialog's content for one session.
#[component]
pub fn AppLauncher(target: AppsTarget) -> impl IntoView {
    let i18n = use_i18n();
    let dialogs = use_dialogs();
    let session = StoredValue::new(target);
    let list = LocalResource::new(move || {
        let id = session.with_value(|t| t.session_id.clone());
        async move { api::session_apps(&id).await }
    });
    let public = RwSignal::new(false);
    let use_preferred = RwSignal::new(false);
    let preferred = RwSignal::new(String::new());
    let busy = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let opened = RwSignal::new(None::<AppOpened>);

    let open = move |app: AppInfo| {
        if app.protocol == AppProtocol::Pty {
            session.with_value(|t| open_terminal(&t.session_id, &t.name));
            return;
        }
        // a tab opened after the answer would count as a pop-up: open it now, point it later
        let tab = (app.protocol == AppProtocol::Http)
            .then(|| {
                web_sys::window()
                    .and_then(|w| w.open_with_url_and_target("", "_blank").ok().flatten())
            })
            .flatten();
        let req = OpenAppRequest {
            open_to_public: public.get_untracked(),
            preferred_port: use_preferred
                .get_untracked()
                .then(|| preferred.get_untracked().trim().parse().ok())
                .flatten(),
        };
        let id = session.with_value(|t| t.session_id.clone());
        busy.set(Some(app.name.clone()));
        failure.set(None);
        leptos::task::spawn_local(async move {
            match api::open_app(&id, &app.name, &req).await {
                Ok(answer) => {
                    if let (Some(tab), Some(o)) = (&tab, &answer.app.open) {
                        // the app (another origin) gets no handle on this window
                        let _ = tab.set_opener(&wasm_bindgen::JsValue::NULL);
                        let url = answer.launch_url.as_deref().unwrap_or(&o.url);
                        let _ = tab.location().set_href(url);
                    }
                    opened.try_set(Some(answer));
                    list.refetch();
                }
                Err(e) => {
                    if let Some(tab) = tab {
                        let _ = tab.close();
                    }
                    failure.try_set(Some(error_message(i18n, &e)));
                }
            }
            busy.try_set(None);
        });
    };

    let tiles = move |l: AppList| {
        l.items
            .into_iter()
            .map(|app| {
                let label = app_label(i18n, &app);
                let name = app.name.clone();
                let is_busy = move || busy.with(|b| b.as_deref() == Some(name.as_str()));
                let is_open = app.open.is_some();
                let icon = app_icon(&app);
                let app2 = app.clone();
                view! {
                    <li>
                        <button type="button" class="app-tile" id=format!("app-{}", app.name)
                            class:app-open=is_open aria-busy=move || is_busy().to_string()
                            disabled=move || busy.with(Option::is_some)
                            on:click=move |_| open(app2.clone())>
                            {icon}
                            <span class="app-name">{label}</span>
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    let options = move |l: &AppList| {
        let range = l.preferred_ports;
        let show_public = l.open_to_public;
        view! {
            <fieldset class="app-options">
                <legend>{t!(i18n, app_options)}</legend>
                {show_public.then(|| view! {
                    <label class="check">
                        <input type="checkbox" id="app-public" prop:checked=move || public.get()
                            on:change=move |ev| public.set(event_target_checked(&ev)) />
                        {t!(i18n, app_open_to_public)}
                    </label>
                })}
                {range.map(|(lo, hi)| view! {
                    <div class="inline-row">
                        <label class="check">
                            <input type="checkbox" id="app-use-preferred" prop:checked=move || use_preferred.get()
                                on:change=move |ev| use_preferred.set(event_target_checked(&ev)) />
                            {t!(i18n, app_preferred_port)}
                        </label>
                        <label for="app-preferred-port" class="sr-only">{t!(i18n, app_preferred_port_number)}</label>
                        <input id="app-preferred-port" type="number" min=lo max=hi step="1" class="port-input"
                            placeholder=lo.to_string()
                            disabled=move || !use_preferred.get()
                            prop:value=move || preferred.get()
                            on:input=move |ev| preferred.set(event_target_value(&ev)) />
                        <span class="muted">{t_string!(i18n, app_port_range, lo = lo, hi = hi).to_string()}</span>
                    </div>
                })}
            </fieldset>
        }
    };
    let answer = move || {
        opened.get().map(|a| {
            let Some(o) = a.app.open.clone() else {
                return ().into_any();
            };
            let moved = (a.preferred_port_used == Some(false))
                .then(|| t_string!(i18n, app_port_moved, port = o.port).to_string());
            let ssh = a.ssh_command.clone().zip(a.sftp_command.clone());
            let url = o.url.clone();
            let key_url = session.with_value(|t| format!("/api/v1/sessions/{}/ssh-key", t.session_id));
            view! {
                <div class="app-answer" id="app-answer" role="status">
                    {moved.map(|m| view! { <p class="alert alert-warning" id="app-port-moved">{m}</p> })}
                    {match ssh {
                        Some((ssh, sftp)) => view! {
                            <p>{t!(i18n, app_ssh_intro)}</p>
                            // the key from here (owner only, named as the commands
                            // name it), made private, then the commands
                            <p class="muted">{t!(i18n, app_ssh_key_steps)}</p>
                            <p><a class="btn btn-small" id="ssh-key-download" href=key_url download="id_container">
                                {t!(i18n, app_ssh_key_download)}
                            </a></p>
                            <CommandLine id="ssh-chmod" command="chmod 600 id_container".to_string() />
                            <CommandLine id="ssh-command" command=ssh />
                            <CommandLine id="sftp-command" command=sftp />
                        }.into_any(),
                        None => view! {
                            <p>{t!(i18n, app_opened_at)}" "<a id="app-url" href=url.clone() target="_blank" rel="noopener">{url.clone()}</a></p>
                        }.into_any(),
                    }}
                </div>
            }
            .into_any()
        })
    };
    let title = move || {
        t_string!(
            i18n,
            apps_title,
            name = session.with_value(|t| t.name.clone())
        )
        .to_string()
    };
    view! {
        <h2 id="apps-title">{title}</h2>
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, loading)}</p> }>
            {move || list.get().map(|r| match r {
                Ok(l) => view! {
                    <ul class="app-grid" id="app-grid">{tiles(l.clone())}</ul>
                    {options(&l)}
                }.into_any(),
                Err(e) => view! { <p class="alert alert-error" role="alert">{error_message(i18n, &e)}</p> }.into_any(),
            })}
        </Transition>
        {answer}
        <Show when=move || failure.with(Option::is_some)>
            <p class="alert alert-error" role="alert" id="app-failure">{move || failure.get()}</p>
        </Show>
        <div class="dialog-buttons">
            <button type="button" class="btn" id="apps-close" on:click=move |_| dialogs.apps.set(None)>
                {t!(i18n, btn_close)}
            </button>
        </div>
    }
}

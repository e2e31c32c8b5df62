//! The Sessions page: Running and Finished lists, and the Start button
//! that opens the launcher. (Live updates and the detail panel follow.)

use berth_shared::sessions::SessionType;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::i18n::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Running,
    Finished,
}

/// Tabs over the caller's sessions.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let i18n = use_i18n();
    let tab = RwSignal::new(Tab::Running);
    let list = LocalResource::new(move || {
        let status = match tab.get() {
            Tab::Running => "running",
            Tab::Finished => "finished",
        };
        async move { api::sessions(status).await }
    });
    let tab_button = move |which: Tab, id: &'static str| {
        let selected = move || tab.get() == which;
        view! {
            <button
                type="button"
                role="tab"
                id=id
                class="tab"
                class:active=selected
                aria-selected=move || selected().to_string()
                aria-controls="sessions-panel"
                on:click=move |_| tab.set(which)
            >
                {move || match which {
                    Tab::Running => t_string!(i18n, sessions_running).to_string(),
                    Tab::Finished => t_string!(i18n, sessions_finished).to_string(),
                }}
            </button>
        }
    };
    let rows = move || {
        list.get()
            .and_then(Result::ok)
            .map(|l| l.items)
            .unwrap_or_default()
    };
    view! {
        <section class="page" aria-labelledby="sessions-title">
            <header class="page-header">
                <h1 id="sessions-title">{t!(i18n, sessions_title)}</h1>
                <A href="/launch" attr:class="btn btn-primary" attr:id="start-button">{t!(i18n, sessions_start)}</A>
            </header>
            <div class="tabs" role="tablist" aria-label=move || t_string!(i18n, sessions_tabs).to_string()>
                {tab_button(Tab::Running, "tab-running")}
                {tab_button(Tab::Finished, "tab-finished")}
            </div>
            <div class="card" role="tabpanel" id="sessions-panel"
                 aria-labelledby=move || if tab.get() == Tab::Running { "tab-running" } else { "tab-finished" }>
                <Show when=move || !rows().is_empty() fallback=move || view! {
                    <p class="empty" id="sessions-empty">
                        {move || match tab.get() {
                            Tab::Running => t_string!(i18n, sessions_empty_running).to_string(),
                            Tab::Finished => t_string!(i18n, sessions_empty_finished).to_string(),
                        }}
                    </p>
                }>
                    <table class="sessions-table" id="sessions-table">
                        <thead><tr>
                            <th scope="col">{t!(i18n, col_name)}</th>
                            <th scope="col">{t!(i18n, col_status)}</th>
                            <th scope="col">{t!(i18n, col_type)}</th>
                            <th scope="col">{t!(i18n, col_image)}</th>
                            <th scope="col">{t!(i18n, col_owner)}</th>
                            <th scope="col">{t!(i18n, col_created)}</th>
                        </tr></thead>
                        <tbody>
                            {move || rows().into_iter().map(|s| view! {
                                <tr data-session-id=s.id.clone()>
                                    <td class="session-name">{s.name.clone()}</td>
                                    <td><span class=format!("status status-{}", s.status.as_str().to_lowercase())>{s.status.as_str()}</span></td>
                                    <td>{match s.session_type {
                                        SessionType::Interactive => t_string!(i18n, type_interactive).to_string(),
                                        SessionType::Batch => t_string!(i18n, type_batch).to_string(),
                                    }}</td>
                                    <td>{s.image.clone()}</td>
                                    <td>{s.owner_email.clone()}</td>
                                    <td>{s.created_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </Show>
            </div>
        </section>
    }
}

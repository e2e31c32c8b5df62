//! The Sessions page: Running and Finished lists (filled from step 2 on).

use leptos::prelude::*;

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
    view! {
        <section class="page" aria-labelledby="sessions-title">
            <header class="page-header">
                <h1 id="sessions-title">{t!(i18n, sessions_title)}</h1>
            </header>
            <div class="tabs" role="tablist" aria-label=move || t_string!(i18n, sessions_tabs).to_string()>
                {tab_button(Tab::Running, "tab-running")}
                {tab_button(Tab::Finished, "tab-finished")}
            </div>
            <div class="card" role="tabpanel" id="sessions-panel"
                 aria-labelledby=move || if tab.get() == Tab::Running { "tab-running" } else { "tab-finished" }>
                <p class="empty" id="sessions-empty">
                    {move || match tab.get() {
                        Tab::Running => t_string!(i18n, sessions_empty_running).to_string(),
                        Tab::Finished => t_string!(i18n, sessions_empty_finished).to_string(),
                    }}
                </p>
            </div>
        </section>
    }
}

//! The launcher page: its title, the Recent history button, and the
//! wizard (`crate::wizard`), which holds the pages and their state.

use leptos::prelude::*;

use crate::i18n::*;
use crate::wizard::Wizard;

/// The page.
#[component]
pub fn LaunchPage() -> impl IntoView {
    let i18n = use_i18n();
    let history_open = RwSignal::new(false);
    view! {
        <section class="page launcher" aria-labelledby="launch-title">
            <header class="page-header">
                <h1 id="launch-title" tabindex="-1">{t!(i18n, launch_title)}</h1>
                <button type="button" class="btn" id="history-button" aria-haspopup="dialog"
                    on:click=move |_| history_open.set(true)>
                    {t!(i18n, history_button)}
                </button>
            </header>
            <Wizard history_open=history_open />
        </section>
    }
}

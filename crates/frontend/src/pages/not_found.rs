//! Unknown client routes.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::*;

/// "This page does not exist", with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <main class="centered">
            <h1 tabindex="-1">{t!(i18n, not_found)}</h1>
            <A href="/sessions">{t!(i18n, back_home)}</A>
        </main>
    }
}

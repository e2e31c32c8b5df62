//! Page 3: storage folders to mount (folders arrive with the Data page).

use leptos::prelude::*;

use super::ctx::Ctx;
use crate::i18n::*;

/// The page.
#[component]
pub fn DataPage(ctx: Ctx) -> impl IntoView {
    let i18n = ctx.i18n;
    view! { <p class="placeholder">{t!(i18n, data_placeholder)}</p> }
}

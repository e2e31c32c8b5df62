//! Page 4: ports to open in advance (preopen ports arrive with the apps).

use leptos::prelude::*;

use super::ctx::Ctx;
use crate::i18n::*;

/// The page.
#[component]
pub fn NetworkPage(ctx: Ctx) -> impl IntoView {
    let i18n = ctx.i18n;
    view! { <p class="placeholder">{t!(i18n, network_placeholder)}</p> }
}

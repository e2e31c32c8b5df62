//! What every wizard page shares: the state, the current page, and a
//! field's message; and the two small widgets every page uses.

use leptos::prelude::*;
use leptos_i18n::I18nContext;

use super::state::{Page, WizardState};
use crate::i18n::*;

/// What every page needs.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// Translations.
    pub i18n: I18nContext<Locale>,
    /// The configuration being edited.
    pub state: RwSignal<WizardState>,
    /// The page on screen.
    pub page: RwSignal<Page>,
    /// A field's message (the shared rules first, else what the server said).
    pub error: Callback<String, Option<String>>,
}

/// The translated name of a page.
pub fn page_label(i18n: I18nContext<Locale>, p: Page) -> String {
    match p {
        Page::SessionType => t_string!(i18n, step_type).to_string(),
        Page::Environment => t_string!(i18n, step_environment).to_string(),
        Page::Data => t_string!(i18n, step_data).to_string(),
        Page::Network => t_string!(i18n, step_network).to_string(),
        Page::Review => t_string!(i18n, step_review).to_string(),
    }
}

/// A message under a field, announced politely.
#[component]
pub fn FieldMessage(ctx: Ctx, field: &'static str, id: &'static str) -> impl IntoView {
    view! { <p class="field-error" id=id aria-live="polite">{move || ctx.error.run(field.to_string())}</p> }
}

/// A (?) button that shows a help text.
#[component]
pub fn Help(
    ctx: Ctx,
    #[prop(into)] id: String,
    /// What it helps with, for its accessible name ("Help: CPU").
    label: Signal<String>,
    text: Signal<String>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let i18n = ctx.i18n;
    let help_id = format!("{id}-help");
    let help_id2 = help_id.clone();
    view! {
        <button type="button" class="help-btn" id=format!("{id}-help-btn")
            aria-expanded=move || open.get().to_string()
            aria-controls=help_id
            aria-label=move || format!("{}: {}", t_string!(i18n, help), label.get())
            on:click=move |_| open.update(|o| *o = !*o)
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { open.set(false) }>
            "?"
        </button>
        <Show when=move || open.get()>
            <p class="help-text" role="note" id=help_id2.clone()>{move || text.get()}</p>
        </Show>
    }
}

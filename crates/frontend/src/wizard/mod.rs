//! The session launcher wizard: five pages with a side navigation,
//! Previous / Next / Skip to review, and a review page that launches.
//!
//! `state` is the configuration and its rules as plain Rust (tested
//! natively; the rules are the server's, from `berth-shared`); `sources`
//! fetches what the pages choose from and keeps the state in step; one
//! file per page (`type_page`, `environment_page`, `data_page`,
//! `network_page`, `review_page`); `owner_fields` and `slider_field` are
//! the widgets those pages share; `history` is the Recent history modal.

mod ctx;
mod data_page;
mod env_vars;
mod environment_page;
mod history;
mod network_page;
mod owner_fields;
mod prediction;
mod review_page;
mod slider_field;
mod sources;
pub mod state;
mod type_page;

use berth_shared::FieldError;
use leptos::prelude::*;

use self::ctx::{page_label, Ctx};
use self::data_page::DataPage;
use self::environment_page::EnvironmentPage;
use self::history::HistoryModal;
use self::network_page::NetworkPage;
use self::review_page::ReviewPage;
use self::sources::Sources;
use self::state::{Page, WizardState};
use self::type_page::TypePage;
use crate::components::field::error_message_of;
use crate::i18n::*;

/// The wizard; `history_open` shows the Recent history modal, whose
/// choice is loaded into the review page.
#[component]
pub fn Wizard(history_open: RwSignal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let state = RwSignal::new(WizardState::default());
    let page = RwSignal::new(Page::SessionType);
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let sources = Sources::load(state);

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
            .map(|e| error_message_of(i18n, &e))
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
                            id=format!("step-{}", p.id())
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

    // every page change (Next, Previous, Skip, Edit, the side navigation,
    // a loaded history entry) puts focus on the new page's heading, in view
    Effect::new(move |first: Option<()>| {
        page.track();
        if first.is_some() {
            crate::focus::focus_id("wizard-page-title");
        }
    });

    view! {
        <HistoryModal open=history_open on_load=Callback::new(move |loaded: WizardState| {
            server_errors.set(vec![]);
            state.update(|s| *s = WizardState { bounds: s.bounds, port_rules: s.port_rules.clone(), ..loaded });
            sources.check_mounts.set(true);
            page.set(Page::Review);
        }) />
        <div class="wizard">
            <div class="wizard-main">
                <h2 class="wizard-page-title" id="wizard-page-title" tabindex="-1">{move || page_label(i18n, page.get())}</h2>
                {move || match page.get() {
                    Page::SessionType => view! { <TypePage ctx=ctx /> }.into_any(),
                    Page::Environment => view! { <EnvironmentPage ctx=ctx sources=sources /> }.into_any(),
                    Page::Data => view! { <DataPage ctx=ctx sources=sources /> }.into_any(),
                    Page::Network => view! { <NetworkPage ctx=ctx /> }.into_any(),
                    Page::Review => view! { <ReviewPage ctx=ctx server_errors=server_errors missing_folders=sources.missing_folders envs=sources.envs /> }.into_any(),
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
    }
}

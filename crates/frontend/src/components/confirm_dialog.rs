//! The one confirmation dialog: a question about one thing, Cancel, and a
//! confirm button that runs the call it confirms as a Leptos action. The
//! button is busy (and disabled) while the call runs, so a second click
//! sends nothing; a failure is shown in the dialog; success closes it.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::dialog::Modal;
use crate::components::field::error_message;
use crate::i18n::*;

/// The call a confirmation runs (no input; `Ok` closes the dialog).
pub type ConfirmAction = Action<(), Result<(), ApiError>>;

/// A confirmation. Its elements are `{id}-dialog`, `{id}-title`,
/// `{id}-body`, `{id}-error`, `{id}-cancel` and `{id}-confirm`.
#[component]
pub fn ConfirmDialog(
    /// Open while true.
    #[prop(into)]
    open: Signal<bool>,
    /// Closes it: Cancel, Escape, or the call succeeded.
    on_close: Callback<()>,
    /// The prefix of its element ids.
    id: &'static str,
    /// The question (the dialog's name).
    #[prop(into)]
    title: Signal<String>,
    /// What confirming does, to what.
    #[prop(into)]
    body: Signal<String>,
    /// The confirm button's words.
    #[prop(into)]
    confirm: Signal<String>,
    /// The call confirming runs.
    action: ConfirmAction,
    /// Called once the call succeeded, before the dialog closes.
    #[prop(optional)]
    on_done: Option<Callback<()>>,
    /// The confirm button is not marked dangerous (a launch, not a delete).
    #[prop(optional)]
    safe: bool,
    /// Anything between the body and the buttons (an option, a note).
    #[prop(optional)]
    children: Option<ChildrenFn>,
) -> impl IntoView {
    let i18n = use_i18n();
    let busy = action.pending();
    let failure = RwSignal::new(None::<String>);
    let close = move || {
        failure.set(None);
        on_close.run(());
    };
    // a success closes; a failure stays, shown
    crate::action::settled(action, move |outcome| match outcome {
        Ok(()) => {
            if let Some(done) = on_done {
                done.run(());
            }
            close();
        }
        Err(e) => failure.set(Some(error_message(i18n, &e))),
    });
    view! {
        <Modal open=open on_close=Callback::new(move |_| close()) id=format!("{id}-dialog")
            labelled_by=format!("{id}-title") described_by=format!("{id}-body")>
            <h2 id=format!("{id}-title")>{move || title.get()}</h2>
            <p id=format!("{id}-body")>{move || body.get()}</p>
            {children.clone().map(|c| c())}
            {move || failure.get().map(|f| view! {
                <p class="alert alert-error" role="alert" id=format!("{id}-error")>{f}</p>
            })}
            <div class="dialog-buttons">
                <button type="button" class="btn" id=format!("{id}-cancel") on:click=move |_| close()>
                    {t!(i18n, btn_cancel)}
                </button>
                <button type="button" class="btn" class:btn-danger=!safe class:btn-primary=safe
                    id=format!("{id}-confirm") disabled=move || busy.get() aria-busy=move || busy.get().to_string()
                    on:click=move |_| {
                        if !busy.get_untracked() {
                            action.dispatch(());
                        }
                    }>
                    {move || confirm.get()}
                </button>
            </div>
        </Modal>
    }
}

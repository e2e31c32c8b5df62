//! The terminate confirmation: ends the session on Terminate, shows why
//! when the server refuses.

use leptos::prelude::*;

use crate::api;
use crate::components::dialog_targets::use_dialogs;
use crate::components::field::error_message;
use crate::i18n::*;
use crate::live::use_live;

/// The dialog's content for the session in `Dialogs::terminate`.
#[component]
pub fn TerminateDialog() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let dialogs = use_dialogs();
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let name = move || {
        dialogs
            .terminate
            .with(|t| t.as_ref().map(|t| t.1.clone()).unwrap_or_default())
    };
    let confirm = move |_| {
        let Some((id, _)) = dialogs.terminate.get_untracked() else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::terminate_session(&id).await {
                Ok(_) => {
                    dialogs.terminate.try_set(None);
                    live.version.try_update(|v| *v += 1);
                }
                Err(e) => {
                    failure.try_set(Some(error_message(i18n, &e)));
                }
            }
            busy.try_set(false);
        });
    };
    view! {
        <h2 id="terminate-title">{t!(i18n, terminate_title)}</h2>
        <p id="terminate-body">{move || t_string!(i18n, terminate_body, name = name()).to_string()}</p>
        <Show when=move || failure.with(Option::is_some)>
            <p class="alert alert-error" role="alert">{move || failure.get()}</p>
        </Show>
        <div class="dialog-buttons">
            <button type="button" class="btn" id="terminate-cancel" autofocus=true on:click=move |_| dialogs.terminate.set(None)>
                {t!(i18n, btn_cancel)}
            </button>
            <button type="button" class="btn btn-danger" id="terminate-confirm" disabled=move || busy.get() on:click=confirm>
                {t!(i18n, action_terminate)}
            </button>
        </div>
    }
}

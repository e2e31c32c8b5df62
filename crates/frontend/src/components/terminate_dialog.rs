//! The terminate confirmation: ends the session on Terminate, shows why
//! when the server refuses.

use leptos::prelude::*;

use crate::api;
use crate::components::confirm_dialog::{ConfirmAction, ConfirmDialog};
use crate::components::dialog_targets::use_dialogs;
use crate::i18n::*;
use crate::live::use_live;

/// The dialog for the session in `Dialogs::terminate` (mounted once by
/// the shell's dialogs).
#[component]
pub fn TerminateDialog() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let dialogs = use_dialogs();
    let name = move || {
        dialogs
            .terminate
            .with(|t| t.as_ref().map(|t| t.1.clone()).unwrap_or_default())
    };
    let terminate: ConfirmAction = Action::new_unsync(move |_: &()| {
        let target = dialogs.terminate.get_untracked();
        async move {
            match target {
                Some((id, _)) => api::terminate_session(&id).await.map(|_| ()),
                None => Ok(()),
            }
        }
    });
    view! {
        <ConfirmDialog open=Signal::derive(move || dialogs.terminate.with(Option::is_some))
            on_close=Callback::new(move |_| dialogs.terminate.set(None)) id="terminate"
            title=Signal::derive(move || t_string!(i18n, terminate_title).to_string())
            body=Signal::derive(move || t_string!(i18n, terminate_body, name = name()).to_string())
            confirm=Signal::derive(move || t_string!(i18n, action_terminate).to_string())
            action=terminate
            on_done=Callback::new(move |_| live.version.update(|v| *v += 1)) />
    }
}

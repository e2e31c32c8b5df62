//! The commit dialog: a running session's information and a name field
//! (the shared image-name rule, checked as typed); Save starts saving the
//! session as a customized image. Progress shows in the detail panel, the
//! outcome as a toast.

use berth_shared::images::image_name;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::dialog_targets::use_dialogs;
use crate::components::field::{error_message, field_message};
use crate::components::text_field::TextField;
use crate::i18n::*;
use crate::live::use_live;

/// The dialog's content for the session in `Dialogs::commit`.
#[component]
pub fn CommitDialog() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let dialogs = use_dialogs();
    let name = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let target = move || dialogs.commit.get();
    let local_error = move || {
        name.with(|n| image_name(n.trim()).err())
            .map(|e| field_message(i18n, e.code))
    };
    let action = Action::new_unsync(|(id, n): &(String, String)| {
        let (id, n) = (id.clone(), n.clone());
        async move { api::commit_session(&id, &n).await.map(|_| ()) }
    });
    let busy = action.pending();
    crate::action::settled(action, move |outcome| match outcome {
        Ok(()) => {
            dialogs.commit.set(None);
            live.version.update(|v| *v += 1);
        }
        Err(ApiError::Invalid(errs)) => {
            let msg = errs
                .first()
                .map(|e| {
                    if e.code == "quota_exceeded" {
                        e.message.clone()
                    } else {
                        field_message(i18n, &e.code)
                    }
                })
                .unwrap_or_default();
            failure.set(Some(msg));
        }
        Err(e) => failure.set(Some(error_message(i18n, &e))),
    });
    let save = move || {
        let Some(t) = dialogs.commit.get_untracked() else {
            return;
        };
        if local_error().is_some() || busy.get_untracked() {
            return;
        }
        failure.set(None);
        action.dispatch((t.session_id, name.get_untracked().trim().to_string()));
    };
    view! {
        <h2 id="commit-title">{t!(i18n, commit_title)}</h2>
        <p id="commit-body" class="muted">{t!(i18n, commit_body)}</p>
        {move || target().map(|t| view! {
            <dl class="detail-list commit-info">
                <div class="detail-row"><dt>{t!(i18n, col_name)}</dt><dd id="commit-session">{t.name.clone()}</dd></div>
                <div class="detail-row"><dt>{t!(i18n, col_image)}</dt><dd>{t.image.clone()}</dd></div>
                <div class="detail-row"><dt>{t!(i18n, detail_resources)}</dt><dd>{t.resources.clone()}</dd></div>
            </dl>
        })}
        <form on:submit=move |ev| { ev.prevent_default(); save(); }>
            <TextField id="commit-name" autocomplete="off" autofocus=true maxlength=32 value=name
                label=Signal::derive(move || t_string!(i18n, commit_name).to_string())
                hint=Signal::derive(move || t_string!(i18n, commit_name_help).to_string())
                error=Signal::derive(move || (!name.with(String::is_empty)).then(local_error).flatten()) />
            <Show when=move || failure.with(Option::is_some)>
                <p class="alert alert-error" role="alert" id="commit-failure">{move || failure.get()}</p>
            </Show>
            <div class="dialog-buttons">
                <button type="button" class="btn" id="commit-cancel" on:click=move |_| dialogs.commit.set(None)>
                    {t!(i18n, btn_cancel)}
                </button>
                <button type="submit" class="btn btn-primary" id="commit-save"
                    disabled=move || busy.get() || local_error().is_some()>
                    {t!(i18n, commit_save)}
                </button>
            </div>
        </form>
    }
}

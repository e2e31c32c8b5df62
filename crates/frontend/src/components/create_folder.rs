//! The create-folder dialog (the Data page's "New folder" and the
//! launcher's "+"): the name is checked live by the shared rule; the
//! server's answer (a taken name, the quota) shows under the field.

use berth_shared::folders::{folder_name, FolderInfo};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::dialog::Modal;
use crate::components::field::{error_message, field_message};
use crate::components::text_field::TextField;
use crate::i18n::*;

/// The dialog, shown while `open`; `on_created` gets the new folder.
#[component]
pub fn CreateFolderDialog(open: RwSignal<bool>, on_created: Callback<FolderInfo>) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    let server_error = RwSignal::new(None::<String>);
    let action = Action::new_unsync(|n: &String| {
        let n = n.clone();
        async move { api::create_folder(&n).await }
    });
    let busy = action.pending();
    crate::action::settled(action, move |outcome| match outcome {
        Ok(f) => {
            open.set(false);
            on_created.run(f);
        }
        Err(ApiError::Invalid(errs)) => {
            server_error.set(errs.first().map(|e| field_message(i18n, &e.code)))
        }
        Err(e) => server_error.set(Some(error_message(i18n, &e))),
    });
    Effect::new(move || {
        if open.get() {
            name.set(String::new());
            server_error.set(None);
        }
    });
    // what the server said is about the name it was sent: typing clears it
    Effect::new(move || {
        name.track();
        server_error.set(None);
    });
    let local_error = move || {
        name.with(|n| folder_name(n.trim()).err())
            .filter(|_| name.with(|n| !n.is_empty()))
            .map(|e| field_message(i18n, e.code))
    };
    let create = move || {
        let n = name.get_untracked().trim().to_string();
        if folder_name(&n).is_err() || busy.get_untracked() {
            return;
        }
        server_error.set(None);
        action.dispatch(n);
    };
    view! {
        <Modal open=open on_close=Callback::new(move |_| open.set(false)) id="create-folder-dialog"
            labelled_by="create-folder-title">
            <h2 id="create-folder-title">{t!(i18n, folder_create_title)}</h2>
            <TextField id="folder-name" autocomplete="off" autofocus=true value=name
                label=Signal::derive(move || t_string!(i18n, folder_name).to_string())
                hint=Signal::derive(move || t_string!(i18n, folder_name_help).to_string())
                error=Signal::derive(move || local_error().or_else(|| server_error.get()))
                on_enter=Callback::new(move |_| create()) />
            <div class="dialog-buttons">
                <button type="button" class="btn" id="folder-create-cancel" on:click=move |_| open.set(false)>
                    {t!(i18n, btn_cancel)}
                </button>
                <button type="button" class="btn btn-primary" id="folder-create-confirm"
                    disabled=move || busy.get() || name.with(|n| folder_name(n.trim()).is_err())
                    on:click=move |_| create()>
                    {t!(i18n, btn_create)}
                </button>
            </div>
        </Modal>
    }
}

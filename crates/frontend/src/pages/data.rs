//! The Data page: the user's storage folders (name, created, the live
//! sessions that mount each), create, rename, delete with confirmation;
//! a folder's name opens the explorer.

use berth_shared::folders::{folder_name, FolderInfo};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::confirm_dialog::{ConfirmAction, ConfirmDialog};
use crate::components::create_folder::CreateFolderDialog;
use crate::components::customized_images::CustomizedImages;
use crate::components::dialog_targets::use_dialogs;
use crate::components::field::{error_message, field_message};
use crate::components::loaded::Loaded;
use crate::format::local_datetime;
use crate::i18n::*;
use crate::live::use_live;

/// The page.
#[component]
pub fn DataPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let refresh = RwSignal::new(0u32);
    let creating = RwSignal::new(false);
    let deleting = RwSignal::new(None::<FolderInfo>);
    let folders = LocalResource::new(move || {
        // mounts change with sessions: follow the event stream
        live.version.track();
        refresh.track();
        api::folders()
    });
    let bump = move || refresh.update(|n| *n += 1);
    view! {
        <section class="page" aria-labelledby="data-title">
            <header class="page-header">
                <h1 id="data-title" tabindex="-1">{t!(i18n, data_title)}</h1>
                <button type="button" class="btn btn-primary" id="new-folder-button" aria-haspopup="dialog"
                    on:click=move |_| creating.set(true)>{t!(i18n, folder_new)}</button>
            </header>
            <div class="card">
                <Loaded value=Signal::derive(move || folders.get()) let:list>
                    <p class="muted" id="folder-quota">{
                        let (n, max) = (list.items.len(), list.max_folders);
                        if max == 0 {
                            t_string!(i18n, folder_count, count = n).to_string()
                        } else {
                            t_string!(i18n, folder_quota, count = n, max = max).to_string()
                        }
                    }</p>
                    {if list.items.is_empty() {
                        view! { <p class="empty" id="folders-empty">{t!(i18n, folders_empty)}</p> }.into_any()
                    } else {
                        view! {
                            <table class="folders-table" id="folders-table">
                                <thead><tr>
                                    <th scope="col">{t!(i18n, col_name)}</th>
                                    <th scope="col">{t!(i18n, col_created)}</th>
                                    <th scope="col">{t!(i18n, folder_mounted_in)}</th>
                                    <th scope="col"><span class="sr-only">{t!(i18n, explorer_actions)}</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.items.into_iter().map(|f| view! {
                                        <FolderRow folder=f on_changed=Callback::new(move |_| bump())
                                            on_delete=Callback::new(move |f| deleting.set(Some(f))) />
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                </Loaded>
            </div>
            <CustomizedImages />
            <CreateFolderDialog open=creating on_created=Callback::new(move |_| bump()) />
            <DeleteFolderDialog folder=deleting on_deleted=Callback::new(move |_| bump()) />
        </section>
    }
}

/// One folder: its name opens the explorer; rename inline; delete.
#[component]
fn FolderRow(
    folder: FolderInfo,
    on_changed: Callback<()>,
    on_delete: Callback<FolderInfo>,
) -> impl IntoView {
    let i18n = use_i18n();
    let dialogs = use_dialogs();
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(folder.name.clone());
    let error = RwSignal::new(None::<String>);
    let f = StoredValue::new(folder.clone());
    let action = Action::new_unsync(|(id, name): &(String, String)| {
        let (id, name) = (id.clone(), name.clone());
        async move { api::rename_folder(&id, &name).await.map(|_| ()) }
    });
    crate::action::settled(action, move |outcome| match outcome {
        Ok(()) => {
            editing.set(false);
            on_changed.run(());
        }
        Err(ApiError::Invalid(errs)) => {
            error.set(errs.first().map(|e| field_message(i18n, &e.code)))
        }
        Err(e) => error.set(Some(error_message(i18n, &e))),
    });
    let save = move || {
        let name = draft.get_untracked().trim().to_string();
        if let Err(e) = folder_name(&name) {
            error.set(Some(field_message(i18n, e.code)));
            return;
        }
        if !action.pending().get_untracked() {
            action.dispatch((f.with_value(|f| f.id.clone()), name));
        }
    };
    let mounted = folder
        .mounted_in
        .iter()
        .map(|m| m.session_name.clone())
        .collect::<Vec<_>>();
    view! {
        <tr class="folder-row" data-folder=folder.name.clone() data-row=format!("folder-{}", folder.name)>
            <td>
                <Show when=move || editing.get() fallback=move || view! {
                    <button type="button" class="link-btn folder-open" aria-haspopup="dialog"
                        on:click=move |_| f.with_value(|f| dialogs.open_explorer(f.id.clone(), f.name.clone()))>
                        {f.with_value(|f| f.name.clone())}
                    </button>
                }>
                    <input type="text" class="folder-rename-input" autofocus=true
                        aria-label=move || t_string!(i18n, folder_name).to_string()
                        prop:value=move || draft.get()
                        on:input=move |ev| { draft.set(event_target_value(&ev)); error.set(None); }
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                            "Enter" => save(),
                            "Escape" => editing.set(false),
                            _ => {}
                        } />
                    <button type="button" class="btn btn-small btn-primary folder-rename-save" on:click=move |_| save()>{t!(i18n, btn_save)}</button>
                    <p class="field-error" aria-live="polite">{move || error.get()}</p>
                </Show>
            </td>
            <td class="muted">{local_datetime(i18n, folder.created_at)}</td>
            <td class="folder-mounts">{if mounted.is_empty() { "—".to_string() } else { mounted.join(", ") }}</td>
            <td class="entry-actions">
                <button type="button" class="btn btn-small folder-rename"
                    on:click=move |_| { draft.set(f.with_value(|f| f.name.clone())); editing.set(true); }>
                    {t!(i18n, action_rename)}
                </button>
                <button type="button" class="btn btn-small btn-danger folder-delete" aria-haspopup="dialog"
                    on:click=move |_| on_delete.run(f.get_value())>{t!(i18n, btn_delete)}</button>
            </td>
        </tr>
    }
}

/// Asks before deleting a folder and everything in it; says why when the
/// server refuses (mounted in a live session).
#[component]
fn DeleteFolderDialog(
    folder: RwSignal<Option<FolderInfo>>,
    on_deleted: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let open = Signal::derive(move || folder.with(Option::is_some));
    let name = move || folder.with(|f| f.as_ref().map(|f| f.name.clone()).unwrap_or_default());
    let delete: ConfirmAction = Action::new_unsync(move |_: &()| {
        let f = folder.get_untracked();
        async move {
            match f {
                Some(f) => api::delete_folder(&f.id).await,
                None => Ok(()),
            }
        }
    });
    view! {
        <ConfirmDialog open=open on_close=Callback::new(move |_| folder.set(None)) id="delete-folder"
            title=Signal::derive(move || t_string!(i18n, folder_delete_title).to_string())
            body=Signal::derive(move || t_string!(i18n, folder_delete_body, name = name()).to_string())
            confirm=Signal::derive(move || t_string!(i18n, btn_delete).to_string())
            action=delete on_done=on_deleted />
    }
}

//! Page 3: the storage folders to mount. The caller's folders with a
//! checkbox each and a search box; "+" beside it creates a folder (which is
//! then selected); a read-only toggle per selected folder; a folder's name
//! opens the explorer. Folders of a loaded history entry that no longer
//! exist are named here.

use berth_shared::folders::FolderInfo;
use berth_shared::sessions::Mount;
use leptos::prelude::*;

use super::ctx::{Ctx, FieldMessage};
use super::sources::{loaded, Sources};
use crate::components::create_folder::CreateFolderDialog;
use crate::components::dialog_targets::use_dialogs;
use crate::i18n::*;

/// The page.
#[component]
pub fn DataPage(ctx: Ctx, sources: Sources) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let search = RwSignal::new(String::new());
    let adding = RwSignal::new(false);
    let folders = move || loaded(sources.folders).map(|l| l.items).unwrap_or_default();
    let shown = move || {
        let q = search.with(|s| s.trim().to_lowercase());
        folders()
            .into_iter()
            .filter(|f| q.is_empty() || f.name.to_lowercase().contains(&q))
            .collect::<Vec<_>>()
    };
    let on_created = Callback::new(move |f: FolderInfo| {
        state.update(|s| {
            s.mounts.push(Mount {
                name: f.name,
                read_only: false,
            })
        });
        sources.folders_version.update(|n| *n += 1);
    });
    view! {
        <Show when=move || !sources.missing_folders.with(Vec::is_empty)>
            <p class="alert alert-warning" role="status" id="missing-folders">
                {move || t_string!(i18n, folders_missing, names = sources.missing_folders.get().join(", ")).to_string()}
            </p>
        </Show>
        <div class="field">
            <label for="folder-search">{t!(i18n, folder_search)}</label>
            <div class="inline-row">
                <input id="folder-search" type="search" autocomplete="off"
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev)) />
                <button type="button" class="btn btn-icon" id="folder-add" aria-haspopup="dialog"
                    aria-label=move || t_string!(i18n, folder_new).to_string()
                    on:click=move |_| adding.set(true)>"+"</button>
            </div>
        </div>
        <fieldset class="folder-choices">
            <legend>{t!(i18n, folders_to_mount)}</legend>
            <Show when=move || !folders().is_empty()
                fallback=move || view! { <p class="empty" id="no-folders">{t!(i18n, folders_none_yet)}</p> }>
                <ul id="folder-choices">
                    {move || shown().into_iter().map(|f| view! { <FolderChoice ctx=ctx folder=f /> }).collect_view()}
                </ul>
            </Show>
            <FieldMessage ctx=ctx field="mounts" id="mounts-error" />
        </fieldset>
        <p class="field-hint">{t!(i18n, folders_mount_help)}</p>
        <CreateFolderDialog open=adding on_created=on_created />
    }
}

/// One folder: checkbox, name (opens the explorer), read-only toggle.
#[component]
fn FolderChoice(ctx: Ctx, folder: FolderInfo) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let dialogs = use_dialogs();
    let name = StoredValue::new(folder.name.clone());
    let id = StoredValue::new(folder.id.clone());
    let selected = move || state.with(|s| s.mounts.iter().any(|m| m.name == name.get_value()));
    let read_only = move || {
        state.with(|s| {
            s.mounts
                .iter()
                .any(|m| m.name == name.get_value() && m.read_only)
        })
    };
    let toggle = move |on: bool| {
        state.update(|s| {
            s.mounts.retain(|m| m.name != name.get_value());
            if on {
                s.mounts.push(Mount {
                    name: name.get_value(),
                    read_only: false,
                });
            }
        })
    };
    let set_read_only = move |ro: bool| {
        state.update(|s| {
            if let Some(m) = s.mounts.iter_mut().find(|m| m.name == name.get_value()) {
                m.read_only = ro;
            }
        })
    };
    let check_id = format!("mount-{}", folder.name);
    let ro_id = format!("mount-{}-ro", folder.name);
    view! {
        <li class="folder-choice" data-folder=folder.name.clone()>
            <input type="checkbox" id=check_id.clone() prop:checked=selected
                on:change=move |ev| toggle(event_target_checked(&ev))
                aria-label=move || t_string!(i18n, folder_mount, name = name.get_value()).to_string() />
            <button type="button" class="link-btn folder-open" aria-haspopup="dialog"
                on:click=move |_| dialogs.open_explorer(id.get_value(), name.get_value())>
                {folder.name.clone()}
            </button>
            <Show when=selected>
                <label class="switch folder-ro">
                    <input type="checkbox" id=ro_id.clone() prop:checked=read_only
                        on:change=move |ev| set_read_only(event_target_checked(&ev)) />
                    {t!(i18n, folder_read_only)}
                </label>
            </Show>
        </li>
    }
}

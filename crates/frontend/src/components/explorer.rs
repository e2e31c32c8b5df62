//! The folder explorer (a dialog, opened from the Data page and the
//! launcher): breadcrumb navigation, upload by button or drag and drop with
//! a progress bar per file (cancellable), download, new directory, rename,
//! delete. Errors are shown inline.

use berth_shared::bytes::ByteSize;
use berth_shared::folders::{EntryKind, FolderEntry};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api;
use crate::components::dialog_targets::{use_dialogs, ExplorerTarget};
use crate::components::field::error_message;
use crate::components::loaded::Loaded;
use crate::format::local_datetime;
use crate::i18n::*;
use crate::upload::{self, Upload, UploadState};

/// A change to the folder's files, as the explorer's one action sends it.
#[derive(Debug, Clone)]
enum FileChange {
    /// A new directory at this path.
    MakeDir(String),
    /// An entry renamed or moved.
    Move {
        /// Where it is.
        from: String,
        /// Where it goes.
        to: String,
    },
    /// An entry deleted.
    Delete(String),
}

/// `dir/name` inside the folder.
fn join(dir: &[String], name: &str) -> String {
    dir.iter()
        .map(String::as_str)
        .chain(std::iter::once(name))
        .collect::<Vec<_>>()
        .join("/")
}

/// The explorer's content for `target`.
#[component]
pub fn Explorer(target: ExplorerTarget) -> impl IntoView {
    let i18n = use_i18n();
    let dialogs = use_dialogs();
    let target = StoredValue::new(target);
    let dir = RwSignal::new(Vec::<String>::new());
    let refresh = RwSignal::new(0u32);
    let failure = RwSignal::new(None::<String>);
    let uploads = RwSignal::new(Vec::<Upload>::new());
    let next_upload = StoredValue::new(0u64);
    let new_dir = RwSignal::new(None::<String>);
    let listing = LocalResource::new(move || {
        refresh.track();
        let (id, path) = (target.get_value().id, dir.get().join("/"));
        async move { api::folder_entries(&id, &path).await }
    });
    let report = move |r: Result<(), api::ApiError>| match r {
        Ok(()) => {
            failure.try_set(None);
            refresh.try_update(|n| *n += 1);
        }
        Err(e) => {
            failure.try_set(Some(error_message(i18n, &e)));
        }
    };
    // every change to the folder's files goes through one action
    let change = Action::new_unsync(move |c: &FileChange| {
        let (id, c) = (target.get_value().id, c.clone());
        async move {
            match c {
                FileChange::MakeDir(p) => api::make_dir(&id, &p).await,
                FileChange::Move { from, to } => api::move_entry(&id, &from, &to).await,
                FileChange::Delete(p) => api::delete_entry(&id, &p).await,
            }
        }
    });
    crate::action::settled(change, report);
    let send_files = move |files: web_sys::FileList| {
        for i in 0..files.length() {
            let Some(file) = files.item(i) else { continue };
            next_upload.update_value(|n| *n += 1);
            let path = dir.with_untracked(|d| join(d, &file.name()));
            let url = api::upload_url(&target.get_value().id, &path);
            let on_end = Callback::new(move |_| refresh.try_update(|n| *n += 1).unwrap_or(()));
            let up = upload::start(next_upload.get_value(), &url, file, on_end);
            uploads.update(|u| u.push(up));
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
        if let Some(input) = input {
            if let Some(files) = input.files() {
                send_files(files);
            }
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
            send_files(files);
        }
    };
    let make_dir = move || {
        let Some(name) = new_dir.get_untracked().filter(|n| !n.trim().is_empty()) else {
            return;
        };
        let path = dir.with_untracked(|d| join(d, name.trim()));
        new_dir.set(None);
        change.dispatch(FileChange::MakeDir(path));
        crate::focus::focus_id("explorer-new-dir");
    };
    let cancel_dir = move || {
        new_dir.set(None);
        crate::focus::focus_id("explorer-new-dir");
    };
    // finished uploads belong to the directory they went to: another
    // directory starts with only those still sending
    Effect::new(move |before: Option<Vec<String>>| {
        let now = dir.get();
        if before.is_some_and(|b| b != now) {
            uploads.update(|u| {
                u.retain(|x| matches!(x.state.get_untracked(), UploadState::Sending { .. }))
            });
        }
        now
    });
    let crumbs = move || {
        let parts = dir.get();
        let mut out = vec![(target.get_value().name, 0usize)];
        out.extend(parts.iter().enumerate().map(|(i, p)| (p.clone(), i + 1)));
        out
    };
    view! {
        <h2 id="explorer-title">{move || t_string!(i18n, explorer_title, name = target.get_value().name).to_string()}</h2>
        <nav class="breadcrumb" aria-label=move || t_string!(i18n, explorer_path).to_string()>
            <ol id="explorer-breadcrumb">
                {move || crumbs().into_iter().map(|(label, depth)| view! {
                    <li><button type="button" class="link-btn crumb"
                        on:click=move |_| dir.update(|d| d.truncate(depth))>{label}</button></li>
                }).collect_view()}
            </ol>
        </nav>
        <div class="explorer-toolbar">
            <label class="btn btn-small" for="explorer-file">{t!(i18n, explorer_upload)}</label>
            <input id="explorer-file" class="sr-only" type="file" multiple=true on:change=on_pick />
            <button type="button" class="btn btn-small" id="explorer-new-dir"
                on:click=move |_| {
                    new_dir.set(Some(String::new()));
                    crate::focus::focus_id("explorer-dir-name");
                }>{t!(i18n, explorer_new_dir)}</button>
        </div>
        <Show when=move || new_dir.with(Option::is_some)>
            <div class="inline-row">
                <label class="sr-only" for="explorer-dir-name">{t!(i18n, explorer_dir_name)}</label>
                <input id="explorer-dir-name" type="text" autocomplete="off"
                    placeholder=move || t_string!(i18n, explorer_dir_name).to_string()
                    prop:value=move || new_dir.get().unwrap_or_default()
                    on:input=move |ev| new_dir.set(Some(event_target_value(&ev)))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                        "Enter" => make_dir(),
                        "Escape" => { ev.stop_propagation(); cancel_dir() }
                        _ => {}
                    } />
                <button type="button" class="btn btn-small btn-primary" id="explorer-dir-create"
                    on:click=move |_| make_dir()>{t!(i18n, btn_create)}</button>
                <button type="button" class="btn btn-small" id="explorer-dir-cancel"
                    on:click=move |_| cancel_dir()>{t!(i18n, btn_cancel)}</button>
            </div>
        </Show>
        <Show when=move || failure.with(Option::is_some)>
            <p class="alert alert-error" role="alert" id="explorer-error">{move || failure.get()}</p>
        </Show>
        <div class="drop-zone" id="explorer-drop"
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=on_drop>
            <p class="muted">{t!(i18n, explorer_drop)}</p>
            <Loaded value=Signal::derive(move || listing.get()) let:l>
                {if l.items.is_empty() {
                    view! { <p class="empty" id="explorer-empty">{t!(i18n, explorer_empty)}</p> }.into_any()
                } else { view! {
                    {l.truncated.then(|| view! {
                        <p class="alert alert-warning" id="explorer-truncated" role="status">
                            {t_string!(i18n, explorer_truncated, count = l.items.len()).to_string()}
                        </p>
                    })}
                    <table class="explorer-table" id="explorer-entries">
                        <thead><tr>
                            <th scope="col">{t!(i18n, col_name)}</th>
                            <th scope="col">{t!(i18n, explorer_size)}</th>
                            <th scope="col">{t!(i18n, explorer_modified)}</th>
                            <th scope="col"><span class="sr-only">{t!(i18n, explorer_actions)}</span></th>
                        </tr></thead>
                        <tbody>
                            {l.items.into_iter().map(|e| view! {
                                <EntryRow entry=e target=target dir=dir change=change />
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any() }}
            </Loaded>
        </div>
        <Show when=move || !uploads.with(Vec::is_empty)>
            <ul class="uploads" id="explorer-uploads" aria-live="polite">
                <For each=move || uploads.get() key=|u| u.id let:u>
                    <UploadRow upload=u />
                </For>
            </ul>
        </Show>
        <div class="dialog-buttons">
            <button type="button" class="btn" id="explorer-close" autofocus=true
                on:click=move |_| dialogs.explorer.set(None)>{t!(i18n, btn_close)}</button>
        </div>
    }
}

/// One file's upload: name, progress bar, percent, and Cancel while it runs.
#[component]
fn UploadRow(upload: Upload) -> impl IntoView {
    let i18n = use_i18n();
    let state = upload.state;
    let up = StoredValue::new_local(upload.clone());
    let percent = move || state.with(UploadState::percent);
    view! {
        <li class="upload-row" data-file=upload.name.clone()>
            <span class="upload-name">{upload.name.clone()}</span>
            <progress max="100" prop:value=percent
                aria-label=move || t_string!(i18n, upload_progress, name = up.with_value(|u| u.name.clone())).to_string()></progress>
            <span class="upload-percent">{move || format!("{:.0} %", percent())}</span>
            <span class="upload-state">{move || match state.get() {
                UploadState::Sending { .. } => String::new(),
                UploadState::Done => t_string!(i18n, upload_done).to_string(),
                UploadState::Cancelled => t_string!(i18n, upload_cancelled).to_string(),
                UploadState::Failed(m) if m.is_empty() => t_string!(i18n, error_network).to_string(),
                UploadState::Failed(m) => m,
            }}</span>
            <Show when=move || matches!(state.get(), UploadState::Sending { .. })>
                <button type="button" class="btn btn-small upload-cancel"
                    on:click=move |_| up.with_value(Upload::cancel)>{t!(i18n, btn_cancel)}</button>
            </Show>
        </li>
    }
}

/// One entry: a directory opens, a file downloads; rename and delete.
#[component]
fn EntryRow(
    entry: FolderEntry,
    target: StoredValue<ExplorerTarget>,
    dir: RwSignal<Vec<String>>,
    change: Action<FileChange, Result<(), api::ApiError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let renaming = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let name = StoredValue::new(entry.name.clone());
    let path = move || dir.with_untracked(|d| join(d, &name.get_value()));
    let row = format!("[data-row='entry-{}']", entry.name.replace('\'', ""));
    let (input_css, button_css) = (
        StoredValue::new(format!("{row} .entry-rename-input")),
        StoredValue::new(format!("{row} .entry-rename")),
    );
    let start_rename = move || {
        renaming.set(Some(name.get_value()));
        crate::focus::focus_css(&input_css.get_value());
    };
    let stop_rename = move || {
        renaming.set(None);
        crate::focus::focus_css(&button_css.get_value());
    };
    let rename = move || {
        let Some(new) = renaming.get_untracked().filter(|n| !n.trim().is_empty()) else {
            return;
        };
        if new.trim() == name.get_value() {
            return stop_rename();
        }
        let (from, to) = (path(), dir.with_untracked(|d| join(d, new.trim())));
        renaming.set(None);
        change.dispatch(FileChange::Move { from, to });
        // the row comes back under its new name
        crate::focus::focus_css_kept(&format!(
            "[data-row='entry-{}'] .entry-rename",
            new.trim().replace('\'', "")
        ));
    };
    let delete = move || {
        confirming.set(false);
        change.dispatch(FileChange::Delete(path()));
    };
    let kind = entry.kind;
    let label = match kind {
        EntryKind::Dir => t_string!(i18n, explorer_kind_dir).to_string(),
        EntryKind::Symlink => t_string!(i18n, explorer_kind_link).to_string(),
        _ => String::new(),
    };
    let opener = move || {
        match kind {
        EntryKind::Dir => view! {
            <button type="button" class="link-btn entry-open"
                on:click=move |_| dir.update(|d| d.push(name.get_value()))>{name.get_value()}</button>
        }.into_any(),
        EntryKind::File => view! {
            <a class="entry-download" href=api::download_url(&target.get_value().id, &path())
                download=name.get_value()>{name.get_value()}</a>
        }.into_any(),
        _ => view! { <span>{name.get_value()}</span> }.into_any(),
    }
    };
    view! {
        <tr class="entry" data-name=entry.name.clone() data-row=format!("entry-{}", entry.name)>
            <td>
                <Show when=move || renaming.with(Option::is_some) fallback=opener>
                    <input type="text" class="entry-rename-input" autocomplete="off" spellcheck="false"
                        aria-label=move || format!("{}: {}", t_string!(i18n, explorer_rename), name.get_value())
                        prop:value=move || renaming.get().unwrap_or_default()
                        on:input=move |ev| renaming.set(Some(event_target_value(&ev)))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                            "Enter" => rename(),
                            "Escape" => { ev.stop_propagation(); stop_rename() }
                            _ => {}
                        } />
                </Show>
                {(!label.is_empty()).then(|| view! { <span class="muted entry-kind">{label.clone()}</span> })}
            </td>
            <td class="muted">{(kind == EntryKind::File).then(|| ByteSize(entry.size).to_string())}</td>
            <td class="muted">{entry.modified.map(|t| local_datetime(i18n, t))}</td>
            <td class="entry-actions">
                <Show when=move || renaming.with(Option::is_none) fallback=move || view! {
                    <button type="button" class="btn btn-small btn-primary entry-rename-save"
                        on:click=move |_| rename()>{t!(i18n, btn_save)}</button>
                    <button type="button" class="btn btn-small entry-rename-cancel"
                        on:click=move |_| stop_rename()>{t!(i18n, btn_cancel)}</button>
                }>
                <Show when=move || confirming.get() fallback=move || view! {
                    <button type="button" class="btn btn-small entry-rename"
                        on:click=move |_| start_rename()>{t!(i18n, explorer_rename)}</button>
                    <button type="button" class="btn btn-small btn-danger entry-delete"
                        on:click=move |_| confirming.set(true)>{t!(i18n, btn_delete)}</button>
                }>
                    <span>{move || t_string!(i18n, explorer_delete_confirm, name = name.get_value()).to_string()}</span>
                    <button type="button" class="btn btn-small btn-danger entry-delete-yes"
                        on:click=move |_| delete()>{t!(i18n, btn_delete)}</button>
                    <button type="button" class="btn btn-small"
                        on:click=move |_| confirming.set(false)>{t!(i18n, btn_cancel)}</button>
                </Show>
                </Show>
            </td>
        </tr>
    }
}

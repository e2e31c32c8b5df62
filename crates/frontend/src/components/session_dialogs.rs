//! The dialogs every page can open — the app launcher, the commit dialog,
//! the log viewer, the terminate confirmation and the folder explorer —
//! mounted once by the shell; what opens them is `dialog_targets`. The
//! terminal is a page of its own, opened in a new tab.

use leptos::prelude::*;

use crate::components::app_launcher::AppLauncher;
use crate::components::commit_dialog::CommitDialog;
use crate::components::dialog::Modal;
use crate::components::dialog_targets::use_dialogs;
use crate::components::explorer::Explorer;
use crate::components::log_viewer::LogViewer;
use crate::components::terminate_dialog::TerminateDialog;

/// The dialogs; mounted once by the shell.
#[component]
pub fn SessionDialogs() -> impl IntoView {
    let dialogs = use_dialogs();
    let apps_open = Signal::derive(move || dialogs.apps.with(Option::is_some));
    let commit_open = Signal::derive(move || dialogs.commit.with(Option::is_some));
    let logs_open = Signal::derive(move || dialogs.logs.with(Option::is_some));
    let explorer_open = Signal::derive(move || dialogs.explorer.with(Option::is_some));
    view! {
        <Modal open=apps_open on_close=Callback::new(move |_| dialogs.apps.set(None)) id="apps-dialog"
            labelled_by="apps-title">
            {move || dialogs.apps.get().map(|t| view! { <AppLauncher target=t /> })}
        </Modal>
        <Modal open=commit_open on_close=Callback::new(move |_| dialogs.commit.set(None)) id="commit-dialog"
            labelled_by="commit-title" described_by="commit-body">
            <CommitDialog />
        </Modal>
        <Modal open=logs_open on_close=Callback::new(move |_| dialogs.logs.set(None)) id="log-dialog"
            labelled_by="log-title" class="dialog-wide">
            {move || dialogs.logs.get().map(|t| view! { <LogViewer target=t /> })}
        </Modal>
        <TerminateDialog />
        <Modal open=explorer_open on_close=Callback::new(move |_| dialogs.explorer.set(None)) id="explorer-dialog"
            labelled_by="explorer-title" class="dialog-wide">
            {move || dialogs.explorer.get().map(|t| view! { <Explorer target=t /> })}
        </Modal>
    }
}

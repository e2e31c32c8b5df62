//! The dialogs every page can open — the app launcher, the commit dialog,
//! the log viewer, the terminate confirmation and the folder explorer — and the context that
//! opens them: toasts, the detail panel, the sessions list's Control
//! column, the Data page and the launcher set a target, the shell shows
//! the dialog. The terminal is a page of its own, opened in a new tab.

use leptos::prelude::*;

use crate::components::app_launcher::AppLauncher;
use crate::components::commit_dialog::CommitDialog;
use crate::components::dialog::Modal;
use crate::components::explorer::{Explorer, ExplorerTarget};
use crate::components::log_viewer::{LogTarget, LogViewer};
use crate::components::terminate_dialog::TerminateDialog;

/// The session the app launcher shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppsTarget {
    /// Its id.
    pub session_id: String,
    /// Its name (the dialog's title).
    pub name: String,
}

/// The session the commit dialog saves: what it shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitTarget {
    /// Its id.
    pub session_id: String,
    /// Its name.
    pub name: String,
    /// Its image.
    pub image: String,
    /// Its resources, as the detail panel writes them.
    pub resources: String,
}

/// Opens a session's terminal page in a new tab.
pub fn open_terminal(session_id: &str, name: &str) {
    let query = js_sys::encode_uri_component(name);
    let url = format!("/static/terminal.html?session={session_id}&name={query}");
    if let Some(w) = web_sys::window() {
        let _ = w.open_with_url_and_target(&url, "_blank");
    }
}

/// Which session each dialog is about, when open.
#[derive(Debug, Clone, Copy)]
pub struct Dialogs {
    /// The app launcher's session.
    pub apps: RwSignal<Option<AppsTarget>>,
    /// The session the commit dialog saves.
    pub commit: RwSignal<Option<CommitTarget>>,
    /// The log viewer's session.
    pub logs: RwSignal<Option<LogTarget>>,
    /// The session the terminate dialog asks about: (id, name).
    pub terminate: RwSignal<Option<(String, String)>>,
    /// The folder the explorer shows.
    pub explorer: RwSignal<Option<ExplorerTarget>>,
}

impl Dialogs {
    /// Provides the context, both dialogs closed.
    pub fn provide() -> Self {
        let dialogs = Dialogs {
            apps: RwSignal::new(None),
            commit: RwSignal::new(None),
            logs: RwSignal::new(None),
            terminate: RwSignal::new(None),
            explorer: RwSignal::new(None),
        };
        provide_context(dialogs);
        dialogs
    }

    /// Opens the log viewer on a session (its main kernel when `kernel`
    /// is `None`).
    pub fn show_logs(&self, session_id: String, name: String, kernel: Option<String>) {
        self.logs.set(Some(LogTarget {
            session_id,
            name,
            kernel,
        }));
    }

    /// Opens the app launcher on a session.
    pub fn open_apps(&self, session_id: String, name: String) {
        self.apps.set(Some(AppsTarget { session_id, name }));
    }

    /// Opens the folder explorer on a folder.
    pub fn open_explorer(&self, id: String, name: String) {
        self.explorer.set(Some(ExplorerTarget { id, name }));
    }

    /// Asks whether to terminate a session.
    pub fn ask_terminate(&self, session_id: String, name: String) {
        self.terminate.set(Some((session_id, name)));
    }
}

/// The context (provided by the shell).
pub fn use_dialogs() -> Dialogs {
    expect_context::<Dialogs>()
}

/// The dialogs; mounted once by the shell.
#[component]
pub fn SessionDialogs() -> impl IntoView {
    let dialogs = use_dialogs();
    let apps_open = Signal::derive(move || dialogs.apps.with(Option::is_some));
    let commit_open = Signal::derive(move || dialogs.commit.with(Option::is_some));
    let logs_open = Signal::derive(move || dialogs.logs.with(Option::is_some));
    let terminate_open = Signal::derive(move || dialogs.terminate.with(Option::is_some));
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
        <Modal open=terminate_open on_close=Callback::new(move |_| dialogs.terminate.set(None)) id="terminate-dialog"
            labelled_by="terminate-title" described_by="terminate-body">
            <TerminateDialog />
        </Modal>
        <Modal open=explorer_open on_close=Callback::new(move |_| dialogs.explorer.set(None)) id="explorer-dialog"
            labelled_by="explorer-title" class="dialog-wide">
            {move || dialogs.explorer.get().map(|t| view! { <Explorer target=t /> })}
        </Modal>
    }
}

//! The dialogs every page can open — the log viewer, the terminate
//! confirmation and the folder explorer — and the context that opens them:
//! toasts, the detail panel, the Data page and the launcher set a target,
//! the shell shows the dialog.

use leptos::prelude::*;

use crate::components::dialog::Modal;
use crate::components::explorer::{Explorer, ExplorerTarget};
use crate::components::log_viewer::{LogTarget, LogViewer};
use crate::components::terminate_dialog::TerminateDialog;

/// Which session each dialog is about, when open.
#[derive(Debug, Clone, Copy)]
pub struct Dialogs {
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

/// Both dialogs; mounted once by the shell.
#[component]
pub fn SessionDialogs() -> impl IntoView {
    let dialogs = use_dialogs();
    let logs_open = Signal::derive(move || dialogs.logs.with(Option::is_some));
    let terminate_open = Signal::derive(move || dialogs.terminate.with(Option::is_some));
    let explorer_open = Signal::derive(move || dialogs.explorer.with(Option::is_some));
    view! {
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

//! Which session or folder each shared dialog is about, and the context
//! that opens them: toasts, the detail panel, the sessions list's Control
//! column, the Data page and the launcher set a target; the shell's
//! `SessionDialogs` shows the dialog. The dialogs read their target from
//! here, so none of them imports the host that mounts it.

use leptos::prelude::*;

/// A session the log viewer shows.
#[derive(Debug, Clone, PartialEq)]
pub struct LogTarget {
    /// Session id.
    pub session_id: String,
    /// Session name (the title and the file name).
    pub name: String,
    /// Kernel id; the main kernel when `None`.
    pub kernel: Option<String>,
}

/// A folder the explorer shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplorerTarget {
    /// Folder id.
    pub id: String,
    /// Folder name (the breadcrumb's root).
    pub name: String,
}

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

/// The parts a build draws that the first visit's build leaves to the
/// whole UI. Provided by each build's root, so the first visit's build
/// never links what it leaves out.
#[derive(Clone, Copy)]
pub struct BuildParts {
    /// The dialogs the shell mounts: all of them in the whole UI
    /// (`SessionDialogs`), the terminate confirmation in the first visit's
    /// (`DialogsElsewhere`).
    pub dialogs: fn() -> AnyView,
    /// The session list's detail panel for a session id, with what closes
    /// it; `None` in the first visit's build, which loads the whole UI to
    /// show it.
    pub detail: Option<fn(String, Callback<()>) -> AnyView>,
}

/// The context (provided by each build's root).
pub fn use_build_parts() -> BuildParts {
    expect_context::<BuildParts>()
}

/// The context (provided by the shell).
pub fn use_dialogs() -> Dialogs {
    expect_context::<Dialogs>()
}

//! The session dialogs and the detail panel across the UI's two builds
//! (`lib.rs`). The first visit's build mounts only the terminate
//! confirmation; opening the app launcher, the log viewer or the commit
//! dialog there loads the whole UI at `/sessions/open?…`, which names the
//! dialog and its target, and the whole UI opens it over the session list.
//! The detail panel goes the same way with the list's own query
//! (`?session=…`). The address carries only what the dialog shows; every
//! call it makes is the server's to allow.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::components::dialog_targets::{use_dialogs, AppsTarget, CommitTarget, LogTarget};
use crate::components::terminate_dialog::TerminateDialog;
use crate::i18n::*;

/// Where the whole UI opens a dialog from an address.
pub const OPEN_PATH: &str = "/sessions/open";

/// A dialog the first visit's build leaves to the whole UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Elsewhere {
    /// The app launcher.
    Apps(AppsTarget),
    /// The log viewer.
    Logs(LogTarget),
    /// The commit dialog.
    Commit(CommitTarget),
}

impl Elsewhere {
    /// The address that opens it in the whole UI.
    pub fn address(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        match self {
            Elsewhere::Apps(t) => {
                pairs.extend([
                    ("dialog", "apps"),
                    ("session", &t.session_id),
                    ("name", &t.name),
                ]);
            }
            Elsewhere::Logs(t) => {
                pairs.extend([
                    ("dialog", "logs"),
                    ("session", &t.session_id),
                    ("name", &t.name),
                ]);
                if let Some(k) = &t.kernel {
                    pairs.push(("kernel", k));
                }
            }
            Elsewhere::Commit(t) => pairs.extend([
                ("dialog", "commit"),
                ("session", &t.session_id),
                ("name", &t.name),
                ("image", &t.image),
                ("resources", &t.resources),
            ]),
        }
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        format!("{OPEN_PATH}?{query}")
    }

    /// The dialog an address's query names (`get` reads one parameter);
    /// `None` when it names none or lacks a part.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let session_id = get("session")?;
        let name = get("name")?;
        Some(match get("dialog")?.as_str() {
            "apps" => Elsewhere::Apps(AppsTarget { session_id, name }),
            "logs" => Elsewhere::Logs(LogTarget {
                session_id,
                name,
                kernel: get("kernel"),
            }),
            "commit" => Elsewhere::Commit(CommitTarget {
                session_id,
                name,
                image: get("image")?,
                resources: get("resources")?,
            }),
            _ => return None,
        })
    }
}

/// The first visit's build's dialogs: the terminate confirmation here, the
/// others by loading the whole UI.
#[component]
pub fn DialogsElsewhere() -> impl IntoView {
    let dialogs = use_dialogs();
    Effect::new(move || {
        let open = dialogs
            .apps
            .get()
            .map(Elsewhere::Apps)
            .or_else(|| dialogs.logs.get().map(Elsewhere::Logs))
            .or_else(|| dialogs.commit.get().map(Elsewhere::Commit));
        if let Some(open) = open {
            // (a new history entry: Back returns to this list)
            crate::handoff::load(&open.address(), false);
        }
    });
    view! { <TerminateDialog /> }
}

/// The whole UI's `/sessions/open`: opens the dialog the address names
/// over the session list (the address becomes `/sessions`), or, naming
/// none, shows the list with the address's own query (the detail panel's
/// `session`, the tab, the filters).
#[component]
pub fn OpenFromAddress() -> impl IntoView {
    let i18n = use_i18n();
    let dialogs = use_dialogs();
    let query = use_query_map().get_untracked();
    let to = match Elsewhere::from_query(|k| query.get(k)) {
        Some(open) => {
            match open {
                Elsewhere::Apps(t) => dialogs.apps.set(Some(t)),
                Elsewhere::Logs(t) => dialogs.logs.set(Some(t)),
                Elsewhere::Commit(t) => dialogs.commit.set(Some(t)),
            }
            "/sessions".to_string()
        }
        None => format!(
            "/sessions{}",
            window().location().search().unwrap_or_default()
        ),
    };
    let navigate = use_navigate();
    request_animation_frame(move || {
        navigate(
            &to,
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        )
    });
    view! { <p class="loading" role="status">{t!(i18n, loading)}</p> }
}

#[cfg(test)]
mod tests {
    use super::*;

    // (the address is built with the browser's encodeURIComponent, so the
    // round trip is checked in the browser by e2e; here: what each names)
    #[test]
    fn a_query_names_a_dialog_only_with_all_its_parts() {
        let q = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            Elsewhere::from_query(q(&[("dialog", "logs"), ("session", "s1"), ("name", "n")])),
            Some(Elsewhere::Logs(LogTarget {
                session_id: "s1".into(),
                name: "n".into(),
                kernel: None
            }))
        );
        assert_eq!(
            Elsewhere::from_query(q(&[("dialog", "commit"), ("session", "s1"), ("name", "n")])),
            None
        );
        assert_eq!(
            Elsewhere::from_query(q(&[("dialog", "shell"), ("session", "s1"), ("name", "n")])),
            None
        );
    }
}

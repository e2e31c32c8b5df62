//! The roots of the two builds: i18n, auth, and their route tables in one
//! place.

use leptos::prelude::*;
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::auth::{use_auth, AuthCtx};
use crate::components::dialog_targets::BuildParts;
use crate::components::dialogs_elsewhere::{DialogsElsewhere, OpenFromAddress};
use crate::components::session_detail::SessionDetail;
use crate::components::session_dialogs::SessionDialogs;
use crate::components::shell::Shell;
use crate::i18n::*;
use crate::pages::{
    agents::AgentsPage, data::DataPage, groups::GroupsPage, launch::LaunchPage, login::LoginPage,
    not_found::NotFound, sessions::SessionsPage,
};

/// The first visit's build: the sign-in page and the session list. Any
/// other page (a link, the address bar) is loaded whole from the server,
/// which serves the full build there.
#[component]
pub fn FirstVisitApp() -> impl IntoView {
    // a page the browser kept (back/forward cache) returns as it was left:
    // on its way to the whole UI's page, with another address in the bar.
    // Drawn anew instead.
    let _ = window_event_listener(leptos::ev::pageshow, |e| {
        if e.persisted() {
            let _ = window().location().reload();
        }
    });
    AuthCtx::provide();
    provide_context(BuildParts {
        dialogs: || view! { <DialogsElsewhere /> }.into_any(),
        detail: None,
    });
    view! {
        <I18nContextProvider>
            <Router>
                <Routes fallback=FullLoad>
                    <Route path=path!("/login") view=LoginPage />
                    <ParentRoute path=path!("") view=Protected>
                        <Route path=path!("/sessions") view=SessionsPage />
                        <Route path=path!("") view=|| view! { <Redirect path="/sessions" /> } />
                    </ParentRoute>
                </Routes>
            </Router>
        </I18nContextProvider>
    }
}

/// A page the first visit's build does not have: the same address loaded
/// anew, in place of the history entry the router pushed for it (so Back
/// returns to the page the user came from).
#[component]
fn FullLoad() -> impl IntoView {
    let i18n = use_i18n();
    let location = leptos_router::hooks::use_location();
    let path = location.pathname.get_untracked();
    // the server serves these paths this build: reloading would loop
    if !berth_shared::ui::in_first_visit_build(&path) {
        let (search, hash) = (
            location.search.get_untracked(),
            location.hash.get_untracked(),
        );
        let mut to = path.clone();
        if !search.is_empty() {
            to = format!("{to}?{}", search.trim_start_matches('?'));
        }
        if !hash.is_empty() {
            to = format!("{to}#{}", hash.trim_start_matches('#'));
        }
        // once the router has put the address in the bar (after this page
        // is drawn): then in place of its entry
        set_timeout(
            move || {
                let shown = window().location().pathname().unwrap_or_default();
                crate::handoff::load(&to, shown == path);
            },
            std::time::Duration::ZERO,
        );
    }
    view! { <p class="loading" role="status">{t!(i18n, loading)}</p> }
}

/// The whole UI.
#[component]
pub fn App() -> impl IntoView {
    AuthCtx::provide();
    provide_context(BuildParts {
        dialogs: || view! { <SessionDialogs /> }.into_any(),
        detail: Some(|id, on_close| view! { <SessionDetail id=id on_close=on_close /> }.into_any()),
    });
    view! {
        <I18nContextProvider>
            <Router>
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view=LoginPage />
                    <ParentRoute path=path!("") view=Protected>
                        <Route path=path!("/sessions") view=SessionsPage />
                        <Route path=path!("/sessions/open") view=OpenFromAddress />
                        <Route path=path!("/launch") view=LaunchPage />
                        <Route path=path!("/data") view=DataPage />
                        <Route path=path!("/agents") view=AgentsPage />
                        <Route path=path!("/resource-groups") view=GroupsPage />
                        <Route path=path!("") view=|| view! { <Redirect path="/sessions" /> } />
                    </ParentRoute>
                </Routes>
            </Router>
        </I18nContextProvider>
    }
}

/// Pages behind a login: the shell around them, or a redirect to the login
/// page with the page to return to (also when a later call answers 401:
/// `auth.rs` signs out on it).
#[component]
fn Protected() -> impl IntoView {
    let auth = use_auth();
    let i18n = use_i18n();
    // the language the user chose, kept on the server, applies at every
    // sign-in (before sign-in: the browser's)
    Effect::new(move || {
        let chosen = auth
            .user
            .with(|u| u.as_ref().and_then(|u| u.locale.clone()));
        if let Some(want) = chosen.as_deref().and_then(crate::i18n_locale) {
            if i18n.get_locale_untracked() != want {
                i18n.set_locale(want);
            }
        }
    });
    // only signing in or out redraws the pages: a new user record (the
    // language saved from the user menu) keeps the open page as it is
    let signed_in = Memo::new(move |_| auth.user.with(Option::is_some));
    let location = leptos_router::hooks::use_location();
    move || {
        if !auth.checked.get() {
            view! { <p class="loading" role="status">{t!(i18n, loading)}</p> }.into_any()
        } else if !signed_in.get() {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            let to = format!("/login?next={}", js_sys::encode_uri_component(&here));
            view! { <Redirect path=to /> }.into_any()
        } else {
            view! {
                <Shell>
                    <Outlet />
                </Shell>
            }
            .into_any()
        }
    }
}

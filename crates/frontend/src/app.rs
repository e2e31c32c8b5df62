//! The root: i18n, auth, and the route table in one place.

use leptos::prelude::*;
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::auth::{use_auth, AuthCtx};
use crate::components::shell::Shell;
use crate::i18n::*;
use crate::pages::{
    agents::AgentsPage, data::DataPage, groups::GroupsPage, launch::LaunchPage, login::LoginPage,
    not_found::NotFound, sessions::SessionsPage,
};

/// The application.
#[component]
pub fn App() -> impl IntoView {
    AuthCtx::provide();
    view! {
        <I18nContextProvider>
            <Router>
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view=LoginPage />
                    <ParentRoute path=path!("") view=Protected>
                        <Route path=path!("/sessions") view=SessionsPage />
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

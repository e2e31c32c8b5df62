//! The app shell: header with the product name and navigation, the
//! notification bell, and the user menu with logout.

use berth_shared::auth::Role;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::auth::use_auth;
use crate::components::dialog_targets::{use_build_parts, Dialogs};
use crate::components::notifications::{NotificationBell, Toasts};
use crate::components::popups::{use_popups, Popups};
use crate::i18n::*;
use crate::live::Live;
use crate::notices::Notices;

/// Header + main area around a protected page.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let location = leptos_router::hooks::use_location();
    let notices = Notices::provide();
    Popups::provide();
    Dialogs::provide();
    Live::provide(
        Signal::derive(move || auth.user.with(|u| u.as_ref().map(|u| u.id.clone()))),
        notices,
    );
    let dialogs = use_build_parts().dialogs;
    let is_admin = move || {
        auth.user
            .with(|u| u.as_ref().is_some_and(|u| u.role.is_admin()))
    };
    // a new page puts focus on its heading (not the first load: the
    // sign-in page or a shared link starts at the top as browsers do)
    Effect::new(move |before: Option<String>| {
        let path = location.pathname.get();
        // (the whole UI opening a dialog from its address keeps focus in it)
        let from_open = |b: &str| b == crate::components::dialogs_elsewhere::OPEN_PATH;
        let moved = match before {
            Some(b) => b != path && !from_open(&b),
            // a link in the first visit's build that loaded this one
            None => crate::handoff::take(&path) && !from_open(&path),
        };
        if moved {
            crate::focus::focus_page_heading();
        }
        path
    });
    view! {
        <a class="skip-link" href="#main">{t!(i18n, skip_to_content)}</a>
        <header class="app-header">
            <A href="/sessions" attr:class="brand">{t!(i18n, app_name)}</A>
            <nav class="app-nav" aria-label=move || t_string!(i18n, nav_main).to_string()>
                // the launcher is where sessions start: the Sessions item
                // stays marked there
                <a href="/sessions" id="nav-sessions" aria-current=move || {
                    let path = location.pathname.get();
                    (path.starts_with("/sessions") || path.starts_with("/launch")).then_some("page")
                }>{t!(i18n, nav_sessions)}</a>
                <A href="/data" attr:id="nav-data">{t!(i18n, nav_data)}</A>
                <Show when=is_admin>
                    <A href="/agents" attr:id="nav-agents">{t!(i18n, nav_agents)}</A>
                    <A href="/resource-groups" attr:id="nav-groups">{t!(i18n, nav_groups)}</A>
                </Show>
            </nav>
            <div class="header-actions">
                <NotificationBell />
                <UserMenu />
            </div>
        </header>
        <main id="main" class="app-main">{children()}</main>
        <Toasts />
        {dialogs()}
    }
}

/// The signed-in user's menu: who, role, language, the API keypair,
/// logout.
#[component]
fn UserMenu() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let popups = use_popups();
    let open = move || popups.is_open("user");
    // a menu by keyboard: opening puts focus on its first item, the arrows
    // (and Home/End) move between items, Escape closes it and goes back to
    // the button, Tab leaves it closed
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" if popups.close() => {
            ev.stop_propagation();
            crate::focus::focus_id("user-menu-button");
        }
        "Tab" => {
            popups.close();
        }
        key @ ("ArrowDown" | "ArrowUp" | "Home" | "End") => {
            if !open() {
                if key == "ArrowDown" || key == "ArrowUp" {
                    ev.prevent_default();
                    popups.toggle("user");
                    crate::focus::focus_css("#user-menu [role^='menuitem']");
                }
                return;
            }
            ev.prevent_default();
            crate::focus::move_among("#user-menu [role^='menuitem']", key);
        }
        _ => {}
    };
    let email = move || {
        auth.user
            .with(|u| u.as_ref().map(|u| u.email.clone()).unwrap_or_default())
    };
    let role = move || {
        let role = auth
            .user
            .with(|u| u.as_ref().map(|u| u.role))
            .unwrap_or_default();
        match role {
            Role::Superadmin => t_string!(i18n, role_superadmin).to_string(),
            Role::Admin => t_string!(i18n, role_admin).to_string(),
            Role::User => t_string!(i18n, role_user).to_string(),
        }
    };
    // the choice is kept for the user on the server (applied at sign-in)
    let save_locale = Action::new_unsync(|req: &berth_shared::auth::UpdateMeRequest| {
        let req = req.clone();
        async move { api::update_me(&req).await }
    });
    crate::action::settled(save_locale, move |outcome| {
        if let Ok(user) = outcome {
            auth.user.set(Some(user));
        }
    });
    let choose = move |l: Locale| {
        i18n.set_locale(l);
        save_locale.dispatch(berth_shared::auth::UpdateMeRequest {
            locale: crate::locale_tag(l).to_string(),
        });
    };
    // the login ends here whatever the server answers; the protected
    // layout then sees no user and goes to the sign-in page
    let sign_out = Action::new_unsync(|_: &()| async move { api::logout().await });
    crate::action::settled(sign_out, move |_| auth.user.set(None));
    let logout = move |_| {
        sign_out.dispatch(());
    };
    let keypair_open = RwSignal::new(false);
    view! {
        <div class="popup-anchor" data-popup="user" on:keydown=on_key>
            <button
                type="button"
                class="user-btn"
                id="user-menu-button"
                aria-haspopup="menu"
                aria-expanded=move || open().to_string()
                aria-controls="user-menu"
                aria-label=move || t_string!(i18n, user_menu).to_string()
                on:click=move |_| {
                    if popups.toggle("user") {
                        crate::focus::focus_css("#user-menu [role^='menuitem']");
                    }
                }
            >
                <span class="avatar" aria-hidden="true">
                    {move || email().chars().next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default()}
                </span>
                <span class="user-email">{email}</span>
            </button>
            <Show when=open>
                <div class="popup menu" id="user-menu" role="menu" aria-labelledby="user-menu-button">
                    <div class="menu-header">
                        <span class="muted">{t!(i18n, signed_in_as)}</span>
                        <strong>{email}</strong>
                        <span class="role-tag">{role}</span>
                    </div>
                    <div class="menu-row" role="group" aria-label=move || t_string!(i18n, language).to_string()>
                        <button type="button" role="menuitemradio" class="link-btn" id="lang-en"
                            aria-checked=move || (i18n.get_locale() == Locale::en).to_string()
                            on:click=move |_| choose(Locale::en)>{t!(i18n, lang_en)}</button>
                        <button type="button" role="menuitemradio" class="link-btn" id="lang-ko"
                            aria-checked=move || (i18n.get_locale() == Locale::ko).to_string()
                            on:click=move |_| choose(Locale::ko)>{t!(i18n, lang_ko)}</button>
                    </div>
                    <button type="button" role="menuitem" class="menu-item" id="keypair-button"
                        on:click=move |_| {
                            popups.close();
                            keypair_open.set(true);
                        }>
                        {t!(i18n, keypair_menu)}
                    </button>
                    <button type="button" role="menuitem" class="menu-item" id="logout-button" on:click=logout>
                        {t!(i18n, logout)}
                    </button>
                </div>
            </Show>
        </div>
        // outside the menu's anchor: keys in the dialog are not the menu's
        <crate::components::keypair_dialog::KeypairDialog open=keypair_open
            on_close=Callback::new(move |_| keypair_open.set(false)) />
    }
}

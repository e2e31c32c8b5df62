//! The berth web UI: a Leptos client-side-rendered app. It talks only to
//! `/api/v1` (through `api`) with the types of `berth-shared`, and every
//! visible string comes from `locales/*.json` through `leptos_i18n`.
//!
//! Two builds share this library (`src/bin/`): `berth-core` draws only the
//! sign-in page and the session list, the first visit's pages, and sends
//! every other page to a full load of `berth-full`, the whole UI
//! (`berth_shared::ui` says which paths are whose).

// Generated from locales/ by build.rs.
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

mod action;
mod api;
pub mod app;
mod auth;
mod components;
mod focus;
mod format;
mod handoff;
mod live;
mod notices;
mod pages;
mod upload;
mod wizard;

/// The UI locale for a stored language tag (`en`, `ko`).
fn i18n_locale(tag: &str) -> Option<i18n::Locale> {
    match tag {
        "en" => Some(i18n::Locale::en),
        "ko" => Some(i18n::Locale::ko),
        _ => None,
    }
}

/// The stored language tag of a UI locale.
fn locale_tag(l: i18n::Locale) -> &'static str {
    match l {
        i18n::Locale::en => "en",
        i18n::Locale::ko => "ko",
    }
}

/// Starts a build of the UI with its root component.
pub fn start<V: leptos::IntoView + 'static>(root: fn() -> V) {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(root);
}

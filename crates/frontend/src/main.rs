//! The berth web UI: a Leptos client-side-rendered app. It talks only to
//! `/api/v1` (through [`api`]) with the types of `berth-shared`, and every
//! visible string comes from `locales/*.json` through `leptos_i18n`.

// Generated from locales/ by build.rs.
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

mod api;
mod app;
mod auth;
mod components;
mod focus;
mod format;
mod live;
mod notices;
mod pages;
mod upload;
mod wizard;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

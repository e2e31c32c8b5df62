//! The browser tests: headless Chromium (through chromedriver) against a
//! real server serving the built web UI. One binary, so the suites link
//! once; each module is a page or a walk, run by cargo-nextest in a test
//! group of their own (Chromium is heavy on two cores).

mod admin_pages;
mod api_docs;
mod apps_page;
mod commit_page;
mod data_page;
mod hostile_app;
mod idle_page;
mod launcher;
mod layout;
mod login;
mod sessions_page;
mod terminal_page;
mod tour;
mod two_builds;

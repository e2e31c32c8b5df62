//! What the first visit's build hands the whole UI when it loads it anew
//! for a link, a dialog or the detail panel (`lib.rs`): that a link led
//! there, so the page takes focus as after any link, and that the toasts
//! on screen stay, as they would within one build. Kept in the tab's
//! `sessionStorage`; a plain reload finds no note and starts as a reload.

/// The path a link loaded anew.
const LINK_KEY: &str = "berth.handoff.path";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// Loads `to` (a path with its query) anew, noting the link: as a new
/// history entry, or in place of the current one when `replace`.
pub fn load(to: &str, replace: bool) {
    let path = to.split(['?', '#']).next().unwrap_or(to);
    if let Some(st) = storage() {
        let _ = st.set_item(LINK_KEY, path);
    }
    let Some(here) = web_sys::window().map(|w| w.location()) else {
        return;
    };
    let _ = if replace {
        here.replace(to)
    } else {
        here.assign(to)
    };
}

/// Whether this load of `path` followed a link in the other build.
pub fn arrived(path: &str) -> bool {
    storage()
        .and_then(|st| st.get_item(LINK_KEY).ok().flatten())
        .is_some_and(|noted| noted == path)
}

/// Like [`arrived`], and the note is used up.
pub fn take(path: &str) -> bool {
    let linked = arrived(path);
    if let Some(st) = storage() {
        let _ = st.remove_item(LINK_KEY);
    }
    linked
}

//! Moving keyboard focus on purpose: to what opened a closed layer, or to
//! what took a removed element's place, once it is on screen.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Focuses the first element matching `selector` after the next frame
/// (when the view that holds it has been drawn), and scrolls it into view.
pub fn focus_css(selector: &str) {
    let selector = selector.to_string();
    request_animation_frame(move || {
        if let Some(el) = document()
            .query_selector(&selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
            el.scroll_into_view_with_bool(true);
        }
    });
}

/// Focuses the element with `id` after the next frame.
pub fn focus_id(id: &str) {
    focus_css(&format!("#{id}"));
}

/// Focuses `id`, and for a moment after puts focus back on it whenever it
/// falls to the page (the element was drawn anew, e.g. when the view it
/// lives in reloads after the change that moved focus).
pub fn focus_id_kept(id: &str) {
    focus_id(id);
    let id = id.to_string();
    let left = std::rc::Rc::new(std::cell::Cell::new(KEEP_CHECKS));
    let handle = std::rc::Rc::new(std::cell::Cell::new(None::<IntervalHandle>));
    let h = handle.clone();
    if let Ok(interval) = set_interval_with_handle(
        move || {
            let fell = document()
                .active_element()
                .is_none_or(|a| a.tag_name().eq_ignore_ascii_case("body"));
            if fell {
                if let Some(el) = document()
                    .get_element_by_id(&id)
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = el.focus();
                }
            }
            left.set(left.get().saturating_sub(1));
            if left.get() == 0 {
                if let Some(h) = h.take() {
                    h.clear();
                }
            }
        },
        std::time::Duration::from_millis(KEEP_EVERY_MS),
    ) {
        handle.set(Some(interval));
    }
}

/// How often, and how many times, [`focus_id_kept`] looks.
const KEEP_EVERY_MS: u64 = 100;
const KEEP_CHECKS: u32 = 20;

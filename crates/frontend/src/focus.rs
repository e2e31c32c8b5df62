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

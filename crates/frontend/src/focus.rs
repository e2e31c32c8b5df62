//! Moving keyboard focus on purpose: to what opened a closed layer, or to
//! what took a removed element's place, once it is on screen.
//!
//! Lists draw a row anew when its item changes, so the element that had
//! focus may be gone a moment after a dialog closes. [`Return`] finds its
//! place again: the same control in the same row (rows carry `data-row`),
//! the row's first control when that one is disabled, else the page's
//! heading. It never lands on a control of *another* row.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// Controls focus can land on.
pub const FOCUSABLE: &str = "button:not([disabled]), [href], input:not([disabled]), \
    select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

/// The page heading every page has (`tabindex=-1`), where focus goes
/// when its place is gone.
const PAGE_HEADING: &str = "#main h1";

fn html(el: web_sys::Element) -> Option<HtmlElement> {
    el.dyn_into::<HtmlElement>().ok()
}

fn query(selector: &str) -> Option<HtmlElement> {
    document()
        .query_selector(selector)
        .ok()
        .flatten()
        .and_then(html)
}

fn active() -> Option<HtmlElement> {
    document().active_element().and_then(html)
}

/// Whether focus is nowhere in particular (on the page itself).
fn fell() -> bool {
    active().is_none_or(|a| a.tag_name().eq_ignore_ascii_case("body"))
}

fn disabled(el: &HtmlElement) -> bool {
    el.has_attribute("disabled")
}

/// Focuses the first element matching `selector` after the next frame
/// (when the view that holds it has been drawn), and scrolls it into view.
pub fn focus_css(selector: &str) {
    let selector = selector.to_string();
    request_animation_frame(move || {
        if let Some(el) = query(&selector) {
            let _ = el.focus();
            el.scroll_into_view_with_bool(true);
        }
    });
}

/// Focuses the element with `id` after the next frame.
pub fn focus_id(id: &str) {
    focus_css(&format!("#{id}"));
}

/// Focuses the first field marked invalid inside `root` (a form or a
/// dialog, as a CSS selector) after the next frame: a failed submit puts
/// the user on what to mend.
pub fn focus_first_invalid(root: &str) {
    focus_css(&format!("{root} [aria-invalid='true']"));
}

/// Focuses `id`, and for a moment after puts focus back on it whenever it
/// falls to the page (the element was drawn anew, e.g. when the view it
/// lives in reloads after the change that moved focus).
pub fn focus_id_kept(id: &str) {
    let id = id.to_string();
    keep(move || document().get_element_by_id(&id).and_then(html));
}

/// Moves focus among the elements matching `items` (a menu's items, a
/// tab list's tabs) for an arrow key, Home or End, wrapping at the ends;
/// returns the element it moved to.
pub fn move_among(items: &str, key: &str) -> Option<HtmlElement> {
    let list = document().query_selector_all(items).ok()?;
    let all: Vec<HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .collect();
    if all.is_empty() {
        return None;
    }
    let at = active().and_then(|a| all.iter().position(|e| *e == a));
    let last = all.len() - 1;
    let to = match key {
        "Home" => 0,
        "End" => last,
        "ArrowDown" | "ArrowRight" => at.map_or(0, |i| if i == last { 0 } else { i + 1 }),
        "ArrowUp" | "ArrowLeft" => at.map_or(last, |i| if i == 0 { last } else { i - 1 }),
        _ => return None,
    };
    let el = all[to].clone();
    let _ = el.focus();
    Some(el)
}

/// Focuses the page's heading once it is drawn: a new page (after a link,
/// Start, or a launch) starts the keyboard at its top, never on `<body>`.
pub fn focus_page_heading() {
    keep(|| query(PAGE_HEADING));
}

/// Like [`focus_id_kept`], for the first element matching `selector` (a
/// control in a keyed row that may move when the list comes back).
pub fn focus_css_kept(selector: &str) {
    let selector = selector.to_string();
    keep(move || query(&selector));
}

/// Where focus was before a layer (a dialog) opened, to go back to when it
/// closes.
#[derive(Debug, Clone)]
pub struct Return {
    element: Option<HtmlElement>,
    /// `[data-row='…']` of the row it sits in.
    row: Option<String>,
    /// What finds the same control again in a row drawn anew.
    control: Option<String>,
}

impl Return {
    /// Notes where focus is now.
    pub fn capture() -> Self {
        let element = active().filter(|a| !a.tag_name().eq_ignore_ascii_case("body"));
        let row = element
            .as_ref()
            .and_then(|e| e.closest("[data-row]").ok().flatten())
            .and_then(|r| r.get_attribute("data-row"))
            .map(|key| format!("[data-row='{}']", key.replace('\'', "")));
        let control = element.as_ref().and_then(|e| {
            if !e.id().is_empty() {
                return Some(format!("#{}", e.id()));
            }
            let classes = e.class_name();
            (!classes.trim().is_empty()).then(|| {
                format!(
                    ".{}",
                    classes.split_whitespace().collect::<Vec<_>>().join(".")
                )
            })
        });
        Return {
            element,
            row,
            control,
        }
    }

    /// Where focus should go now.
    fn find(&self) -> Option<HtmlElement> {
        if let Some(e) = &self.element {
            if e.is_connected() && !disabled(e) {
                return Some(e.clone());
            }
        }
        if let Some(row) = self.row.as_deref().and_then(query) {
            let same = self
                .control
                .as_ref()
                .and_then(|c| row.query_selector(c).ok().flatten())
                .and_then(html)
                .filter(|e| !disabled(e));
            let first = || row.query_selector(FOCUSABLE).ok().flatten().and_then(html);
            if let Some(e) = same.or_else(first) {
                return Some(e);
            }
        }
        // an element outside any row (a page's button) drawn anew
        if self.row.is_none() {
            if let Some(e) = self
                .control
                .as_deref()
                .filter(|c| c.starts_with('#'))
                .and_then(query)
                .filter(|e| !disabled(e))
            {
                return Some(e);
            }
        }
        query(PAGE_HEADING)
    }

    /// Puts focus back, and keeps it in that place while the list it sat in
    /// redraws (a terminated session's row changes, then leaves).
    pub fn restore(self) {
        keep(move || self.find());
    }
}

thread_local! {
    /// Which keeper is current: a newer one ends the older.
    static KEEPER: Cell<u64> = const { Cell::new(0) };
}

/// Focuses what `find` gives, now and after the next frame, then for a
/// while puts focus back there whenever it falls to the page. It watches
/// the document's changes (a `MutationObserver`), so focus is back before
/// the page is next drawn: it is never seen on `<body>`. It stops as soon
/// as the user puts focus anywhere else, or a newer keeper starts.
fn keep(find: impl Fn() -> Option<HtmlElement> + 'static) {
    let me = KEEPER.with(|k| {
        k.set(k.get() + 1);
        k.get()
    });
    let placed = Rc::new(std::cell::RefCell::new(None::<HtmlElement>));
    let place = {
        let placed = placed.clone();
        Rc::new(move |scroll: bool| {
            if let Some(el) = find() {
                let _ = el.focus();
                if scroll {
                    el.scroll_into_view_with_bool(false);
                }
                *placed.borrow_mut() = Some(el);
            }
        })
    };
    place(false);
    let first = place.clone();
    request_animation_frame(move || {
        if KEEPER.with(Cell::get) == me {
            first(true);
        }
    });
    let watch = place.clone();
    let callback = Closure::<dyn FnMut(js_sys::Array, web_sys::MutationObserver)>::new(
        move |_: js_sys::Array, observer: web_sys::MutationObserver| {
            let moved_by_user = !fell()
                && placed
                    .borrow()
                    .as_ref()
                    .is_some_and(|p| active().as_ref() != Some(p));
            if KEEPER.with(Cell::get) != me || moved_by_user {
                observer.disconnect();
            } else if fell() {
                watch(false);
            }
        },
    );
    let Ok(observer) = web_sys::MutationObserver::new(callback.as_ref().unchecked_ref()) else {
        return;
    };
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    options.set_subtree(true);
    options.set_attributes(true);
    if let Some(body) = document().body() {
        let _ = observer.observe_with_options(&body, &options);
    }
    set_timeout(
        move || {
            observer.disconnect();
            drop(callback);
        },
        std::time::Duration::from_secs(KEEP_SECS),
    );
}

/// How long [`keep`] watches (a session that ignores SIGTERM takes the
/// stop grace to leave the list).
const KEEP_SECS: u64 = 30;

//! A modal dialog that behaves for keyboard users: focus moves in when it
//! opens (to the `[autofocus]` element, else the first control), Tab and
//! Shift+Tab cycle inside it, Escape closes it, and focus returns to what
//! had it before (or its place, when a list drew it anew: `focus::Return`).

use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

use crate::focus::{Return, FOCUSABLE};

/// A modal dialog shown while `open` holds; `on_close` runs on Escape.
#[component]
pub fn Modal(
    /// Whether the dialog is shown.
    #[prop(into)]
    open: Signal<bool>,
    /// Asked to close (Escape).
    on_close: Callback<()>,
    /// The dialog element's id.
    #[prop(into)]
    id: String,
    /// Id of the element that names the dialog.
    #[prop(into)]
    labelled_by: String,
    /// Id of the element that describes it, if any.
    #[prop(optional, into)]
    described_by: Option<String>,
    /// Extra classes (e.g. `dialog-wide`).
    #[prop(optional, into)]
    class: String,
    /// The content.
    children: ChildrenFn,
) -> impl IntoView {
    let children = StoredValue::new(children);
    let id = StoredValue::new(id);
    let labelled_by = StoredValue::new(labelled_by);
    let described_by = StoredValue::new(described_by);
    let class = StoredValue::new(class);
    view! {
        <Show when=move || open.get()>
            <ModalBody on_close=on_close id=id.get_value() labelled_by=labelled_by.get_value()
                described_by=described_by.get_value() class=class.get_value()>
                {children.with_value(|c| c())}
            </ModalBody>
        </Show>
    }
}

fn focusables(root: &HtmlElement) -> Vec<HtmlElement> {
    let Ok(list) = root.query_selector_all(FOCUSABLE) else {
        return vec![];
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .collect()
}

fn active_element() -> Option<HtmlElement> {
    document()
        .active_element()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
}

#[component]
fn ModalBody(
    on_close: Callback<()>,
    id: String,
    labelled_by: String,
    described_by: Option<String>,
    class: String,
    children: Children,
) -> impl IntoView {
    let node = NodeRef::<Div>::new();
    // where focus goes back to; kept as a JS value so the closure is Send
    let previous = StoredValue::new_local(Return::capture());
    node.on_load(move |el| {
        let el: HtmlElement = el.into();
        let target = el
            .query_selector("[autofocus]")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlElement>().ok())
            .or_else(|| focusables(&el).into_iter().next());
        // after this tick, once the content is in the document
        request_animation_frame(move || {
            if let Some(t) = target {
                let _ = t.focus();
            }
        });
    });
    on_cleanup(move || {
        if let Some(p) = previous.try_get_value() {
            p.restore();
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            on_close.run(());
        }
        "Tab" => {
            let Some(root) = node.get_untracked() else {
                return;
            };
            let items = focusables(&root.into());
            let (Some(first), Some(last)) = (items.first(), items.last()) else {
                ev.prevent_default();
                return;
            };
            let active = active_element();
            let at = |e: &HtmlElement| active.as_ref() == Some(e);
            let inside = items.iter().any(at);
            if ev.shift_key() && (at(first) || !inside) {
                ev.prevent_default();
                let _ = last.focus();
            } else if !ev.shift_key() && (at(last) || !inside) {
                ev.prevent_default();
                let _ = first.focus();
            }
        }
        _ => {}
    };
    view! {
        <div class="dialog-backdrop">
            <div node_ref=node class=format!("dialog {class}") role="dialog" aria-modal="true" id=id
                aria-labelledby=labelled_by aria-describedby=described_by on:keydown=on_keydown>
                {children()}
            </div>
        </div>
    }
}

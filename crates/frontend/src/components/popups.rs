//! The header's popups (the bell's list, the user menu): at most one is
//! open; a click or tap outside it closes it; Escape closes it first, and
//! only the next Escape reaches what lies beneath (the detail panel).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Which popup is open, shared through the component tree.
#[derive(Debug, Clone, Copy)]
pub struct Popups {
    open: RwSignal<Option<&'static str>>,
}

impl Popups {
    /// Provides the state and the outside-click and Escape listeners.
    pub fn provide() -> Self {
        let popups = Popups {
            open: RwSignal::new(None),
        };
        provide_context(popups);
        let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
            let Some(name) = popups.open.get_untracked() else {
                return;
            };
            let inside = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest(&format!("[data-popup='{name}']")).ok().flatten())
                .is_some();
            if !inside {
                popups.open.set(None);
            }
        });
        // Escape with focus outside any popup (the panel's own handler
        // asks `close` first, so it never closes beneath an open popup)
        let escape = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                popups.close();
            }
        });
        on_cleanup(move || {
            outside.remove();
            escape.remove();
        });
        popups
    }

    /// Whether popup `name` is open.
    pub fn is_open(&self, name: &'static str) -> bool {
        self.open.get() == Some(name)
    }

    /// Opens `name` (closing any other), or closes it when it is open;
    /// whether it is open now.
    pub fn toggle(&self, name: &'static str) -> bool {
        self.open
            .update(|o| *o = if *o == Some(name) { None } else { Some(name) });
        self.open.get_untracked() == Some(name)
    }

    /// Closes whatever popup is open; whether one was.
    pub fn close(&self) -> bool {
        let was = self.open.get_untracked().is_some();
        if was {
            self.open.set(None);
        }
        was
    }
}

/// The popups (provided by the shell).
pub fn use_popups() -> Popups {
    expect_context::<Popups>()
}

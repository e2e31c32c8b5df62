//! The one way the UI sends a change: a Leptos `Action` whose busy state is
//! `action.pending()`, and whose outcome is handled once, here, as it
//! arrives (`settled`). Views never write a busy flag or spawn a task for
//! a change by hand.

use leptos::prelude::*;

use crate::api::ApiError;

/// Runs `handle` with each outcome of `action` as it arrives, then clears
/// it (so the same outcome is never handled twice, and a reopened dialog
/// starts clean).
pub fn settled<I, O>(
    action: Action<I, Result<O, ApiError>>,
    handle: impl Fn(Result<O, ApiError>) + 'static,
) where
    I: Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Effect::new(move || {
        if let Some(outcome) = action.value().get() {
            action.clear();
            handle(outcome);
        }
    });
}

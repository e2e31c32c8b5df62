//! A session status as a coloured badge.

use berth_shared::sessions::SessionStatus;
use leptos::prelude::*;

/// The status in its colour (the reference product's palette).
#[component]
pub fn StatusBadge(status: SessionStatus) -> impl IntoView {
    view! {
        <span class=format!("status status-{}", status.as_str().to_lowercase())>{status.as_str()}</span>
    }
}

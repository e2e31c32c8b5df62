//! A session status as a coloured badge.

use berth_shared::sessions::{reason, SessionStatus};
use leptos::prelude::*;

use crate::i18n::*;

/// The status in its colour (the reference product's palette). A batch
/// session whose command failed (ended with a non-zero exit code, reason
/// `failed`) is marked apart from one that succeeded.
#[component]
pub fn StatusBadge(
    status: SessionStatus,
    /// Why it is in this status (`status_info`), when known.
    #[prop(optional)]
    info: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let failed = status == SessionStatus::Terminated && info.as_deref() == Some(reason::FAILED);
    let class = format!(
        "status status-{}{}",
        status.as_str().to_lowercase(),
        if failed { " status-failed" } else { "" }
    );
    view! {
        <span class=class>
            {status.as_str()}
            {failed.then(|| view! { <span class="status-note">{" · "}{t!(i18n, status_failed)}</span> })}
        </span>
    }
}

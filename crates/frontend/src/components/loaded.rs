//! A value fetched from the server, as the UI shows it: a status line
//! while it loads, a message when it failed, else the content made from
//! it. One place for what every fetched view otherwise writes as a
//! hand-made loading/error `match`.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::field::error_message;
use crate::i18n::*;

/// Shows `children` with the value once `value` holds one.
#[component]
pub fn Loaded<T, C, V>(
    /// The value: `None` while loading.
    #[prop(into)]
    value: Signal<Option<Result<T, ApiError>>>,
    /// Shown while loading (default: "Loading…" as a status).
    #[prop(optional, into)]
    loading: Option<ViewFn>,
    /// Shown when the call failed (default: its message as an alert).
    #[prop(optional, into)]
    failed: Option<Callback<ApiError, AnyView>>,
    /// The content made from the value.
    children: C,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    C: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let i18n = use_i18n();
    move || match value.get() {
        None => match &loading {
            Some(v) => v.run(),
            None => view! { <p class="loading" role="status">{t!(i18n, loading)}</p> }.into_any(),
        },
        Some(Err(e)) => match &failed {
            Some(f) => f.run(e),
            None => {
                view! { <p class="alert alert-error" role="alert">{error_message(i18n, &e)}</p> }
                    .into_any()
            }
        },
        Some(Ok(v)) => children(v).into_any(),
    }
}

//! The log viewer: the end of a kernel's container log (a bounded tail),
//! refreshed on demand or followed; the whole log downloads as
//! `<session name>.log`, streamed by the server.

use leptos::html::Pre;
use leptos::prelude::*;

use crate::api;
use crate::components::dialog_targets::{use_dialogs, LogTarget};
use crate::components::field::error_message;
use crate::i18n::*;

/// How often "follow" fetches the log again.
const FOLLOW_MS: u64 = 2_000;

/// The viewer's content for `target`.
#[component]
pub fn LogViewer(target: LogTarget) -> impl IntoView {
    let i18n = use_i18n();
    let dialogs = use_dialogs();
    let target = StoredValue::new(target);
    let text = RwSignal::new(None::<String>);
    let truncated = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let follow = RwSignal::new(false);
    let out = NodeRef::<Pre>::new();
    let fetch = move || {
        let t = target.get_value();
        leptos::task::spawn_local(async move {
            match api::session_logs(&t.session_id, t.kernel.as_deref()).await {
                Ok(l) => {
                    failure.try_set(None);
                    truncated.try_set(l.truncated);
                    text.try_set(Some(l.logs));
                    if follow.try_get_untracked() == Some(true) {
                        if let Some(pre) = out.get_untracked() {
                            pre.set_scroll_top(pre.scroll_height());
                        }
                    }
                }
                Err(e) => {
                    failure.try_set(Some(error_message(i18n, &e)));
                }
            }
        });
    };
    fetch();
    let timer = StoredValue::new_local(None::<IntervalHandle>);
    Effect::new(move || {
        if let Some(h) = timer.get_value() {
            h.clear();
        }
        let handle = follow
            .get()
            .then(|| {
                set_interval_with_handle(fetch, std::time::Duration::from_millis(FOLLOW_MS)).ok()
            })
            .flatten();
        timer.set_value(handle);
        if follow.get_untracked() {
            fetch();
        }
    });
    on_cleanup(move || {
        if let Some(Some(h)) = timer.try_get_value() {
            h.clear();
        }
    });
    let download_url = move || {
        let t = target.get_value();
        api::session_log_download_url(&t.session_id, t.kernel.as_deref())
    };
    let download_name = move || format!("{}.log", target.get_value().name);
    view! {
        <h2 id="log-title">{move || t_string!(i18n, logs_title, name = target.get_value().name).to_string()}</h2>
        <div class="log-toolbar">
            <button type="button" class="btn btn-small" id="log-refresh" on:click=move |_| fetch()>{t!(i18n, logs_refresh)}</button>
            <label class="switch">
                <input type="checkbox" id="log-follow" prop:checked=move || follow.get()
                    on:change=move |ev| follow.set(event_target_checked(&ev)) />
                {t!(i18n, logs_follow)}
            </label>
            <a class="btn btn-small" id="log-download" href=download_url download=download_name>
                {t!(i18n, logs_download)}</a>
        </div>
        <Show when=move || truncated.get()>
            <p class="hint" id="log-truncated">
                {move || t_string!(i18n, logs_truncated, lines = api::LOG_TAIL_DEFAULT).to_string()}
            </p>
        </Show>
        <Show when=move || failure.with(Option::is_some)>
            <p class="alert alert-error" role="alert">{move || failure.get()}</p>
        </Show>
        <pre class="log-output" id="log-output" node_ref=out tabindex="0"
            aria-label=move || t_string!(i18n, logs_output).to_string()>
            {move || match text.get() {
                None => t_string!(i18n, loading).to_string(),
                Some(t) if t.is_empty() => t_string!(i18n, logs_empty).to_string(),
                Some(t) => t,
            }}
        </pre>
        <div class="dialog-buttons">
            <button type="button" class="btn" id="log-close" autofocus=true on:click=move |_| dialogs.logs.set(None)>
                {t!(i18n, btn_close)}
            </button>
        </div>
    }
}

//! The dialogs every page opens through [`Live`]: the log viewer and the
//! terminate confirmation.

use leptos::html::Pre;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::components::dialog::Modal;
use crate::i18n::*;
use crate::live::{use_live, LogTarget};

/// How often "follow" fetches the log again.
const FOLLOW_MS: u64 = 2_000;

/// Both dialogs; mounted once by the shell.
#[component]
pub fn SessionDialogs() -> impl IntoView {
    let live = use_live();
    let logs_open = Signal::derive(move || live.logs.with(Option::is_some));
    let terminate_open = Signal::derive(move || live.terminate.with(Option::is_some));
    view! {
        <Modal open=logs_open on_close=Callback::new(move |_| live.logs.set(None)) id="log-dialog"
            labelled_by="log-title" class="dialog-wide">
            {move || live.logs.get().map(|t| view! { <LogBody target=t /> })}
        </Modal>
        <Modal open=terminate_open on_close=Callback::new(move |_| live.terminate.set(None)) id="terminate-dialog"
            labelled_by="terminate-title" described_by="terminate-body">
            <TerminateBody />
        </Modal>
    }
}

fn error_text(i18n: leptos_i18n::I18nContext<Locale>, e: &ApiError) -> String {
    match e {
        ApiError::Network(_) => t_string!(i18n, error_network).to_string(),
        ApiError::Problem(p) => p.detail.clone().unwrap_or_else(|| p.title.clone()),
        _ => t_string!(i18n, error_generic).to_string(),
    }
}

#[component]
fn LogBody(target: LogTarget) -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let target = StoredValue::new(target);
    let text = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let follow = RwSignal::new(false);
    let out = NodeRef::<Pre>::new();
    let fetch = move || {
        let t = target.get_value();
        leptos::task::spawn_local(async move {
            match api::session_logs(&t.session_id, t.kernel.as_deref()).await {
                Ok(l) => {
                    failure.try_set(None);
                    text.try_set(Some(l.logs));
                    if follow.try_get_untracked() == Some(true) {
                        if let Some(pre) = out.get_untracked() {
                            pre.set_scroll_top(pre.scroll_height());
                        }
                    }
                }
                Err(e) => {
                    failure.try_set(Some(error_text(i18n, &e)));
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
    let download = move |_| {
        let t = target.get_value();
        let body = text.get_untracked().unwrap_or_default();
        let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(&body));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("text/plain;charset=utf-8");
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        if let Ok(a) = document().create_element("a") {
            if let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() {
                a.set_href(&url);
                a.set_download(&format!("{}.log", t.name));
                a.click();
            }
        }
        let _ = web_sys::Url::revoke_object_url(&url);
    };
    view! {
        <h2 id="log-title">{move || t_string!(i18n, logs_title, name = target.get_value().name).to_string()}</h2>
        <div class="log-toolbar">
            <button type="button" class="btn btn-small" id="log-refresh" on:click=move |_| fetch()>{t!(i18n, logs_refresh)}</button>
            <label class="switch">
                <input type="checkbox" id="log-follow" prop:checked=move || follow.get()
                    on:change=move |ev| follow.set(event_target_checked(&ev)) />
                {t!(i18n, logs_follow)}
            </label>
            <button type="button" class="btn btn-small" id="log-download" on:click=download
                disabled=move || text.with(Option::is_none)>{t!(i18n, logs_download)}</button>
        </div>
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
            <button type="button" class="btn" id="log-close" autofocus=true on:click=move |_| live.logs.set(None)>
                {t!(i18n, btn_close)}
            </button>
        </div>
    }
}

#[component]
fn TerminateBody() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let name = move || {
        live.terminate
            .with(|t| t.as_ref().map(|t| t.1.clone()).unwrap_or_default())
    };
    let confirm = move |_| {
        let Some((id, _)) = live.terminate.get_untracked() else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::terminate_session(&id).await {
                Ok(_) => {
                    live.terminate.try_set(None);
                    live.version.try_update(|v| *v += 1);
                }
                Err(e) => {
                    failure.try_set(Some(error_text(i18n, &e)));
                }
            }
            busy.try_set(false);
        });
    };
    view! {
        <h2 id="terminate-title">{t!(i18n, terminate_title)}</h2>
        <p id="terminate-body">{move || t_string!(i18n, terminate_body, name = name()).to_string()}</p>
        <Show when=move || failure.with(Option::is_some)>
            <p class="alert alert-error" role="alert">{move || failure.get()}</p>
        </Show>
        <div class="dialog-buttons">
            <button type="button" class="btn" id="terminate-cancel" autofocus=true on:click=move |_| live.terminate.set(None)>
                {t!(i18n, btn_cancel)}
            </button>
            <button type="button" class="btn btn-danger" id="terminate-confirm" disabled=move || busy.get() on:click=confirm>
                {t!(i18n, action_terminate)}
            </button>
        </div>
    }
}

//! The user menu's "API keypair": the access key, and a new secret key
//! made on request and shown this once, for scripts that speak the
//! reference platform's API at `/backend.ai`.

use leptos::prelude::*;

use crate::api;
use crate::auth::use_auth;
use crate::components::dialog::Modal;
use crate::components::field::error_message;
use crate::i18n::*;

/// The dialog; open while `open` holds.
#[component]
pub fn KeypairDialog(
    /// Open while true.
    #[prop(into)]
    open: Signal<bool>,
    /// Closes it (Close, Escape).
    on_close: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let secret = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);
    let generate = Action::new_unsync(|_: &()| async move { api::regenerate_keypair().await });
    let busy = generate.pending();
    crate::action::settled(generate, move |outcome| match outcome {
        Ok(made) => {
            failure.set(None);
            secret.set(Some(made.secret_key));
            crate::focus::focus_id("keypair-secret");
        }
        Err(e) => failure.set(Some(error_message(i18n, &e))),
    });
    // the secret is not kept once the dialog closes
    let close = move || {
        secret.set(None);
        failure.set(None);
        on_close.run(());
    };
    let access_key = move || {
        auth.user
            .with(|u| u.as_ref().map(|u| u.access_key.clone()).unwrap_or_default())
    };
    let endpoint = move || {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        format!("{origin}/backend.ai")
    };
    view! {
        <Modal open=open on_close=Callback::new(move |_| close()) id="keypair-dialog"
            labelled_by="keypair-title" described_by="keypair-intro">
            <h2 id="keypair-title">{t!(i18n, keypair_title)}</h2>
            <p id="keypair-intro">{move || t_string!(i18n, keypair_intro, endpoint = endpoint()).to_string()}</p>
            <dl class="keypair">
                <dt>{t!(i18n, keypair_access_key)}</dt>
                <dd><code id="keypair-access">{access_key}</code></dd>
            </dl>
            // one input, its value replaced: focus stays on it
            <Show when=move || secret.with(Option::is_some)>
                <p class="alert alert-warning" role="status" id="keypair-once">{t!(i18n, keypair_shown_once)}</p>
                <label for="keypair-secret">{t!(i18n, keypair_secret_key)}</label>
                <input id="keypair-secret" class="input" readonly
                    prop:value=move || secret.get().unwrap_or_default()
                    on:focus=|ev| {
                        use wasm_bindgen::JsCast;
                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                            input.select();
                        }
                    } />
            </Show>
            <p class="muted">{t!(i18n, keypair_replaces)}</p>
            {move || failure.get().map(|f| view! {
                <p class="alert alert-error" role="alert" id="keypair-error">{f}</p>
            })}
            <div class="dialog-buttons">
                <button type="button" class="btn" id="keypair-close" on:click=move |_| close()>
                    {t!(i18n, btn_close)}
                </button>
                <button type="button" class="btn btn-primary" id="keypair-generate"
                    disabled=move || busy.get() aria-busy=move || busy.get().to_string()
                    on:click=move |_| { generate.dispatch(()); }>
                    {t!(i18n, keypair_generate)}
                </button>
            </div>
        </Modal>
    }
}

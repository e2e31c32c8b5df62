//! The login page. The form checks the same rules as the server
//! (`LoginRequest::validate`) before sending.

use berth_shared::auth::LoginRequest;
use berth_shared::FieldError;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::field::field_message;
use crate::components::text_field::TextField;
use crate::i18n::*;

/// Email + password form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let navigate = use_navigate();
    let query = leptos_router::hooks::use_query_map();
    // the page a lost login came from, returned to after signing in
    let next = move || {
        query.with_untracked(|q| crate::auth::after_login(q.get("next").as_deref()).to_string())
    };
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let field_errors = RwSignal::new(Vec::<FieldError>::new());
    let form_error = RwSignal::new(None::<ApiError>);
    let action = Action::new_unsync(|req: &LoginRequest| {
        let req = req.clone();
        async move { api::login(&req).await }
    });
    let busy = action.pending();
    // signed in: the effect below takes the browser on
    crate::action::settled(action, move |outcome| match outcome {
        Ok(user) => {
            password.set(String::new());
            auth.user.set(Some(user));
        }
        Err(ApiError::Invalid(errs)) => field_errors.set(errs),
        Err(e) => form_error.set(Some(e)),
    });

    // Signed in (just now, or already: the back button): on to the app.
    Effect::new(move || {
        if auth.checked.get() && auth.user.with(Option::is_some) {
            navigate(&next(), Default::default());
        }
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let req = LoginRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        form_error.set(None);
        if let Err(errs) = req.validate() {
            field_errors.set(errs);
            return;
        }
        field_errors.set(vec![]);
        action.dispatch(req);
    };

    let error_for = move |field: &'static str| {
        move || {
            field_errors.with(|errs| {
                errs.iter()
                    .find(|e| e.field == field)
                    .map(|e| field_message(i18n, &e.code))
            })
        }
    };
    let email_error = error_for("email");
    let password_error = error_for("password");

    view! {
        <main class="login-page">
            <form class="card login-card" on:submit=on_submit novalidate=true aria-labelledby="login-title">
                <div class="brand brand-large" aria-hidden="true">{t!(i18n, app_name)}</div>
                <h1 id="login-title">{t!(i18n, login_title)}</h1>
                <p class="muted">{t!(i18n, login_subtitle)}</p>
                <Show when=move || form_error.with(Option::is_some)>
                    <div class="alert alert-error" role="alert" id="login-error">
                        {move || match form_error.get() {
                            Some(ApiError::Network(_)) => t_string!(i18n, error_network).to_string(),
                            Some(ApiError::Problem(p)) if p.status == 401 => t_string!(i18n, login_failed).to_string(),
                            Some(ApiError::Unauthorized) => t_string!(i18n, login_failed).to_string(),
                            _ => t_string!(i18n, error_generic).to_string(),
                        }}
                    </div>
                </Show>
                <TextField id="login-email" name="email" kind="email" autocomplete="username" required=true
                    label=Signal::derive(move || t_string!(i18n, login_email).to_string())
                    value=email error=Signal::derive(email_error) />
                <TextField id="login-password" name="password" kind="password"
                    autocomplete="current-password" required=true
                    label=Signal::derive(move || t_string!(i18n, login_password).to_string())
                    value=password error=Signal::derive(password_error) />
                <button type="submit" class="btn btn-primary btn-block" disabled=move || busy.get()>
                    {move || if busy.get() { t_string!(i18n, login_busy).to_string() } else { t_string!(i18n, login_submit).to_string() }}
                </button>
            </form>
        </main>
    }
}

//! Page 1: session type, name, batch options, and (admins) the owner.

use berth_shared::sessions::SessionType;
use leptos::prelude::*;

use super::ctx::{Ctx, FieldMessage};
use super::owner_fields::OwnerFields;
use crate::i18n::*;

/// A time as a `datetime-local` box's value, in the browser's time zone.
fn local_input_value(t: chrono::DateTime<chrono::Utc>) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t.timestamp_millis() as f64));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// The page.
#[component]
pub fn TypePage(ctx: Ctx) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let is_batch = move || state.with(|s| s.session_type == SessionType::Batch);
    let auth = crate::auth::use_auth();
    let is_admin = move || {
        auth.user
            .with(|u| u.as_ref().is_some_and(|u| u.role.is_admin()))
    };
    let set_type = move |t: SessionType| state.update(|s| s.session_type = t);
    // the command box says it is required once it was left, or when the
    // page is come back to with Batch chosen, not the moment Batch is
    // chosen (the review lists it either way)
    let command_touched =
        RwSignal::new(state.with_untracked(|s| s.session_type == SessionType::Batch));
    let command_error = move || {
        command_touched
            .get()
            .then(|| ctx.error.run("startup_command".into()))
            .flatten()
    };
    // a loaded start time shows as the box's local date and time
    let starts_at_raw = RwSignal::new(
        state.with_untracked(|s| s.starts_at.map(local_input_value).unwrap_or_default()),
    );
    view! {
        <fieldset class="choices">
            // the page's heading already says it: the legend is for screen readers
            <legend class="sr-only">{t!(i18n, step_type)}</legend>
            <label class="choice">
                <input type="radio" name="session-type" id="type-interactive"
                    prop:checked=move || !is_batch()
                    on:change=move |_| set_type(SessionType::Interactive) />
                <span class="choice-title">{t!(i18n, type_interactive)}</span>
                <span class="choice-help">{t!(i18n, type_interactive_help)}</span>
            </label>
            <label class="choice">
                <input type="radio" name="session-type" id="type-batch"
                    prop:checked=is_batch
                    on:change=move |_| set_type(SessionType::Batch) />
                <span class="choice-title">{t!(i18n, type_batch)}</span>
                <span class="choice-help">{t!(i18n, type_batch_help)}</span>
            </label>
        </fieldset>
        <div class="field">
            <label for="session-name">{t!(i18n, session_name)}</label>
            <input id="session-name" type="text" autocomplete="off"
                prop:value=move || state.with(|s| s.name.clone())
                on:input=move |ev| state.update(|s| s.name = event_target_value(&ev))
                aria-invalid=move || ctx.error.run("name".into()).is_some().to_string()
                aria-describedby="session-name-hint session-name-error" />
            <p class="field-hint" id="session-name-hint">{t!(i18n, session_name_help)}</p>
            <FieldMessage ctx=ctx field="name" id="session-name-error" />
        </div>
        <Show when=is_admin>
            <OwnerFields ctx=ctx />
        </Show>
        <Show when=is_batch>
            <div class="field">
                <label for="startup-command">{t!(i18n, startup_command)}</label>
                <textarea id="startup-command" rows="3"
                    prop:value=move || state.with(|s| s.startup_command.clone())
                    on:input=move |ev| state.update(|s| s.startup_command = event_target_value(&ev))
                    on:blur=move |_| command_touched.set(true)
                    aria-invalid=move || command_error().is_some().to_string()
                    aria-describedby="startup-command-error"></textarea>
                <p class="field-error" id="startup-command-error" aria-live="polite">{command_error}</p>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="starts-at">{t!(i18n, starts_at)}</label>
                    <input id="starts-at" type="datetime-local"
                        prop:value=move || starts_at_raw.get()
                        on:input=move |ev| {
                            let raw = event_target_value(&ev);
                            let at = (!raw.is_empty())
                                .then(|| js_sys::Date::new(&raw.as_str().into()).get_time())
                                .filter(|ms| ms.is_finite())
                                .and_then(|ms| chrono::DateTime::from_timestamp_millis(ms as i64));
                            starts_at_raw.set(raw);
                            state.update(|s| { s.starts_at = at; s.cleared_start = false; });
                        }
                        aria-describedby="starts-at-note" />
                    <p class="field-hint" id="starts-at-note" role="status">
                        {move || state.with(|s| s.cleared_start).then(|| t_string!(i18n, starts_at_cleared).to_string())}
                    </p>
                </div>
                <div class="field">
                    <label for="batch-timeout">{t!(i18n, batch_timeout)}</label>
                    <input id="batch-timeout" type="text" inputmode="numeric" autocomplete="off"
                        prop:value=move || state.with(|s| s.whole_text("batch_timeout"))
                        on:input=move |ev| state.update(|s| s.type_whole("batch_timeout", &event_target_value(&ev)))
                        aria-invalid=move || ctx.error.run("batch_timeout".into()).is_some().to_string()
                        aria-describedby="batch-timeout-error" />
                    <FieldMessage ctx=ctx field="batch_timeout" id="batch-timeout-error" />
                </div>
            </div>
        </Show>
    }
}

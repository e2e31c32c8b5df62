//! The environment page's variables: one row per variable (name and
//! value), "−" on each and the guide's "+" on the first; one blank row is
//! shown before any is added, and typing into it makes it real without
//! drawing it anew.

use leptos::prelude::*;

use super::ctx::Ctx;
use super::state::{EnvRow, WizardState};
use crate::components::field::field_message;
use crate::i18n::*;

/// The row `i`, made real when it is the blank one shown.
fn row_mut(s: &mut WizardState, i: usize) -> &mut EnvRow {
    if s.env.len() <= i {
        s.env.resize(i + 1, EnvRow::default());
    }
    &mut s.env[i]
}

/// The variables fieldset.
#[component]
pub fn EnvVars(ctx: Ctx) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let env_len = Memo::new(move |_| state.with(|s| s.env.len()));
    // typing into the blank row makes it real without drawing it anew
    let rows_shown = Memo::new(move |_| env_len.get().max(1));

    let env_row = move |i: usize| {
        let name_id = format!("env-{i}-name");
        let value_id = format!("env-{i}-value");
        let err_id = format!("env-{i}-error");
        let field = format!("env[{i}].name");
        let field2 = field.clone();
        let message = move || {
            state
                .with(|s| s.error_for(&field))
                .map(|e| field_message(i18n, &e.code))
        };
        view! {
            <div class="env-row">
                <input id=name_id type="text" class="env-name" autocomplete="off"
                    aria-label=move || t_string!(i18n, env_name).to_string()
                    placeholder=move || t_string!(i18n, env_name).to_string()
                    prop:value=move || state.with(|s| s.env.get(i).map(|r| r.name.clone()).unwrap_or_default())
                    on:input=move |ev| state.update(|s| row_mut(s, i).name = event_target_value(&ev))
                    aria-invalid=move || state.with(|s| s.error_for(&field2).is_some()).to_string()
                    aria-describedby=err_id.clone() />
                <input id=value_id type="text" class="env-value" autocomplete="off"
                    aria-label=move || t_string!(i18n, env_value).to_string()
                    placeholder=move || t_string!(i18n, env_value).to_string()
                    prop:value=move || state.with(|s| s.env.get(i).map(|r| r.value.clone()).unwrap_or_default())
                    on:input=move |ev| state.update(|s| row_mut(s, i).value = event_target_value(&ev)) />
                <button type="button" class="btn btn-icon" id=format!("env-{i}-remove")
                    aria-label=move || t_string!(i18n, env_remove).to_string()
                    // the blank first row shown before any is added has nothing to remove
                    disabled=move || { i >= env_len.get() }
                    on:click=move |_| {
                        let left = state.try_update(|s| { if i < s.env.len() { s.env.remove(i); } s.env.len() }).unwrap_or(0);
                        // focus goes to the row that took its place, else to Add
                        if i < left {
                            crate::focus::focus_id(&format!("env-{i}-name"));
                        } else {
                            crate::focus::focus_id("env-add");
                        }
                    }>"−"</button>
                // the guide's "+" sits at the right of the first row
                {(i == 0).then(|| view! {
                    <button type="button" class="btn btn-icon" id="env-add"
                        aria-label=move || t_string!(i18n, env_add).to_string()
                        title=move || t_string!(i18n, env_add).to_string()
                        on:click=move |_| {
                            let new = state.try_update(|s| {
                                let shown = s.env.len().max(1);
                                s.env.resize(shown + 1, EnvRow::default());
                                shown
                            });
                            if let Some(new) = new {
                                crate::focus::focus_id(&format!("env-{new}-name"));
                            }
                        }>"+"</button>
                })}
                <p class="field-error" id=err_id aria-live="polite">{message}</p>
            </div>
        }
    };

    view! {
        <fieldset class="env-vars">
            <legend>{t!(i18n, env_vars)}</legend>
            // one row is always shown, blank until typed into
            <div class="env-rows">{move || (0..rows_shown.get()).map(env_row).collect_view()}</div>
        </fieldset>
    }
}

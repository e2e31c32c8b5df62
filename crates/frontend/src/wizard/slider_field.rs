//! A slider and a number box kept in sync, with a (?) help and the
//! field's message: CPU, memory, shared memory and accelerators.

use leptos::prelude::*;

use super::ctx::{Ctx, Help};

/// Smaller changes than this are not changes (the box is re-set only when
/// the value really moved, so typing "0." keeps its dot).
const SAME: f64 = 1e-9;

/// A slider and a number input kept in sync, with a (?) help and the error.
#[component]
pub fn SliderField(
    ctx: Ctx,
    #[prop(into)] id: String,
    #[prop(into)] field: String,
    label: Signal<String>,
    help: Signal<String>,
    min: Signal<f64>,
    max: Signal<f64>,
    step: f64,
    value: Signal<f64>,
    set: Callback<f64>,
) -> impl IntoView {
    let field2 = field.clone();
    // Only real changes are written back: re-setting the box while someone
    // types "0." would eat the dot.
    let on_input = move |ev| {
        if let Ok(v) = event_target_value(&ev).trim().parse::<f64>() {
            if (v - value.get_untracked()).abs() > SAME {
                set.run(v);
            }
        }
    };
    view! {
        <div class="field slider-field">
            <label for=format!("{id}-number")>{move || label.get()} <Help ctx=ctx id=id.clone() label=label text=help /></label>
            <div class="slider-row">
                <input type="range" id=format!("{id}-range") aria-label=move || label.get()
                    prop:min=move || min.get() prop:max=move || max.get() step=step
                    prop:value=move || value.get() on:input=on_input />
                <input type="number" id=format!("{id}-number") class="slider-number"
                    prop:min=move || min.get() prop:max=move || max.get() step=step
                    prop:value=move || value.get() on:input=on_input
                    aria-invalid=move || ctx.error.run(field.clone()).is_some().to_string()
                    aria-describedby=format!("{id}-error") />
            </div>
            <p class="field-error" id=format!("{id}-error") aria-live="polite">{move || ctx.error.run(field2.clone())}</p>
        </div>
    }
}

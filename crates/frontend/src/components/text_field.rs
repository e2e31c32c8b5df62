//! The one labelled text field: a label tied to its input, the input
//! bound to a signal, and the field's message beneath it, announced and
//! named by the input (`aria-describedby`, `aria-invalid`).

use leptos::prelude::*;

/// A labelled input with its message. Its elements are `{id}` (the
/// input) and `{id}-error` (the message).
#[component]
pub fn TextField(
    /// The input's id.
    id: &'static str,
    /// The label's words.
    #[prop(into)]
    label: Signal<String>,
    /// What is typed.
    value: RwSignal<String>,
    /// The field's message, when there is one.
    #[prop(optional, into)]
    error: Signal<Option<String>>,
    /// The input type (`text` when not given).
    #[prop(optional)]
    kind: Option<&'static str>,
    /// The form field's name.
    #[prop(optional)]
    name: Option<&'static str>,
    /// What browsers and password managers may fill in.
    #[prop(optional)]
    autocomplete: Option<&'static str>,
    /// Needed to submit.
    #[prop(optional)]
    required: bool,
    /// Shown inside the empty input.
    #[prop(optional, into)]
    placeholder: Option<Signal<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{move || label.get()}</label>
            <input
                id=id
                name=name
                type=kind.unwrap_or("text")
                autocomplete=autocomplete
                required=required
                placeholder=move || placeholder.map(|p| p.get())
                bind:value=value
                aria-invalid=move || error.with(Option::is_some).to_string()
                aria-describedby=error_id.clone()
            />
            <p class="field-error" id=error_id aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

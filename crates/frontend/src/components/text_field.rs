//! The one labelled text field: a label tied to its input, the input
//! bound to a signal, an optional hint, and the field's message beneath
//! it, announced and named by the input (`aria-describedby`,
//! `aria-invalid`).

use leptos::prelude::*;

/// A labelled input with its message. Its elements are `{id}` (the
/// input), `{id}-hint` (when there is one) and `{id}-error` (the
/// message).
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
    /// A line under the input saying what it takes.
    #[prop(optional, into)]
    hint: Option<Signal<String>>,
    /// Shown but not editable (while true).
    #[prop(optional, into)]
    readonly: Signal<bool>,
    /// Not a word to check (an id, a path, an address).
    #[prop(optional)]
    no_spellcheck: bool,
    /// Takes the focus when it appears (the one field of a dialog).
    #[prop(optional)]
    autofocus: bool,
    /// The most characters it takes.
    #[prop(optional)]
    maxlength: Option<u32>,
    /// Enter in the field (outside a form: a dialog's main button).
    #[prop(optional)]
    on_enter: Option<Callback<()>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let described_by = match hint {
        Some(_) => format!("{id}-hint {error_id}"),
        None => error_id.clone(),
    };
    view! {
        <div class="field">
            <label for=id>{move || label.get()}</label>
            <input
                id=id
                name=name
                type=kind.unwrap_or("text")
                autocomplete=autocomplete
                required=required
                readonly=move || readonly.get()
                spellcheck=(!no_spellcheck).to_string()
                autofocus=autofocus
                maxlength=maxlength
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if let (Some(enter), "Enter") = (on_enter, ev.key().as_str()) {
                        enter.run(());
                    }
                }
                placeholder=move || placeholder.map(|p| p.get())
                bind:value=value
                aria-invalid=move || error.with(Option::is_some).to_string()
                aria-describedby=described_by
            />
            {hint.map(|h| view! { <p class="field-hint" id=format!("{id}-hint")>{move || h.get()}</p> })}
            <p class="field-error" id=error_id aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

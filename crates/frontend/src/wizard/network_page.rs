//! Page 4: preopen ports — ports inside the container that the app
//! launcher lists and the proxy serves from the start; the user runs the
//! server on them. Typed separated by commas or spaces; Enter tidies the
//! list; the ports read so far show as chips, each removable.

use berth_shared::sessions::{parse_port_list, PREOPEN_MIN};
use leptos::prelude::*;

use super::ctx::{Ctx, FieldMessage, Help};
use crate::i18n::*;

/// The page.
#[component]
pub fn NetworkPage(ctx: Ctx) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let ports = move || state.with(|s| parse_port_list(&s.preopen).unwrap_or_default());
    let join = |ports: Vec<u16>| {
        ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let remove = move |p: u16| {
        let rest: Vec<u16> = ports().into_iter().filter(|x| *x != p).collect();
        state.update(|s| s.preopen = join(rest));
    };
    let max = move || {
        state
            .with(|s| s.port_rules.max)
            .map(|m| m.to_string())
            .unwrap_or_else(|| "-".into())
    };
    view! {
        <div class="field">
            <label for="preopen-ports">{t!(i18n, preopen_ports)}
                <Help ctx=ctx id="preopen-ports" label=Signal::derive(move || t_string!(i18n, preopen_ports).to_string())
                    text=Signal::derive(move || t_string!(i18n, preopen_help, min = PREOPEN_MIN, max = max()).to_string()) />
            </label>
            <input id="preopen-ports" type="text" inputmode="numeric" autocomplete="off"
                placeholder=move || t_string!(i18n, preopen_placeholder).to_string()
                prop:value=move || state.with(|s| s.preopen.clone())
                on:input=move |ev| state.update(|s| s.preopen = event_target_value(&ev))
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    // Enter adds what was typed: the list is tidied, nothing is submitted
                    if ev.key() == "Enter" {
                        ev.prevent_default();
                        if let Ok(p) = state.with_untracked(|s| parse_port_list(&s.preopen)) {
                            state.update(|s| s.preopen = join(p));
                        }
                    }
                }
                aria-invalid=move || ctx.error.run("preopen_ports".into()).is_some().to_string()
                aria-describedby="preopen-ports-error preopen-ports-note" />
            <FieldMessage ctx=ctx field="preopen_ports" id="preopen-ports-error" />
            <p class="muted field-note" id="preopen-ports-note">{t!(i18n, preopen_note)}</p>
        </div>
        <ul class="chips" id="preopen-chips" aria-label=move || t_string!(i18n, preopen_ports).to_string()>
            {move || ports().into_iter().map(|p| {
                // the port the rule refused is marked, with why
                let bad = move || p < PREOPEN_MIN
                    || state.with(|s| s.error_for("preopen_ports"))
                        .is_some_and(|e| e.params.get("value") == Some(&p.to_string()));
                view! {
                <li class="chip" class:chip-bad=bad data-port=p>
                    <span>{p}</span>
                    <Show when=bad>
                        <span class="sr-only">{move || ctx.error.run("preopen_ports".into())}</span>
                    </Show>
                    <button type="button" class="chip-remove"
                        aria-label=move || t_string!(i18n, preopen_remove, port = p).to_string()
                        on:click=move |_| remove(p)>"×"</button>
                </li>
            }}).collect_view()}
        </ul>
    }
}

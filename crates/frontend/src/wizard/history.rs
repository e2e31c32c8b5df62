//! The "Recent history" modal of the launcher: the caller's last launches
//! (kept on the server), renameable and pinnable; choosing one loads it.

use berth_shared::history::{relaunch_name, HistoryEntry, UpdateHistoryRequest};
use berth_shared::sessions::{DEFAULT_CPU, DEFAULT_MEM};
use leptos::prelude::*;

use super::state::WizardState;
use crate::api;
use crate::components::dialog::Modal;
use crate::i18n::*;

/// Length of the random suffix that gives a relaunch a fresh name.
const SUFFIX_CHARS: usize = 4;

/// [`SUFFIX_CHARS`] random lowercase letters/digits.
fn suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..SUFFIX_CHARS)
        .map(|_| {
            ALPHABET[(js_sys::Math::random() * ALPHABET.len() as f64) as usize % ALPHABET.len()]
                as char
        })
        .collect()
}

/// The modal. `on_load` receives the state to review.
#[component]
pub fn HistoryModal(open: RwSignal<bool>, on_load: Callback<WizardState>) -> impl IntoView {
    let i18n = use_i18n();
    let entries = RwSignal::new(Vec::<HistoryEntry>::new());
    let refresh = move || {
        leptos::task::spawn_local(async move {
            if let Ok(list) = api::history().await {
                entries.set(list.items);
            }
        })
    };
    Effect::new(move || {
        if open.get() {
            refresh();
        }
    });
    let update = move |id: String, req: UpdateHistoryRequest| {
        leptos::task::spawn_local(async move {
            let _ = api::update_history(&id, &req).await;
            if let Ok(list) = api::history().await {
                entries.set(list.items);
            }
        })
    };
    let load = move |e: &HistoryEntry| {
        let mut state = WizardState::from_request(&e.config);
        state.name = relaunch_name(&e.config.name, &suffix());
        open.set(false);
        on_load.run(state);
    };
    let row = move |i: usize, e: HistoryEntry| {
        let id = e.id.clone();
        let id_pin = e.id.clone();
        let pinned = e.pinned;
        let image = e.config.image.clone().unwrap_or_else(|| {
            format!(
                "{}:{}",
                e.config.environment.clone().unwrap_or_default(),
                e.config.version.clone().unwrap_or_default()
            )
        });
        let r = &e.config.resources;
        let resources = format!(
            "{} CPU, {}",
            r.cpu.unwrap_or(DEFAULT_CPU),
            r.mem.unwrap_or(DEFAULT_MEM)
        );
        let entry = StoredValue::new(e.clone());
        view! {
            <tr class="history-row" id=format!("history-{i}")>
                <td>
                    <button type="button" class="btn btn-small pin-btn" id=format!("history-{i}-pin")
                        aria-pressed=pinned.to_string()
                        aria-label=move || if pinned { t_string!(i18n, history_unpin).to_string() } else { t_string!(i18n, history_pin).to_string() }
                        on:click=move |_| update(id_pin.clone(), UpdateHistoryRequest { name: None, pinned: Some(!pinned) })>
                        {move || if pinned { t_string!(i18n, history_unpin).to_string() } else { t_string!(i18n, history_pin).to_string() }}
                    </button>
                </td>
                <td>
                    <input type="text" class="history-name" id=format!("history-{i}-name")
                        aria-label=move || t_string!(i18n, history_name).to_string()
                        prop:value=e.name.clone()
                        on:change=move |ev| {
                            let name = event_target_value(&ev);
                            if !name.trim().is_empty() {
                                update(id.clone(), UpdateHistoryRequest { name: Some(name), pinned: None });
                            }
                        } />
                </td>
                <td>{image}</td>
                <td>{resources}</td>
                <td>{e.created_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                <td>
                    <button type="button" class="btn btn-small btn-primary" id=format!("history-{i}-load")
                        on:click=move |_| entry.with_value(load)>
                        {t!(i18n, history_load)}
                    </button>
                </td>
            </tr>
        }
    };
    view! {
        <Modal open=open on_close=Callback::new(move |_| open.set(false)) id="history-dialog"
            labelled_by="history-title" class="dialog-wide">
            <h2 id="history-title">{t!(i18n, history_title)}</h2>
            <Show when=move || !entries.with(Vec::is_empty) fallback=move || view! { <p class="empty">{t!(i18n, history_empty)}</p> }>
                <table class="history-table">
                    <tbody>{move || entries.get().into_iter().enumerate().map(|(i, e)| row(i, e)).collect_view()}</tbody>
                </table>
            </Show>
            <div class="dialog-buttons">
                <button type="button" class="btn" id="history-close" autofocus=true on:click=move |_| open.set(false)>
                    {t!(i18n, history_close)}
                </button>
            </div>
        </Modal>
    }
}

//! The "Recent history" modal of the launcher: the caller's last launches
//! (kept on the server) with their type; clicking a name loads it; each
//! can be pinned, renamed (its own control) and deleted (with undo).

use berth_shared::history::{relaunch_name, HistoryEntry, UpdateHistoryRequest};
use berth_shared::sessions::{SessionType, DEFAULT_CPU, DEFAULT_MEM};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::state::WizardState;
use crate::api;
use crate::components::dialog::Modal;
use crate::focus::focus_id;
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

/// How long a deleted entry can still be brought back.
const UNDO_MS: u64 = 8_000;

/// The state a history entry launches again: a fresh name, and no start
/// time that has passed (`cleared_start` says one was dropped).
pub fn state_of(e: &HistoryEntry, now: DateTime<Utc>, suffix: &str) -> WizardState {
    let mut state = WizardState::from_request(&e.config);
    state.name = relaunch_name(&e.config.name, suffix);
    if state.starts_at.is_some_and(|t| t <= now) {
        state.starts_at = None;
        state.cleared_start = true;
    }
    state
}

/// The modal. `on_load` receives the state to review.
#[component]
pub fn HistoryModal(open: RwSignal<bool>, on_load: Callback<WizardState>) -> impl IntoView {
    let i18n = use_i18n();
    let entries = RwSignal::new(Vec::<HistoryEntry>::new());
    // fetched when the modal opens and after every change
    let version = RwSignal::new(0u32);
    let refresh = move || version.update(|v| *v += 1);
    let fetched = LocalResource::new(move || {
        version.track();
        let asked = open.get();
        async move {
            match asked {
                true => Some(api::history().await),
                false => None,
            }
        }
    });
    Effect::new(move || {
        if let Some(Some(Ok(list))) = fetched.get() {
            entries.set(list.items);
        }
    });
    let remove = Action::new_unsync(|id: &String| {
        let id = id.clone();
        async move { api::delete_history(&id).await }
    });
    let change = Action::new_unsync(|(id, req): &(String, UpdateHistoryRequest)| {
        let (id, req) = (id.clone(), req.clone());
        async move { api::update_history(&id, &req).await.map(|_| ()) }
    });
    // whatever the server answered, the list is asked again
    crate::action::settled(remove, move |_| refresh());
    crate::action::settled(change, move |_| refresh());
    // an entry deleted but still undoable (hidden; gone from the server
    // when the undo time passes, another is deleted, or the modal closes)
    let pending = RwSignal::new(None::<(HistoryEntry, u64)>);
    let pending_seq = StoredValue::new(0u64);
    let commit = move || {
        if let Some((e, _)) = pending.try_update(Option::take).flatten() {
            remove.dispatch(e.id);
        }
    };
    Effect::new(move || {
        if !open.get() {
            commit();
        }
    });
    let update = move |id: String, req: UpdateHistoryRequest| {
        change.dispatch((id, req));
    };
    let delete = move |e: HistoryEntry| {
        commit();
        pending_seq.update_value(|n| *n += 1);
        let seq = pending_seq.get_value();
        pending.set(Some((e, seq)));
        set_timeout(
            move || {
                if pending.with_untracked(|p| p.as_ref().is_some_and(|(_, s)| *s == seq)) {
                    commit();
                }
            },
            std::time::Duration::from_millis(UNDO_MS),
        );
    };
    let undo = move || {
        pending.set(None);
        focus_id("history-0-name");
    };
    let shown = move || {
        let hidden = pending.with(|p| p.as_ref().map(|(e, _)| e.id.clone()));
        entries.with(|list| {
            list.iter()
                .filter(|e| Some(&e.id) != hidden.as_ref())
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let load = move |e: &HistoryEntry| {
        let state = state_of(e, crate::format::now(), &suffix());
        open.set(false);
        on_load.run(state);
    };
    // the entry whose name is being edited
    let renaming = RwSignal::new(None::<String>);
    let row = move |i: usize, e: HistoryEntry| {
        let id = e.id.clone();
        let id_pin = e.id.clone();
        let (id_edit, id_show) = (e.id.clone(), e.id.clone());
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
        let kind = match e.config.session_type {
            SessionType::Interactive => t_string!(i18n, type_interactive).to_string(),
            SessionType::Batch => t_string!(i18n, type_batch).to_string(),
        };
        let entry = StoredValue::new(e.clone());
        let name = e.name.clone();
        let (name_rename, name_delete, name_pin) = (name.clone(), name.clone(), name.clone());
        let row_key = format!("history-{}", e.id);
        let pin_target = format!("[data-row='{row_key}'] .pin-btn");
        let rename_target = format!("[data-row='{row_key}'] .history-rename");
        let save = Callback::new(move |text: String| {
            renaming.set(None);
            if !text.trim().is_empty() && text != entry.with_value(|e| e.name.clone()) {
                update(
                    id.clone(),
                    UpdateHistoryRequest {
                        name: Some(text),
                        pinned: None,
                    },
                );
            }
            // the entry comes back drawn anew with its new name
            crate::focus::focus_css_kept(&rename_target);
        });
        view! {
            <tr class="history-row" id=format!("history-{i}") data-row=row_key>
                <td>
                    // named with the entry; focus follows the entry to its new place
                    <button type="button" class="btn btn-small pin-btn" id=format!("history-{i}-pin")
                        aria-pressed=pinned.to_string()
                        aria-label=move || format!("{}: {}", if pinned { t_string!(i18n, history_unpin) } else { t_string!(i18n, history_pin) }, name_pin)
                        on:click=move |_| {
                            update(id_pin.clone(), UpdateHistoryRequest { name: None, pinned: Some(!pinned) });
                            crate::focus::focus_css_kept(&pin_target);
                        }>
                        {move || if pinned { t_string!(i18n, history_unpin).to_string() } else { t_string!(i18n, history_pin).to_string() }}
                    </button>
                </td>
                <td class="history-name-cell">
                    <Show when=move || renaming.with(|r| r.as_deref() == Some(id_show.as_str()))
                        fallback=move || {
                            let name = name.clone();
                            view! {
                                // the guide: clicking an entry's name loads it
                                <button type="button" class="link-btn history-name" id=format!("history-{i}-name")
                                    title=move || t_string!(i18n, history_load).to_string()
                                    on:click=move |_| entry.with_value(load)>{name}</button>
                            }
                        }>
                        <input type="text" class="history-name-input" id=format!("history-{i}-name-input")
                            aria-label=move || t_string!(i18n, history_name).to_string()
                            prop:value=entry.with_value(|e| e.name.clone())
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                                "Enter" => { ev.prevent_default(); save.run(event_target_value(&ev)) }
                                // closes the edit, not the dialog
                                "Escape" => { ev.stop_propagation(); renaming.set(None); focus_id(&format!("history-{i}-rename")) }
                                _ => {}
                            }
                            on:blur=move |ev| if renaming.get_untracked().is_some() { save.run(event_target_value(&ev)) } />
                    </Show>
                </td>
                <td class="history-type" id=format!("history-{i}-type")>{kind}</td>
                <td>{image}</td>
                <td>{resources}</td>
                <td>{crate::format::local_minute(i18n, e.created_at)}</td>
                <td class="history-actions">
                    <button type="button" class="btn btn-small history-rename" id=format!("history-{i}-rename")
                        aria-label=move || format!("{}: {}", t_string!(i18n, history_rename), name_rename)
                        on:click=move |_| { renaming.set(Some(id_edit.clone())); focus_id(&format!("history-{i}-name-input")) }>
                        {t!(i18n, history_rename)}
                    </button>
                    <button type="button" class="btn btn-small" id=format!("history-{i}-delete")
                        aria-label=move || format!("{}: {}", t_string!(i18n, history_delete), name_delete)
                        on:click=move |_| delete(entry.get_value())>
                        {t!(i18n, history_delete)}
                    </button>
                </td>
            </tr>
        }
    };
    view! {
        <Modal open=open on_close=Callback::new(move |_| open.set(false)) id="history-dialog"
            labelled_by="history-title" class="dialog-wide">
            <h2 id="history-title">{t!(i18n, history_title)}</h2>
            <Show when=move || pending.with(Option::is_some)>
                <p class="undo-bar" role="status" id="history-undo">
                    {move || pending.with(|p| p.as_ref().map(|(e, _)| t_string!(i18n, history_deleted, name = e.name.clone()).to_string()))}
                    " "
                    <button type="button" class="btn btn-small" id="history-undo-button" on:click=move |_| undo()>
                        {t!(i18n, history_undo)}
                    </button>
                </p>
            </Show>
            <Show when=move || !shown().is_empty() fallback=move || view! { <p class="empty">{t!(i18n, history_empty)}</p> }>
                <table class="history-table">
                    // keyed: an entry that moves (pinned) or changes is drawn
                    // anew, so focus follows it instead of staying in place
                    <tbody>
                        <For each=move || shown().into_iter().enumerate()
                            key=|(i, e)| format!("{i}:{}:{}:{}", e.id, e.pinned, e.name)
                            children=move |(i, e)| row(i, e) />
                    </tbody>
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

#[cfg(test)]
mod tests {
    use super::*;
    use berth_shared::sessions::CreateSessionRequest;
    use chrono::TimeZone;

    fn entry(starts_at: Option<DateTime<Utc>>) -> HistoryEntry {
        HistoryEntry {
            id: "h1".into(),
            name: "nightly".into(),
            pinned: false,
            created_at: Utc.timestamp_opt(0, 0).unwrap(),
            config: CreateSessionRequest {
                name: "nightly".into(),
                session_type: SessionType::Batch,
                starts_at,
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_start_time_that_passed_is_cleared_and_said_so() {
        let now = Utc.timestamp_opt(1_000_000, 0).unwrap();
        let past = entry(Some(now - chrono::Duration::minutes(5)));
        let s = state_of(&past, now, "ab12");
        assert_eq!((s.starts_at, s.cleared_start), (None, true));
        assert_eq!(s.name, "nightly-ab12");

        let later = now + chrono::Duration::hours(2);
        let s = state_of(&entry(Some(later)), now, "ab12");
        assert_eq!((s.starts_at, s.cleared_start), (Some(later), false));
        let s = state_of(&entry(None), now, "ab12");
        assert_eq!((s.starts_at, s.cleared_start), (None, false));
    }
}

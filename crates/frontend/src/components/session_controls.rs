//! The sessions list's Control column: icon buttons for one session — the
//! app launcher, the terminal, the logs, and the red power button (which
//! asks before terminating). Apps and terminal need a running session.

use berth_shared::sessions::{SessionInfo, SessionStatus};
use leptos::prelude::*;

use crate::components::dialog_targets::{open_terminal, use_dialogs};
use crate::i18n::*;

/// One icon button (decorative glyph; the name is its ARIA label).
fn icon_button(
    class: &'static str,
    label: String,
    path: &'static str,
    enabled: bool,
    on_click: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <button type="button" class=format!("icon-btn control-btn {class}") aria-label=label.clone() title=label
            disabled=!enabled on:click=move |_| on_click()>
            <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
                <path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" d=path />
            </svg>
        </button>
    }
}

/// The Control cell of a session's row.
#[component]
pub fn SessionControls(s: SessionInfo) -> impl IntoView {
    let i18n = use_i18n();
    let dialogs = use_dialogs();
    let running = s.status == SessionStatus::Running;
    let alive = !s.status.is_finished() && s.status != SessionStatus::Terminating;
    let id = StoredValue::new(s.id);
    let name = StoredValue::new(s.name);
    let named = move |label: String| format!("{label}: {}", name.get_value());
    view! {
        <div class="controls" role="group" aria-label=move || named(t_string!(i18n, col_control).to_string())>
            {icon_button("control-apps", named(t_string!(i18n, action_apps).to_string()),
                "M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h6v6h-6z", running,
                move || dialogs.open_apps(id.get_value(), name.get_value()))}
            {icon_button("control-terminal", named(t_string!(i18n, action_terminal).to_string()),
                "M4 5h16v14H4zM7 9l3 3-3 3M12 15h5", running,
                move || open_terminal(&id.get_value(), &name.get_value()))}
            {icon_button("control-logs", named(t_string!(i18n, action_logs).to_string()),
                "M6 3h9l3 3v15H6zM9 10h6M9 14h6M9 18h4", true,
                move || dialogs.show_logs(id.get_value(), name.get_value(), None))}
            {icon_button("control-power", named(t_string!(i18n, action_terminate).to_string()),
                "M12 3v9M7.05 5.64a8 8 0 1 0 9.9 0", alive,
                move || dialogs.ask_terminate(id.get_value(), name.get_value()))}
        </div>
    }
}

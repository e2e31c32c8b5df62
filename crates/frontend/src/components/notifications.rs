//! Toasts at the bottom right for status changes of the sessions the user
//! launched, and the header bell with their list.

use berth_shared::sessions::SessionStatus;
use leptos::prelude::*;

use crate::components::dialog_targets::{open_terminal, use_dialogs};
use crate::components::idle_checks::rule_name;
use crate::components::status::{reason_text, StatusBadge};
use crate::i18n::*;
use crate::notices::{use_notices, Notice};

/// Lets the page scroll what lies under the toasts (its pager, the
/// launcher's Next and Launch) above them: the page's bottom padding grows
/// by their height (`--toasts-height`). Where they sit is CSS's (bottom
/// right, left of the detail panel while it is open).
fn place_toasts() {
    use wasm_bindgen::JsCast;
    let doc = document();
    let Some(toasts) = doc
        .query_selector(".toasts")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    let height = toasts.offset_height();
    if let Some(root) = doc
        .document_element()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = root
            .style()
            .set_property("--toasts-height", &format!("{height}px"));
    }
}

/// The stack of toasts.
#[component]
pub fn Toasts() -> impl IntoView {
    let i18n = use_i18n();
    let notices = use_notices();
    // after every change of the toasts (and each second: a message may
    // wrap anew as it counts down, the window may be resized)
    Effect::new(move || {
        notices.toasts.track();
        notices.clock.track();
        request_animation_frame(place_toasts);
    });
    view! {
        <div class="toasts" role="region" aria-live="polite"
            aria-label=move || t_string!(i18n, notifications).to_string()>
            <For each=move || notices.toasts.get() key=|n| (n.session_id.clone(), n.seq) let:n>
                <Toast notice=n />
            </For>
        </div>
    }
}

#[component]
fn Toast(notice: Notice) -> impl IntoView {
    let i18n = use_i18n();
    let notices = use_notices();
    let dialogs = use_dialogs();
    let failed = notice.failed();
    let ends_at = notice.ends_at();
    let exit_code = notice.exit_code;
    let Notice {
        session_id,
        name,
        status,
        status_info,
        warning,
        commit,
        pulling,
        ..
    } = notice;
    let id = StoredValue::new(session_id);
    let name = StoredValue::new(name);
    let badge_info = status_info.clone().unwrap_or_default();
    let live_now = !status.is_finished() && status != SessionStatus::Terminating;
    let running = status == SessionStatus::Running;
    let warned = warning.clone();
    let committed = commit.clone();
    let message = move || {
        let n = name.get_value();
        if let Some(c) = &committed {
            let image = berth_shared::images::display_name(&c.name);
            return match &c.error {
                None => t_string!(i18n, toast_commit_done, name = n, image = image).to_string(),
                Some(e) => t_string!(
                    i18n,
                    toast_commit_failed,
                    name = n,
                    image = image,
                    error = e.clone()
                )
                .to_string(),
            };
        }
        if let (Some(w), Some(end)) = (&warned, ends_at) {
            // counts down with the page's clock, and says when
            let left = (end - notices.clock.get()).num_milliseconds().max(0) as f64 / 1000.0;
            return t_string!(
                i18n,
                toast_idle_warning,
                name = n,
                clock = crate::format::local_time(i18n, end),
                time = crate::format::remaining(i18n, left),
                rule = rule_name(i18n, w.rule)
            )
            .to_string();
        }
        if failed && status == SessionStatus::Terminated {
            return match exit_code {
                Some(code) => t_string!(i18n, toast_failed, name = n, code = code).to_string(),
                None => t_string!(i18n, toast_failed_no_code, name = n).to_string(),
            };
        }
        match status {
            SessionStatus::Pending => t_string!(i18n, toast_pending, name = n).to_string(),
            SessionStatus::Running => t_string!(i18n, toast_running, name = n).to_string(),
            SessionStatus::Terminated => t_string!(i18n, toast_terminated, name = n).to_string(),
            SessionStatus::Error => t_string!(i18n, toast_error, name = n).to_string(),
            _ => t_string!(i18n, toast_status, name = n, status = status.as_str()).to_string(),
        }
    };
    view! {
        <div class=format!("toast toast-{}", if warning.is_some() { "idle-warning".to_string() } else if failed { "error".to_string() } else { status.as_str().to_lowercase() })
            id=move || format!("toast-{}", id.get_value()) tabindex="-1"
            role=if failed || warning.is_some() { "alert" } else { "status" }>
            <div class="toast-top">
                <p class="toast-message">{message}</p>
                <button type="button" class="icon-btn toast-close" aria-label=move || t_string!(i18n, btn_close).to_string()
                    on:click=move |_| notices.close_toast(&id.get_value())>"×"</button>
            </div>
            {status_info.map(|i| {
                let code = i.clone();
                // follows a change of language, as the message does
                view! { <p class="toast-info muted" title=i>{move || reason_text(i18n, &code)}</p> }
            })}
            {pulling.map(|(bytes, total)| {
                let text = move || t_string!(
                    i18n,
                    toast_pulling_progress,
                    done = crate::format::unbroken(berth_shared::bytes::ByteSize(bytes).human()),
                    total = crate::format::unbroken(berth_shared::bytes::ByteSize(total).human()),
                    percent = (bytes.saturating_mul(100) / total.max(1)).min(100)
                )
                .to_string();
                view! {
                    <p class="toast-progress">
                        <progress max=total.max(1).to_string() value=bytes.min(total).to_string() aria-label=text></progress>
                        <span class="muted">{text}</span>
                    </p>
                }
            })}
            <div class="toast-bottom">
                <div class="toast-session">
                    <strong class="toast-name" title=name.get_value()>{crate::format::middle_ellipsis(&name.get_value(), NAME_CHARS)}</strong>
                    <StatusBadge status=status info=badge_info.clone() />
                </div>
                <div class="toast-actions">
                    <button type="button" class="btn btn-small toast-apps" disabled=!running aria-haspopup="dialog"
                        title=move || (!running).then(|| t_string!(i18n, apps_need_running).to_string())
                        on:click=move |_| dialogs.open_apps(id.get_value(), name.get_value())>{t!(i18n, action_apps)}</button>
                    <button type="button" class="btn btn-small toast-terminal" disabled=!running
                        title=move || (!running).then(|| t_string!(i18n, apps_need_running).to_string())
                        on:click=move |_| open_terminal(&id.get_value(), &name.get_value())>{t!(i18n, action_terminal)}</button>
                    <button type="button" class="btn btn-small toast-logs"
                        on:click=move |_| dialogs.show_logs(id.get_value(), name.get_value(), None)>
                        {t!(i18n, action_logs)}
                    </button>
                    {live_now.then(|| view! {
                        <button type="button" class="btn btn-small btn-danger toast-terminate"
                            on:click=move |_| dialogs.ask_terminate(id.get_value(), name.get_value())>
                            {t!(i18n, action_terminate)}
                        </button>
                    })}
                </div>
            </div>
        </div>
    }
}

/// The most characters of a session name in a toast (the middle is cut).
const NAME_CHARS: usize = 30;

/// What a bell entry says happened: an idle warning (or its lifting), a
/// saved image, else the new status.
#[component]
fn NoticeTag(notice: Notice) -> impl IntoView {
    let i18n = use_i18n();
    let tag = |class: &'static str, text: String| {
        view! { <span class=format!("status {class} notice-tag")>{text}</span> }.into_any()
    };
    match (&notice.warning, &notice.commit) {
        (Some(w), _) if w.lifted => tag("status-running", t_string!(i18n, notice_idle_lifted).to_string()),
        (Some(_), _) => tag("status-pending", t_string!(i18n, notice_idle_warning).to_string()),
        (_, Some(c)) if c.error.is_none() => tag("status-running", t_string!(i18n, notice_commit_done).to_string()),
        (_, Some(_)) => tag("status-error", t_string!(i18n, notice_commit_failed).to_string()),
        _ => view! { <StatusBadge status=notice.status info=notice.status_info.clone().unwrap_or_default() /> }.into_any(),
    }
}

/// The bell: unread count, and the list of this browser session's notices.
#[component]
pub fn NotificationBell() -> impl IntoView {
    let i18n = use_i18n();
    let notices = use_notices();
    let popups = crate::components::popups::use_popups();
    let open = move || popups.is_open("bell");
    let toggle = move |_| {
        if popups.toggle("bell") {
            notices.mark_read();
        }
    };
    let newest_first = move || {
        let mut n = notices.notices.get();
        n.reverse();
        n
    };
    view! {
        <div class="popup-anchor" data-popup="bell"
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" && popups.close() {
                ev.stop_propagation();
                crate::focus::focus_id("notification-bell");
            }>
            <button type="button" class="icon-btn" id="notification-bell" aria-haspopup="true"
                aria-expanded=move || open().to_string() aria-controls="notification-list"
                aria-label=move || {
                    let n = notices.unread.get();
                    if n > 0 {
                        t_string!(i18n, notifications_unread, count = n).to_string()
                    } else {
                        t_string!(i18n, notifications).to_string()
                    }
                }
                on:click=toggle>
                <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
                    <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"/>
                </svg>
                <Show when=move || { notices.unread.get() > 0 }>
                    <span class="badge" id="notification-count" aria-hidden="true">{move || notices.unread.get()}</span>
                </Show>
            </button>
            <Show when=open>
                <div class="popup notice-popup" id="notification-list" role="region"
                    aria-label=move || t_string!(i18n, notifications).to_string()>
                    <div class="notice-head">
                        <strong>{t!(i18n, notifications)}</strong>
                        <button type="button" class="link-btn" id="notifications-clear"
                            disabled=move || notices.notices.with(Vec::is_empty)
                            on:click=move |_| notices.clear()>
                            {t!(i18n, notifications_clear)}
                        </button>
                    </div>
                    <Show when=move || !notices.notices.with(Vec::is_empty)
                        fallback=move || view! { <p class="empty">{t!(i18n, notifications_empty)}</p> }>
                        <ul class="notice-list">
                            // keyed by the notice's number: a new one slides in on
                            // top, the others stay as drawn
                            <For each=newest_first key=|n| n.seq let:n>{{
                                let shown = n.clone();
                                view! {
                                    <li>
                                        <button type="button" class="notice-item"
                                            on:click=move |_| {
                                                // focus follows to the toast it shows
                                                let toast = format!("toast-{}", shown.session_id);
                                                notices.show_toast(shown.clone());
                                                popups.close();
                                                crate::focus::focus_id_kept(&toast);
                                            }>
                                            <span class="notice-name" title=n.name.clone()>{crate::format::middle_ellipsis(&n.name, NAME_CHARS - 4)}</span>
                                            <NoticeTag notice=n.clone() />
                                            <span class="muted notice-time">{crate::format::local_time(i18n, n.at)}</span>
                                        </button>
                                    </li>
                                }
                            }}</For>
                        </ul>
                    </Show>
                </div>
            </Show>
        </div>
    }
}

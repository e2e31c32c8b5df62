//! The Sessions page: Running and Finished tabs with a type filter (and an
//! owner filter for admins), pages of 20, live through the event stream;
//! a session's name opens its detail panel.

use berth_shared::auth::Role;
use berth_shared::sessions::{SessionQuery, SessionType};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::idle_checks::IdleCell;
use crate::components::session_controls::SessionControls;
use crate::components::session_detail::SessionDetail;
use crate::components::status::StatusBadge;
use crate::format::{local_datetime, unbroken};
use crate::i18n::*;
use crate::live::use_live;

/// Sessions per page.
const PAGE_SIZE: u32 = 20;
/// How often the list is fetched again for fresh idle times.
const IDLE_REFRESH_SECS: i64 = 15;
/// How long typing in the owner filter pauses before it applies.
const OWNER_DEBOUNCE_MS: u64 = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Running,
    Finished,
}

/// Tabs over the caller's sessions (every user's for superadmins).
#[component]
pub fn SessionsPage() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let live = use_live();
    let role = move || {
        auth.user
            .with(|u| u.as_ref().map(|u| u.role))
            .unwrap_or_default()
    };
    let tab = RwSignal::new(Tab::Running);
    let kind = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    // typing applies the owner filter once it pauses (no Enter needed)
    let owner_typed = StoredValue::new(0u64);
    let type_owner = move |text: String| {
        owner_typed.update_value(|n| *n += 1);
        let mine = owner_typed.get_value();
        set_timeout(
            move || {
                if owner_typed.try_get_value() == Some(mine) {
                    owner.try_set(text);
                }
            },
            std::time::Duration::from_millis(OWNER_DEBOUNCE_MS),
        );
    };
    let page = RwSignal::new(1u32);
    let selected = RwSignal::new(None::<String>);
    // a new filter starts at the first page
    Effect::new(move || {
        tab.track();
        kind.track();
        owner.track();
        page.set(1);
    });
    let refresh = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        live.version.track();
        refresh.track();
        let q = SessionQuery {
            status: Some(match tab.get() {
                Tab::Running => "running".into(),
                Tab::Finished => "finished".into(),
            }),
            session_type: Some(kind.get()).filter(|k| !k.is_empty()),
            owner: Some(owner.get()).filter(|o| !o.trim().is_empty()),
            all: None,
            page: Some(page.get()),
            page_size: Some(PAGE_SIZE),
        };
        async move { api::sessions(&q).await }
    });
    // keep the last good page on screen while the next one loads
    let shown = RwSignal::new(None::<berth_shared::sessions::SessionList>);
    // idle times count down between fetches; the list is fetched again
    // every IDLE_REFRESH_SECS (traffic may have reset a rule)
    let fetched_at = RwSignal::new(crate::format::now());
    let clock = RwSignal::new(crate::format::now());
    if let Ok(h) = set_interval_with_handle(
        move || {
            clock.try_set(crate::format::now());
            if (crate::format::now() - fetched_at.get_untracked()).num_seconds()
                >= IDLE_REFRESH_SECS
            {
                refresh.try_update(|v| *v += 1);
            }
        },
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || h.clear());
    }
    let since_fetch = Signal::derive(move || {
        (clock.get() - fetched_at.get()).num_milliseconds().max(0) as f64 / 1000.0
    });
    let owner_error = RwSignal::new(false);
    Effect::new(move || match list.get() {
        Some(Ok(l)) => {
            owner_error.set(false);
            fetched_at.set(crate::format::now());
            // an event about another page's session leaves this one alone
            if shown.with_untracked(|s| s.as_ref() != Some(&l)) {
                shown.set(Some(l));
            }
        }
        Some(Err(ApiError::Invalid(_))) => owner_error.set(true),
        _ => {}
    });
    // an unknown owner shows no sessions (with the message), never the unfiltered list
    let rows = move || {
        if owner_error.get() {
            return vec![];
        }
        shown.with(|l| l.as_ref().map(|l| l.items.clone()).unwrap_or_default())
    };
    let pages = move || {
        shown.with(|l| {
            l.as_ref()
                .map(|l| l.total.div_ceil(PAGE_SIZE as u64).max(1))
                .unwrap_or(1)
        })
    };
    let show_owner = move || role() != Role::User;
    let tab_button = move |which: Tab, id: &'static str| {
        let is = move || tab.get() == which;
        view! {
            <button type="button" role="tab" id=id class="tab" class:active=is
                aria-selected=move || is().to_string() aria-controls="sessions-panel"
                on:click=move |_| tab.set(which)>
                {move || match which {
                    Tab::Running => t_string!(i18n, sessions_running).to_string(),
                    Tab::Finished => t_string!(i18n, sessions_finished).to_string(),
                }}
            </button>
        }
    };
    view! {
        <div class="sessions-layout" class:with-detail=move || selected.with(Option::is_some)>
        <section class="page" aria-labelledby="sessions-title">
            <header class="page-header">
                <h1 id="sessions-title">{t!(i18n, sessions_title)}</h1>
                <A href="/launch" attr:class="btn btn-primary" attr:id="start-button">{t!(i18n, sessions_start)}</A>
            </header>
            <div class="list-bar">
                <div class="tabs" role="tablist" aria-label=move || t_string!(i18n, sessions_tabs).to_string()>
                    {tab_button(Tab::Running, "tab-running")}
                    {tab_button(Tab::Finished, "tab-finished")}
                </div>
                <div class="filters">
                    <label for="filter-type" class="sr-only">{t!(i18n, col_type)}</label>
                    <select id="filter-type" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="">{t!(i18n, filter_all_types)}</option>
                        <option value="interactive">{t!(i18n, type_interactive)}</option>
                        <option value="batch">{t!(i18n, type_batch)}</option>
                    </select>
                    <Show when=show_owner>
                        <label for="filter-owner" class="sr-only">{t!(i18n, filter_owner)}</label>
                        <input id="filter-owner" type="search" autocomplete="off"
                            placeholder=move || t_string!(i18n, filter_owner).to_string()
                            aria-invalid=move || owner_error.get().to_string()
                            aria-describedby="filter-owner-error"
                            on:input=move |ev| type_owner(event_target_value(&ev))
                            on:change=move |ev| owner.set(event_target_value(&ev)) />
                        <span class="field-error" id="filter-owner-error" aria-live="polite">
                            {move || owner_error.get().then(|| t_string!(i18n, filter_owner_unknown).to_string())}
                        </span>
                    </Show>
                </div>
            </div>
            <div class="card" role="tabpanel" id="sessions-panel"
                 aria-labelledby=move || if tab.get() == Tab::Running { "tab-running" } else { "tab-finished" }>
                <Show when=move || !rows().is_empty() fallback=move || view! {
                    <p class="empty" id="sessions-empty">
                        {move || match tab.get() {
                            Tab::Running => t_string!(i18n, sessions_empty_running).to_string(),
                            Tab::Finished => t_string!(i18n, sessions_empty_finished).to_string(),
                        }}
                    </p>
                }>
                    <table class="sessions-table" id="sessions-table">
                        <thead><tr>
                            <th scope="col">{t!(i18n, col_name)}</th>
                            <th scope="col">{t!(i18n, col_status)}</th>
                            // `col-more`: hidden while the detail panel is open
                            // (it shows them), so the rest never squeeze
                            <th scope="col" class="col-more">{t!(i18n, col_type)}</th>
                            <th scope="col" class="col-more">{t!(i18n, col_image)}</th>
                            <th scope="col" class="col-more">{t!(i18n, detail_resources)}</th>
                            <Show when=show_owner><th scope="col">{t!(i18n, col_owner)}</th></Show>
                            <th scope="col" class="col-more">{t!(i18n, col_created)}</th>
                            <th scope="col">{t!(i18n, col_idle)}</th>
                            <th scope="col">{t!(i18n, col_control)}</th>
                        </tr></thead>
                        <tbody>
                            {move || rows().into_iter().map(|s| {
                                let id = s.id.clone();
                                let id2 = s.id.clone();
                                let controls = s.clone();
                                view! {
                                    <tr data-session-id=s.id.clone() class:selected=move || selected.with(|x| x.as_deref() == Some(id2.as_str()))>
                                        <td class="session-name">
                                            <button type="button" class="link-btn session-open"
                                                // names the panel only while it exists (axe: no dangling ids)
                                                aria-controls=move || selected.with(Option::is_some).then_some("session-detail")
                                                on:click=move |_| selected.set(Some(id.clone()))>{s.name.clone()}</button>
                                        </td>
                                        <td><StatusBadge status=s.status info=s.status_info.clone().unwrap_or_default() /></td>
                                        <td class="col-more">{match s.session_type {
                                            SessionType::Interactive => t_string!(i18n, type_interactive).to_string(),
                                            SessionType::Batch => t_string!(i18n, type_batch).to_string(),
                                        }}</td>
                                        <td class="col-more">{s.image.clone()}</td>
                                        <td class="muted col-more">{format!("{} · {}", unbroken(format!("{} CPU", s.resources.cpu)), unbroken(s.resources.mem))}</td>
                                        <Show when=show_owner><td class="owner-cell">{s.owner_email.clone()}</td></Show>
                                        <td class="col-more">{local_datetime(i18n, s.created_at)}</td>
                                        <td class="idle-cell"><IdleCell checks=s.idle_checks.clone() elapsed=since_fetch /></td>
                                        <td class="control-cell"><SessionControls s=controls /></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </Show>
                <nav class="pager" aria-label=move || t_string!(i18n, pager_label).to_string()>
                    <button type="button" class="btn btn-small" id="page-prev" disabled=move || page.get() <= 1
                        on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>{t!(i18n, btn_previous)}</button>
                    <span id="page-info">{move || t_string!(i18n, pager_info, page = page.get(), pages = pages(),
                        total = shown.with(|l| l.as_ref().map(|l| l.total).unwrap_or(0))).to_string()}</span>
                    <button type="button" class="btn btn-small" id="page-next" disabled=move || { u64::from(page.get()) >= pages() }
                        on:click=move |_| page.update(|p| *p += 1)>{t!(i18n, btn_next)}</button>
                </nav>
            </div>
        </section>
        {move || selected.get().map(|id| view! {
            <SessionDetail id=id on_close=Callback::new(move |_| {
                // focus returns to the name that opened the panel
                if let Some(id) = selected.get_untracked() {
                    crate::focus::focus_css(&format!("tr[data-session-id='{id}'] .session-open"));
                }
                selected.set(None);
            }) />
        })}
        </div>
    }
}

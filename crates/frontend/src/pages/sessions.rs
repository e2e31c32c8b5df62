//! The Sessions page: Running and Finished tabs with a type filter (and an
//! owner filter for admins), pages of 20, live through the event stream;
//! a session's name opens its detail panel. The tab, the filters, the page
//! and the open panel live in the URL (`?tab=finished&type=batch&owner=…
//! &page=2&session=<id>`), so a reload or a shared link shows the same.

use std::collections::HashMap;

use berth_shared::auth::Role;
use berth_shared::sessions::{SessionInfo, SessionQuery, SessionType};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{self, ApiError};
use crate::auth::use_auth;
use crate::components::dialog_targets::use_build_parts;
use crate::components::dialogs_elsewhere::OPEN_PATH;
use crate::components::idle_checks::IdleCell;
use crate::components::session_controls::SessionControls;
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

impl Tab {
    /// As the URL and the API spell it.
    fn as_str(self) -> &'static str {
        match self {
            Tab::Running => "running",
            Tab::Finished => "finished",
        }
    }
}

/// The page's state as a query string (defaults left out).
fn query_string(tab: Tab, kind: &str, owner: &str, page: u32, session: Option<&str>) -> String {
    let mut parts = Vec::new();
    if tab == Tab::Finished {
        parts.push(format!("tab={}", tab.as_str()));
    }
    for (key, value) in [("type", kind), ("owner", owner.trim())] {
        if !value.is_empty() {
            parts.push(format!("{key}={}", js_sys::encode_uri_component(value)));
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if let Some(id) = session {
        parts.push(format!("session={}", js_sys::encode_uri_component(id)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
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
    // what the URL holds, read once; the URL follows every change after
    let query = leptos_router::hooks::use_query_map();
    let from_url = |key: &str| query.with_untracked(|q| q.get(key)).unwrap_or_default();
    let tab = RwSignal::new(if from_url("tab") == "finished" {
        Tab::Finished
    } else {
        Tab::Running
    });
    let kind = RwSignal::new(
        Some(from_url("type"))
            .filter(|k| k == "interactive" || k == "batch")
            .unwrap_or_default(),
    );
    let owner = RwSignal::new(from_url("owner"));
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
    let page = RwSignal::new(from_url("page").parse::<u32>().unwrap_or(1).max(1));
    let selected = RwSignal::new(Some(from_url("session")).filter(|s| !s.is_empty()));
    let panel = use_build_parts().detail;
    // a new filter starts at the first page (not the first run: the page
    // may come from the URL)
    Effect::new(move |before: Option<(Tab, String, String)>| {
        let now = (tab.get(), kind.get(), owner.get());
        if before.is_some_and(|b| b != now) {
            page.set(1);
        }
        now
    });
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |before: Option<()>| {
        let q = query_string(
            tab.get(),
            &kind.get(),
            &owner.get(),
            page.get(),
            selected.get().as_deref(),
        );
        let options = leptos_router::NavigateOptions {
            replace: true,
            scroll: false,
            ..Default::default()
        };
        if panel.is_none() && selected.with(Option::is_some) {
            // the first visit's build has no panel: the whole UI opens it
            // from the same query; after a click, as a new history entry
            // (Back returns here), on arrival in place of this one
            crate::handoff::load(&format!("{OPEN_PATH}{q}"), before.is_none());
            return;
        }
        navigate(&format!("/sessions{q}"), options);
    });
    let refresh = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        live.version.track();
        refresh.track();
        let q = SessionQuery {
            status: Some(tab.get().as_str().into()),
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
    // a failed fetch (other than an unknown owner) is shown, with the last
    // good page kept beneath it
    let load_error = RwSignal::new(None::<ApiError>);
    Effect::new(move || match list.get() {
        Some(Ok(l)) => {
            owner_error.set(false);
            load_error.set(None);
            fetched_at.set(crate::format::now());
            // an event about another page's session leaves this one alone
            if shown.with_untracked(|s| s.as_ref() != Some(&l)) {
                shown.set(Some(l));
            }
        }
        Some(Err(ApiError::Invalid(_))) => {
            owner_error.set(true);
            load_error.set(None);
        }
        Some(Err(e)) => load_error.set(Some(e)),
        None => {}
    });
    let loaded = move || shown.with(Option::is_some) || owner_error.get();
    // an unknown owner shows no sessions (with the message), never the unfiltered list
    // each row with a count that grows when its session changes (compared
    // whole): the key, so a changed row is drawn anew and a moved one moved
    let generations = StoredValue::new(HashMap::<String, (SessionInfo, u32)>::new());
    let rows = move || {
        if owner_error.get() {
            return vec![];
        }
        let items = shown.with(|l| l.as_ref().map(|l| l.items.clone()).unwrap_or_default());
        let mut rows = Vec::with_capacity(items.len());
        generations.update_value(|seen| {
            let mut next = HashMap::with_capacity(items.len());
            rows = items
                .into_iter()
                .map(|s| {
                    let generation = match seen.get(&s.id) {
                        Some((before, n)) if *before == s => *n,
                        Some((_, n)) => n.wrapping_add(1),
                        None => 0,
                    };
                    next.insert(s.id.clone(), (s.clone(), generation));
                    (generation, s)
                })
                .collect::<Vec<_>>();
            *seen = next;
        });
        rows
    };
    let has_rows = move || {
        !owner_error.get() && shown.with(|l| l.as_ref().is_some_and(|l| !l.items.is_empty()))
    };
    let pages = move || {
        shown.with(|l| {
            l.as_ref()
                .map(|l| l.total.div_ceil(PAGE_SIZE as u64).max(1))
                .unwrap_or(1)
        })
    };
    let show_owner = move || role() != Role::User;
    view! {
        <div class="sessions-layout" class:with-detail=move || panel.is_some() && selected.with(Option::is_some)>
        <section class="page" aria-labelledby="sessions-title">
            <header class="page-header">
                <h1 id="sessions-title" tabindex="-1">{t!(i18n, sessions_title)}</h1>
                <A href="/launch" attr:class="btn btn-primary" attr:id="start-button">{t!(i18n, sessions_start)}</A>
            </header>
            <ListBar tab=tab kind=kind owner=owner owner_error=owner_error show_owner=Signal::derive(show_owner)
                type_owner=Callback::new(type_owner) />
            <div class="card" role="tabpanel" id="sessions-panel"
                 aria-labelledby=move || if tab.get() == Tab::Running { "tab-running" } else { "tab-finished" }>
                {move || load_error.get().map(|e| view! {
                    <p class="alert alert-error" role="alert" id="sessions-error">
                        {crate::components::field::error_message(i18n, &e)}
                    </p>
                })}
                <Show when=has_rows fallback=move || if loaded() {
                    view! {
                        <p class="empty" id="sessions-empty">
                            {move || match tab.get() {
                                Tab::Running => t_string!(i18n, sessions_empty_running).to_string(),
                                Tab::Finished => t_string!(i18n, sessions_empty_finished).to_string(),
                            }}
                        </p>
                    }.into_any()
                } else if load_error.with(Option::is_some) {
                    ().into_any()
                } else {
                    view! { <p class="loading" role="status" id="sessions-loading">{t!(i18n, loading)}</p> }.into_any()
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
                            // keyed: a row that moves (a new session above it)
                            // is moved, not drawn again; a row whose session
                            // changed is drawn anew
                            <For each=rows key=|(generation, s)| (s.id.clone(), *generation) let:row>
                                <SessionRow s=row.1 selected=selected show_owner=Signal::derive(show_owner) since_fetch=since_fetch />
                            </For>
                        </tbody>
                    </table>
                </Show>
                <Pager page=page pages=Signal::derive(pages)
                    total=Signal::derive(move || shown.with(|l| l.as_ref().map(|l| l.total).unwrap_or(0))) />
            </div>
        </section>
        {move || selected.get().and_then(|id| {
            let close = Callback::new(move |_| {
                // focus returns to the name that opened the panel
                if let Some(id) = selected.get_untracked() {
                    crate::focus::focus_css(&format!("tr[data-session-id='{id}'] .session-open"));
                }
                selected.set(None);
            });
            panel.map(|panel| panel(id, close))
        })}
        </div>
    }
}

/// The tabs and the filters above the list.
#[component]
fn ListBar(
    tab: RwSignal<Tab>,
    kind: RwSignal<String>,
    owner: RwSignal<String>,
    owner_error: RwSignal<bool>,
    show_owner: Signal<bool>,
    /// Typing in the owner filter (applied once it pauses).
    type_owner: Callback<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let tab_button = move |which: Tab, id: &'static str| {
        let is = move || tab.get() == which;
        view! {
            // one tab stop; the arrows (and Home/End) move and choose
            <button type="button" role="tab" id=id class="tab" class:active=is
                aria-selected=move || is().to_string() aria-controls="sessions-panel"
                tabindex=move || if is() { "0" } else { "-1" }
                on:click=move |_| tab.set(which)
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    let key = ev.key();
                    if !matches!(key.as_str(), "ArrowLeft" | "ArrowRight" | "Home" | "End") {
                        return;
                    }
                    if let Some(to) = crate::focus::move_among("#sessions-tabs [role='tab']", &key) {
                        ev.prevent_default();
                        tab.set(if to.id() == "tab-finished" { Tab::Finished } else { Tab::Running });
                    }
                }>
                {move || match which {
                    Tab::Running => t_string!(i18n, sessions_running).to_string(),
                    Tab::Finished => t_string!(i18n, sessions_finished).to_string(),
                }}
            </button>
        }
    };
    view! {
            <div class="list-bar">
                <div class="tabs" role="tablist" id="sessions-tabs" aria-label=move || t_string!(i18n, sessions_tabs).to_string()>
                    {tab_button(Tab::Running, "tab-running")}
                    {tab_button(Tab::Finished, "tab-finished")}
                </div>
                <div class="filters">
                    <label for="filter-type" class="sr-only">{t!(i18n, col_type)}</label>
                    <select id="filter-type" on:change=move |ev| kind.set(event_target_value(&ev))
                        prop:value=move || kind.get()>
                        <option value="">{t!(i18n, filter_all_types)}</option>
                        <option value="interactive">{t!(i18n, type_interactive)}</option>
                        <option value="batch">{t!(i18n, type_batch)}</option>
                    </select>
                    <Show when=move || show_owner.get()>
                        <label for="filter-owner" class="sr-only">{t!(i18n, filter_owner)}</label>
                        <input id="filter-owner" type="search" autocomplete="off"
                            placeholder=move || t_string!(i18n, filter_owner).to_string()
                            value=owner.get_untracked()
                            aria-invalid=move || owner_error.get().to_string()
                            aria-describedby="filter-owner-error"
                            on:input=move |ev| type_owner.run(event_target_value(&ev))
                            on:change=move |ev| owner.set(event_target_value(&ev)) />
                        <span class="field-error" id="filter-owner-error" aria-live="polite">
                            {move || owner_error.get().then(|| t_string!(i18n, filter_owner_unknown).to_string())}
                        </span>
                    </Show>
                </div>
            </div>
    }
}

/// One session of the list.
#[component]
fn SessionRow(
    s: SessionInfo,
    /// The session whose panel is open.
    selected: RwSignal<Option<String>>,
    show_owner: Signal<bool>,
    /// Seconds since the list was fetched (the idle times count down).
    since_fetch: Signal<f64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = s.id.clone();
    let id2 = s.id.clone();
    let controls = s.clone();
    // `data-label`: the column's name, shown beside the value when the
    // list turns into cards on a phone
    let label = |text: &str| text.to_string();
    let owner = s.owner_email.clone();
    view! {
        <tr data-session-id=s.id.clone() data-row=s.id.clone() class:selected=move || selected.with(|x| x.as_deref() == Some(id2.as_str()))>
            <td class="session-name">
                <button type="button" class="link-btn session-open" title=s.name.clone()
                    // names the panel only while it exists (axe: no dangling ids)
                    aria-controls=move || selected.with(Option::is_some).then_some("session-detail")
                    on:click=move |_| selected.set(Some(id.clone()))>{s.name.clone()}</button>
            </td>
            <td class="status-cell"><StatusBadge status=s.status info=s.status_info.clone().unwrap_or_default() /></td>
            <td class="col-more" data-label=label(t_string!(i18n, col_type))>{match s.session_type {
                SessionType::Interactive => t_string!(i18n, type_interactive).to_string(),
                SessionType::Batch => t_string!(i18n, type_batch).to_string(),
            }}</td>
            <td class="col-more" data-label=label(t_string!(i18n, col_image))>{s.image_label().to_string()}</td>
            <td class="muted col-more" data-label=label(t_string!(i18n, detail_resources))>{format!("{} · {}", unbroken(format!("{} CPU", s.resources.cpu)), unbroken(s.resources.mem))}</td>
            <Show when=move || show_owner.get()>
                <td class="owner-cell" data-label=label(t_string!(i18n, col_owner))><span title=owner.clone()>{owner.clone()}</span></td>
            </Show>
            <td class="col-more col-when" data-label=label(t_string!(i18n, col_created))>{local_datetime(i18n, s.created_at)}</td>
            <td class="idle-cell" data-label=label(t_string!(i18n, col_idle))><IdleCell checks=s.idle_checks.clone() elapsed=since_fetch /></td>
            <td class="control-cell"><SessionControls s=controls /></td>
        </tr>
    }
}

/// Previous / next over the pages of the list.
#[component]
fn Pager(page: RwSignal<u32>, pages: Signal<u64>, total: Signal<u64>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <nav class="pager" aria-label=move || t_string!(i18n, pager_label).to_string()>
            <button type="button" class="btn btn-small" id="page-prev" disabled=move || page.get() <= 1
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>{t!(i18n, btn_previous)}</button>
            <span id="page-info">{move || t_string!(i18n, pager_info, page = page.get(), pages = pages.get(),
                total = total.get()).to_string()}</span>
            <button type="button" class="btn btn-small" id="page-next" disabled=move || { u64::from(page.get()) >= pages.get() }
                on:click=move |_| page.update(|p| *p += 1)>{t!(i18n, btn_next)}</button>
        </nav>
    }
}

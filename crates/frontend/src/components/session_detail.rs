//! The session detail panel: every fact about one session, its live
//! resource use, its kernels, and the actions on it.

use berth_shared::bytes::ByteSize;
use berth_shared::sessions::{
    session_name, status_details, IdleChecks, SessionInfo, SessionStatus, SessionType, StatusDetail,
};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::dialog_targets::{open_terminal, use_dialogs, CommitTarget};
use crate::components::field::field_message;
use crate::components::idle_checks::IdleSection;
use crate::components::loaded::Loaded;
use crate::components::status::{check_text, idle_verdict_text, reason_text, StatusBadge};
use crate::format::{elapsed, local_datetime, unbroken};
use crate::i18n::*;
use crate::live::use_live;

/// How often live usage is measured while the panel is open.
const USAGE_MS: u64 = 5_000;

/// The panel for session `id`; `on_close` hides it.
#[component]
pub fn SessionDetail(#[prop(into)] id: Signal<String>, on_close: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let info = LocalResource::new(move || {
        let id = id.get();
        live.version.track();
        async move { api::session(&id).await }
    });
    // Every event refetches, but the panel is rebuilt only when this
    // session really changed: an open rename or Info stays as it is.
    let current = RwSignal::new(None::<Result<SessionInfo, ApiError>>);
    Effect::new(move || {
        if let Some(v) = info.get() {
            if current.with_untracked(|c| c.as_ref() != Some(&v)) {
                current.set(Some(v));
            }
        }
    });
    // the clock for the elapsed time
    let now = RwSignal::new(crate::format::now());
    if let Ok(h) = set_interval_with_handle(
        move || {
            now.try_set(crate::format::now());
        },
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || h.clear());
    }
    let popups = crate::components::popups::use_popups();
    // keyboard and screen-reader users land in the panel that just opened
    let title = NodeRef::<leptos::html::H2>::new();
    title.on_load(|h| {
        request_animation_frame(move || {
            let _ = h.focus();
        });
    });
    view! {
        <aside class="detail-panel" id="session-detail" role="region" aria-labelledby="detail-title"
            // an open popup takes the first Escape (the topmost layer closes first)
            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" && !popups.close() { on_close.run(()) }>
            <div class="detail-head">
                <h2 id="detail-title" tabindex="-1" node_ref=title>{t!(i18n, detail_title)}</h2>
                <button type="button" class="icon-btn" id="detail-close" aria-label=move || t_string!(i18n, btn_close).to_string()
                    on:click=move |_| on_close.run(())>"×"</button>
            </div>
            // a language switch draws the body anew, in the new language
            {move || { i18n.get_locale(); view! {
            <Loaded value=current failed=Callback::new(move |e| match e {
                ApiError::Problem(p) if p.status == 404 => view! { <p class="empty">{t!(i18n, detail_gone)}</p> }.into_any(),
                _ => view! { <p class="alert alert-error" role="alert">{t!(i18n, error_generic)}</p> }.into_any(),
            }) let:s>
                <DetailBody s=s now=now />
            </Loaded>
            }}}
        </aside>
    }
}

#[component]
fn DetailBody(s: SessionInfo, now: RwSignal<chrono::DateTime<chrono::Utc>>) -> impl IntoView {
    let i18n = use_i18n();
    let dialogs = use_dialogs();
    let s = StoredValue::new(s);
    let st = s.with_value(|s| s.status);
    let alive = !st.is_finished();
    let show_info = RwSignal::new(false);
    let has_info = matches!(
        st,
        SessionStatus::Pending
            | SessionStatus::Terminated
            | SessionStatus::Cancelled
            | SessionStatus::Error
    );
    let created = s.with_value(|s| s.created_at);
    let ended = s.with_value(|s| s.terminated_at);
    let ticking = move || {
        let until = ended.unwrap_or_else(|| now.get());
        elapsed(i18n, (until - created).num_seconds())
    };
    // a batch session waiting for its start time: the countdown is the
    // browser's (the server says the time once, not every second)
    let starts_at = s
        .with_value(|s| s.starts_at)
        .filter(|_| st == SessionStatus::Pending);
    let countdown = move |at: chrono::DateTime<chrono::Utc>| {
        let left = (at - now.get()).num_seconds();
        if left > 0 {
            t_string!(
                i18n,
                detail_starts_in,
                when = local_datetime(i18n, at),
                left = elapsed(i18n, left)
            )
            .to_string()
        } else {
            local_datetime(i18n, at)
        }
    };
    let res = s.with_value(|s| s.resources.clone());
    // a value never parts from its unit ("64 MiB", not "64 / MiB")
    let mut res_text = [
        format!("{} CPU", res.cpu),
        res.mem.to_string(),
        format!("shm {}", res.shmem),
    ]
    .map(unbroken)
    .join(" · ");
    for (k, v) in &res.accelerators {
        res_text.push_str(&format!(" · {}", unbroken(format!("{v} {k}"))));
    }
    let details = s.with_value(|s| {
        s.status_data
            .as_ref()
            .map(status_details)
            .unwrap_or_default()
    });
    let info_lines = details
        .into_iter()
        .map(|d| match d {
            StatusDetail::FailedCheck { why: Some(why), .. } => check_text(i18n, &why),
            StatusDetail::FailedCheck {
                name,
                msg,
                why: None,
            } => t_string!(i18n, info_failed_check, name = name, msg = msg).to_string(),
            StatusDetail::QueuePosition { group, position } => t_string!(
                i18n,
                info_queue_position,
                position = position,
                group = group
            )
            .to_string(),
            StatusDetail::ExitCode(c) => t_string!(i18n, info_exit_code, code = c).to_string(),
            StatusDetail::Error { src, repr } => {
                t_string!(i18n, info_error, src = src, repr = repr).to_string()
            }
            StatusDetail::BatchTimeout(secs) => {
                t_string!(i18n, info_batch_timeout, secs = secs).to_string()
            }
            StatusDetail::AgentLost { agent, since } => t_string!(
                i18n,
                info_agent_lost,
                agent = agent,
                since = local_datetime(i18n, since)
            )
            .to_string(),
            StatusDetail::Idle(verdict) => idle_verdict_text(i18n, &verdict),
            StatusDetail::Pulling {
                agent,
                source,
                bytes,
                total,
            } => t_string!(
                i18n,
                info_pulling,
                agent = agent,
                source = source,
                done = unbroken(ByteSize(bytes).human()),
                total = unbroken(ByteSize(total).human()),
                percent = (bytes.saturating_mul(100) / total.max(1)).min(100)
            )
            .to_string(),
            StatusDetail::Other(t) => t,
        })
        .collect::<Vec<_>>();
    let status_info = s.with_value(|s| s.status_info.clone());
    let kernels = s.with_value(|s| s.kernels.clone());
    let mounts = s.with_value(|s| s.mounts.clone());
    let preopen = s.with_value(|s| {
        s.preopen_ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    });
    let id = s.with_value(|s| s.id.clone());
    let name = s.with_value(|s| s.name.clone());
    let (id2, name2, id3, name3) = (id.clone(), name.clone(), id.clone(), name.clone());
    let (id4, name4, id5, name5) = (id.clone(), name.clone(), id.clone(), name.clone());
    let running = st == SessionStatus::Running;
    let committing = s.with_value(|s| s.commit.clone());
    let can_commit = running
        && committing.is_none()
        && s.with_value(|s| s.session_type) == SessionType::Interactive;
    let commit_target = CommitTarget {
        session_id: id.clone(),
        name: name.clone(),
        image: s.with_value(|s| s.image_label().to_string()),
        resources: res_text.clone(),
    };
    let commit_note = committing.map(|c| {
        let started = c.started_at;
        move || {
            t_string!(
                i18n,
                commit_in_progress,
                name = c.name.clone(),
                time = elapsed(i18n, (now.get() - started).num_seconds())
            )
            .to_string()
        }
    });
    let cell = |label: String, value: AnyView, key: &'static str| {
        view! { <div class="detail-row" data-field=key><dt>{label}</dt><dd>{value}</dd></div> }
    };
    // a value too long for the second column (the id) gets a line of its own
    let wide_cell = |label: String, value: AnyView, key: &'static str| {
        view! { <div class="detail-row detail-row-wide" data-field=key><dt>{label}</dt><dd>{value}</dd></div> }
    };
    view! {
        <div class="detail-actions" role="toolbar" aria-label=move || t_string!(i18n, detail_actions).to_string()>
            <button type="button" class="btn btn-small" id="detail-apps" disabled=!running aria-haspopup="dialog"
                title=move || (!running).then(|| t_string!(i18n, apps_need_running).to_string())
                on:click=move |_| dialogs.open_apps(id4.clone(), name4.clone())>{t!(i18n, action_apps)}</button>
            <button type="button" class="btn btn-small" id="detail-terminal" disabled=!running
                title=move || (!running).then(|| t_string!(i18n, apps_need_running).to_string())
                on:click=move |_| open_terminal(&id5, &name5)>{t!(i18n, action_terminal)}</button>
            <button type="button" class="btn btn-small" id="detail-logs"
                on:click=move |_| dialogs.show_logs(id2.clone(), name2.clone(), None)>
                {t!(i18n, action_logs)}
            </button>
            <button type="button" class="btn btn-small" id="detail-commit" aria-haspopup="dialog"
                disabled=!can_commit
                title=move || (!can_commit).then(|| t_string!(i18n, commit_need_running).to_string())
                on:click=move |_| dialogs.commit.set(Some(commit_target.clone()))>{t!(i18n, action_commit)}</button>
            <button type="button" class="btn btn-small btn-danger btn-power" id="detail-terminate" disabled=!alive
                aria-label=move || t_string!(i18n, action_terminate).to_string()
                on:click=move |_| dialogs.ask_terminate(id3.clone(), name3.clone())>
                <svg aria-hidden="true" viewBox="0 0 24 24" width="16" height="16"><path fill="currentColor" d="M11 3h2v10h-2zM7.05 5.64l1.41 1.41A6 6 0 1 0 15.54 7l1.41-1.41A8 8 0 1 1 7.05 5.64Z"/></svg>
                {t!(i18n, action_terminate)}
            </button>
        </div>
        {commit_note.map(|note| view! { <p class="alert alert-info" role="status" id="detail-committing">{note}</p> })}
        <RenameField id=id.clone() name=name.clone() alive=alive />
        <dl class="detail-list">
            {wide_cell(t_string!(i18n, detail_id).to_string(), view! { <code id="detail-id">{id.clone()}</code> }.into_any(), "id")}
            {cell(t_string!(i18n, col_owner).to_string(), view! { <span id="detail-owner">{s.with_value(|s| s.owner_email.clone())}</span> }.into_any(), "owner")}
            {cell(t_string!(i18n, col_status).to_string(), view! {
                <span id="detail-status"><StatusBadge status=st info=status_info.clone().unwrap_or_default() /></span>
                {has_info.then(|| view! {
                    <button type="button" class="btn btn-small" id="detail-info" aria-expanded=move || show_info.get().to_string()
                        aria-controls="detail-info-box" on:click=move |_| show_info.update(|v| *v = !*v)>{t!(i18n, detail_info)}</button>
                })}
            }.into_any(), "status")}
        </dl>
        // between two lists: a <dl> holds only name/value groups
        <Show when=move || show_info.get()>
                <div class="info-box" id="detail-info-box" role="note">
                    <p>
                        <strong id="detail-status-text">{status_info.as_deref().map(|c| reason_text(i18n, c)).unwrap_or_else(|| t_string!(i18n, detail_no_reason).to_string())}</strong>
                    </p>
                    <ul>{info_lines.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul>
                    // the code itself, for scripts and the REST API: behind a
                    // detail, out of the reading line
                    {status_info.clone().map(|c| view! {
                        <details class="reason-code" id="detail-reason-code">
                            <summary>{t!(i18n, detail_reason_code)}</summary>
                            <code id="detail-status-info">{c}</code>
                        </details>
                    })}
                </div>
        </Show>
        <dl class="detail-list">
            {starts_at.map(|at| cell(t_string!(i18n, detail_starts_at).to_string(),
                view! { <span id="detail-starts">{move || countdown(at)}</span> }.into_any(), "starts"))}
            {cell(t_string!(i18n, col_type).to_string(), view! { <span>{match s.with_value(|s| s.session_type) {
                SessionType::Interactive => t_string!(i18n, type_interactive).to_string(),
                SessionType::Batch => t_string!(i18n, type_batch).to_string(),
            }}</span> }.into_any(), "type")}
            {cell(t_string!(i18n, col_image).to_string(), view! { <span id="detail-image" title=s.with_value(|s| s.image.clone())>{s.with_value(|s| s.image_label().to_string())}</span> }.into_any(), "image")}
            {cell(t_string!(i18n, detail_mounts).to_string(), view! { <span id="detail-mounts">{
                if mounts.is_empty() { t_string!(i18n, detail_no_mounts).to_string() } else {
                    mounts.iter().map(|m| if m.read_only {
                        t_string!(i18n, mount_read_only, name = m.name.clone()).to_string()
                    } else {
                        m.name.clone()
                    }).collect::<Vec<_>>().join(", ")
                }
            }</span> }.into_any(), "mounts")}
            {(!preopen.is_empty()).then(|| cell(t_string!(i18n, detail_preopen_ports).to_string(),
                view! { <span id="detail-preopen">{preopen.clone()}</span> }.into_any(), "preopen"))}
            {cell(t_string!(i18n, detail_resources).to_string(), view! { <span id="detail-resources">{res_text}</span> }.into_any(), "resources")}
            {cell(t_string!(i18n, detail_reserved).to_string(), view! { <span id="detail-created">{local_datetime(i18n, created)}</span> }.into_any(), "created")}
            {cell(t_string!(i18n, detail_elapsed).to_string(), view! { <span id="detail-elapsed">{ticking}</span> }.into_any(), "elapsed")}
            {cell(t_string!(i18n, detail_agent).to_string(), view! { <span id="detail-agent">{s.with_value(|s| s.agent.clone()).unwrap_or_else(|| "—".into())}</span> }.into_any(), "agent")}
            {cell(t_string!(i18n, detail_cluster).to_string(), view! { <span id="detail-cluster">{s.with_value(|s| {
                let mode = match berth_shared::sessions::ClusterMode::parse(&s.cluster_mode) {
                    Some(berth_shared::sessions::ClusterMode::MultiNode) => t_string!(i18n, cluster_multi_node).to_string(),
                    Some(berth_shared::sessions::ClusterMode::SingleNode) => t_string!(i18n, cluster_single_node).to_string(),
                    None => s.cluster_mode.clone(),
                };
                t_string!(i18n, cluster_review, mode = mode, size = s.cluster_size).to_string()
            })}</span> }.into_any(), "cluster")}
        </dl>
        {(st == SessionStatus::Running).then(|| view! { <UsageBox id=id.clone() now=now /> })}
        <h3 class="detail-sub">{t!(i18n, detail_kernels)}</h3>
        // one line per kernel: its host name with its Logs beside it (as
        // the guide places them) and its status; role, agent and devices
        // under it, so the panel never scrolls sideways
        <ul class="kernel-list" id="detail-kernels">
            {kernels.into_iter().map(|k| {
                let (sid, sname, kid) = (id.clone(), name.clone(), k.id.clone());
                let devices = k
                    .devices
                    .iter()
                    .map(|(slot, ids)| {
                        let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
                        unbroken(format!("{slot} {}", ids.join(",")))
                    })
                    .collect::<Vec<_>>()
                    .join(" · ");
                let mut meta = vec![
                    format!("{}: {}", t_string!(i18n, kernel_role), k.role),
                    format!("{}: {}", t_string!(i18n, col_agent), k.agent.clone().unwrap_or_else(|| "—".into())),
                ];
                if !devices.is_empty() {
                    meta.push(format!("{}: {devices}", t_string!(i18n, kernel_devices)));
                }
                let logs_label = format!("{}: {}", t_string!(i18n, action_logs), k.hostname);
                view! {
                    <li class="kernel">
                        <div class="kernel-head">
                            <span class="kernel-host">{k.hostname.clone()}</span>
                            <button type="button" class="btn btn-small kernel-logs" aria-label=logs_label
                                on:click=move |_| dialogs.show_logs(sid.clone(), sname.clone(), Some(kid.clone()))>
                                {t!(i18n, action_logs)}
                            </button>
                            <span class="kernel-status"><StatusBadge status=k.status /></span>
                        </div>
                        <p class="muted kernel-meta">{meta.join(" · ")}</p>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// Live CPU, memory and network use, measured every few seconds, and the
/// idle checks reported with them.
#[component]
fn UsageBox(id: String, now: RwSignal<chrono::DateTime<chrono::Utc>>) -> impl IntoView {
    let i18n = use_i18n();
    let tick = RwSignal::new(0u32);
    if let Ok(h) = set_interval_with_handle(
        move || {
            tick.try_update(|t| *t += 1);
        },
        std::time::Duration::from_millis(USAGE_MS),
    ) {
        on_cleanup(move || h.clear());
    }
    let id = StoredValue::new(id);
    let usage = LocalResource::new(move || {
        tick.track();
        let id = id.get_value();
        async move { api::session_usage(&id).await }
    });
    // the idle report of the last answer, and when (browser time) it came
    let idle = RwSignal::new(None::<IdleChecks>);
    let idle_at = RwSignal::new(crate::format::now());
    Effect::new(move || {
        if let Some(Ok(u)) = usage.get() {
            idle_at.set(crate::format::now());
            idle.set(u.idle_checks);
        }
    });
    let elapsed = Signal::derive(move || {
        (now.get() - idle_at.get()).num_milliseconds().max(0) as f64 / 1000.0
    });
    view! {
        <IdleSection checks=idle elapsed=elapsed />
        <div class="usage-box" id="detail-usage" aria-live="off">
            <h3 class="detail-sub">{t!(i18n, detail_usage)}</h3>
            <Loaded value=Signal::derive(move || usage.get())
                loading=move || view! { <p class="muted">{t!(i18n, usage_measuring)}</p> }
                failed=Callback::new(move |_| view! { <p class="muted">{t!(i18n, usage_unavailable)}</p> }.into_any())
                let:u>
                {u.kernels.first().map(|k| {
                    let cpu = unbroken(format!("{:.1} %", k.cpu_percent));
                    let mem = format!("{} / {}", unbroken(k.mem_used), unbroken(k.mem_limit));
                    let net = format!("{} · {}", unbroken(format!("↓ {}", k.net_rx)), unbroken(format!("↑ {}", k.net_tx)));
                    view! {
                        <dl class="usage-grid">
                            <div><dt>{t!(i18n, usage_cpu)}</dt><dd id="usage-cpu">{cpu}</dd></div>
                            <div><dt>{t!(i18n, usage_mem)}</dt><dd id="usage-mem">{mem}</dd></div>
                            <div><dt>{t!(i18n, usage_net)}</dt><dd id="usage-net">{net}</dd></div>
                        </dl>
                    }.into_any()
                }).unwrap_or_else(|| view! { <p class="muted">"—"</p> }.into_any())}
            </Loaded>
        </div>
    }
}

/// The name, with an inline rename that follows the shared rule.
#[component]
fn RenameField(id: String, name: String, alive: bool) -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(name.clone());
    let server_error = RwSignal::new(None::<String>);
    let id = StoredValue::new(id);
    let name = StoredValue::new(name);
    let local_error = move || {
        draft
            .with(|d| session_name(d.trim()).err())
            .map(|e| field_message(i18n, e.code))
    };
    let action = Action::new_unsync(|(id, new): &(String, String)| {
        let (id, new) = (id.clone(), new.clone());
        async move { api::rename_session(&id, &new).await.map(|_| ()) }
    });
    crate::action::settled(action, move |outcome| match outcome {
        Ok(()) => {
            editing.set(false);
            live.version.update(|v| *v += 1);
            // the panel draws itself anew with the new name
            crate::focus::focus_id_kept("detail-rename");
        }
        Err(ApiError::Invalid(errs)) => {
            server_error.set(errs.first().map(|e| field_message(i18n, &e.code)))
        }
        Err(_) => server_error.set(Some(t_string!(i18n, error_generic).to_string())),
    });
    let save = move || {
        if local_error().is_some() || action.pending().get_untracked() {
            return;
        }
        let new = draft.get_untracked().trim().to_string();
        action.dispatch((id.get_value(), new));
    };
    view! {
        <div class="detail-name">
            <Show when=move || editing.get() fallback=move || view! {
                <h3 class="session-title" id="detail-name">{name.get_value()}</h3>
                {alive.then(|| view! {
                    <button type="button" class="btn btn-small" id="detail-rename"
                        on:click=move |_| {
                            draft.set(name.get_value());
                            server_error.set(None);
                            editing.set(true);
                            crate::focus::focus_id("rename-input");
                        }>
                        {t!(i18n, action_rename)}
                    </button>
                })}
            }>
                <label class="sr-only" for="rename-input">{t!(i18n, session_name)}</label>
                <input id="rename-input" type="text" autocomplete="off" autofocus=true
                    prop:value=move || draft.get()
                    on:input=move |ev| { draft.set(event_target_value(&ev)); server_error.set(None); }
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                        "Enter" => save(),
                        "Escape" => { ev.stop_propagation(); editing.set(false); crate::focus::focus_id("detail-rename") }
                        _ => {}
                    }
                    aria-invalid=move || (local_error().is_some() || server_error.with(Option::is_some)).to_string()
                    aria-describedby="rename-error" />
                <button type="button" class="btn btn-small btn-primary" id="rename-save"
                    disabled=move || local_error().is_some() on:click=move |_| save()>{t!(i18n, btn_save)}</button>
                <button type="button" class="btn btn-small" id="rename-cancel"
                    on:click=move |_| { editing.set(false); crate::focus::focus_id("detail-rename") }>{t!(i18n, btn_cancel)}</button>
                <p class="field-error" id="rename-error" aria-live="polite">{move || local_error().or_else(|| server_error.get())}</p>
            </Show>
        </div>
    }
}

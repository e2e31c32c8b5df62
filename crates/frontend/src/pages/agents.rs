//! The Agents page (admins): every Docker engine berth drives, with its
//! group, state (ALIVE, or LOST since when; drained), capacity, what
//! sessions hold and the reserve; register an engine, drain or resume one,
//! remove one nothing runs on.

use std::collections::BTreeMap;

use berth_shared::agents::{RegisterAgent, UpdateAgent};
use berth_shared::bytes::ByteSize;
use berth_shared::resources::{AgentInfo, AgentStatus};
use berth_shared::sessions::amount;
use berth_shared::FieldError;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::confirm_dialog::{ConfirmAction, ConfirmDialog};
use crate::components::dialog::Modal;
use crate::components::field::{error_message, error_message_of};
use crate::components::loaded::Loaded;
use crate::components::text_field::TextField;
use crate::format::{local_datetime, unbroken};
use crate::i18n::*;
use crate::live::use_live;

/// How often the list is asked again: an engine that stops answering
/// changes no session.
const REFRESH_MS: u64 = 3000;

/// The page.
#[component]
pub fn AgentsPage() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let refresh = RwSignal::new(0u32);
    let bump = move || refresh.update(|n| *n += 1);
    if let Ok(h) = set_interval_with_handle(bump, std::time::Duration::from_millis(REFRESH_MS)) {
        on_cleanup(move || h.clear());
    }
    let agents = LocalResource::new(move || {
        live.version.track();
        refresh.track();
        api::agents()
    });
    let registering = RwSignal::new(false);
    let removing = RwSignal::new(None::<AgentInfo>);
    view! {
        <section class="page" aria-labelledby="agents-title">
            <header class="page-header">
                <h1 id="agents-title" tabindex="-1">{t!(i18n, agents_title)}</h1>
                <button type="button" class="btn btn-primary" id="register-agent-button" aria-haspopup="dialog"
                    on:click=move |_| registering.set(true)>{t!(i18n, agent_register)}</button>
            </header>
            // what the page is about, for an admin who meets it first
            <div class="page-intro" id="agents-intro">
                <p>{t!(i18n, agents_intro)}</p>
                <ul>
                    <li>{t!(i18n, agents_intro_group)}</li>
                    <li>{t!(i18n, agents_intro_drain)}</li>
                    <li>{t!(i18n, agents_intro_local)}</li>
                    <li>{t!(i18n, agents_intro_storage)}</li>
                </ul>
            </div>
            <div class="card">
                <Loaded value=Signal::derive(move || agents.get()) let:list>
                    <table class="admin-table" id="agents-table">
                        <thead><tr>
                            <th scope="col">{t!(i18n, col_agent)}</th>
                            <th scope="col">{t!(i18n, col_group)}</th>
                            <th scope="col">{t!(i18n, col_state)}</th>
                            <th scope="col">{t!(i18n, col_cpu)}</th>
                            <th scope="col">{t!(i18n, col_memory)}</th>
                            <th scope="col">{t!(i18n, col_accelerators)}</th>
                            <th scope="col"><span class="sr-only">{t!(i18n, explorer_actions)}</span></th>
                        </tr></thead>
                        <tbody>
                            {list.items.into_iter().map(|a| view! {
                                <AgentRow agent=a on_changed=Callback::new(move |_| bump())
                                    on_remove=Callback::new(move |a| removing.set(Some(a))) />
                            }).collect_view()}
                        </tbody>
                    </table>
                </Loaded>
            </div>
            <RegisterAgentDialog open=registering on_done=Callback::new(move |_| bump()) />
            <RemoveAgentDialog agent=removing on_done=Callback::new(move |_| bump()) />
        </section>
    }
}

/// "used / total" with the reserve when there is one.
fn with_reserve(used: String, total: String, reserve: Option<String>) -> String {
    let held = unbroken(format!("{used} / {total}"));
    match reserve {
        Some(r) => format!("{held} (−{})", unbroken(r)),
        None => held,
    }
}

/// One agent: state, capacity, drain/resume, remove.
#[component]
fn AgentRow(
    agent: AgentInfo,
    on_changed: Callback<()>,
    on_remove: Callback<AgentInfo>,
) -> impl IntoView {
    let i18n = use_i18n();
    let failure = RwSignal::new(None::<String>);
    let a = StoredValue::new(agent.clone());
    let lost = agent.status == AgentStatus::Lost;
    let since = agent.lost_since;
    let drained = !agent.schedulable;
    let action = Action::new_unsync(|(id, req): &(String, UpdateAgent)| {
        let (id, req) = (id.clone(), req.clone());
        async move { api::update_agent(&id, &req).await.map(|_| ()) }
    });
    crate::action::settled(action, move |outcome| match outcome {
        Ok(()) => {
            failure.set(None);
            on_changed.run(());
        }
        Err(e) => failure.set(Some(error_message(i18n, &e))),
    });
    let toggle = move |_| {
        if action.pending().get_untracked() {
            return;
        }
        let (id, open) = a.with_value(|a| (a.id.clone(), a.schedulable));
        let req = UpdateAgent {
            schedulable: Some(!open),
            ..Default::default()
        };
        action.dispatch((id, req));
    };
    let cpu = with_reserve(
        amount(agent.cpu_used),
        amount(agent.cpu_total),
        (agent.reserve_cpu > 0.0).then(|| amount(agent.reserve_cpu)),
    );
    let mem = with_reserve(
        agent.mem_used.human(),
        agent.mem_total.human(),
        (agent.reserve_mem.0 > 0).then(|| agent.reserve_mem.human()),
    );
    let accel = agent
        .accelerators_total
        .iter()
        .map(|(slot, total)| {
            let used = agent.accelerators_used.get(slot).copied().unwrap_or(0.0);
            unbroken(format!("{} / {} {slot}", amount(used), amount(*total)))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let id = agent.id.clone();
    view! {
        <tr id=format!("agent-{id}") data-row=format!("agent-{id}")>
            <th scope="row">
                <span class="agent-id">{agent.id.clone()}</span>
                <span class="muted agent-host">{agent.docker_host.clone().unwrap_or_default()}</span>
                <span class="muted agent-storage">{match (agent.sees_storage, agent.storage_path.clone()) {
                    (true, Some(path)) => t_string!(i18n, agent_storage_at, path = path).to_string(),
                    (true, None) => String::new(),
                    (false, _) => t_string!(i18n, agent_no_storage).to_string(),
                }}</span>
            </th>
            <td>{agent.resource_group.clone()}</td>
            <td><div class="agent-state">
                {if lost {
                    view! { <span class="status status-error">{t!(i18n, agent_lost)}</span> }.into_any()
                } else {
                    view! { <span class="status status-running">{t!(i18n, agent_alive)}</span> }.into_any()
                }}
                {since.map(|at| view! {
                    <span class="muted">{move || t_string!(i18n, agent_lost_since, at = local_datetime(i18n, at)).to_string()}</span>
                })}
                {drained.then(|| view! { <span class="status status-pending">{t!(i18n, agent_drained)}</span> })}
            </div></td>
            <td>{cpu}</td>
            <td>{mem}</td>
            <td>{accel}</td>
            <td class="entry-actions">
                <button type="button" class="btn btn-small" id=format!("drain-{id}") on:click=toggle>
                    {move || if drained { t_string!(i18n, agent_resume) } else { t_string!(i18n, agent_drain) }}
                </button>
                // the server's own engine stays (drain it instead): no Remove
                {(id != berth_shared::agents::LOCAL_AGENT).then(|| view! {
                    <button type="button" class="btn btn-small btn-danger" id=format!("remove-{id}") aria-haspopup="dialog"
                        on:click=move |_| on_remove.run(a.get_value())>{t!(i18n, btn_remove)}</button>
                })}
                <Show when=move || failure.with(Option::is_some)>
                    <p class="field-error" role="alert">{move || failure.get()}</p>
                </Show>
            </td>
        </tr>
    }
}

/// `cuda.device=2, fake.device=4` as slots; `None` when a part is not
/// `name=number`.
fn parse_accelerators(text: &str) -> Option<BTreeMap<String, f64>> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// The register form: id, engine address, TLS folder, group, reserve,
/// accelerators; the server's field errors under each field.
#[component]
fn RegisterAgentDialog(open: RwSignal<bool>, on_done: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let id = RwSignal::new(String::new());
    let host = RwSignal::new(String::new());
    let tls = RwSignal::new(String::new());
    let storage = RwSignal::new(String::new());
    let ports = RwSignal::new(String::new());
    let group = RwSignal::new("default".to_string());
    let reserve_cpu = RwSignal::new(String::new());
    let reserve_mem = RwSignal::new(String::new());
    let accelerators = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<String>);
    let groups = LocalResource::new(move || {
        open.track();
        api::all_resource_groups()
    });
    let error_of = move |field: &'static str| {
        move || {
            errors.with(|es| {
                es.iter()
                    .find(|e| e.field == field || e.field.starts_with(&format!("{field}.")))
                    .map(|e| error_message_of(i18n, e))
            })
        }
    };
    let close = move || {
        open.set(false);
        errors.set(vec![]);
        failure.set(None);
    };
    let register = Action::new_unsync(|req: &RegisterAgent| {
        let req = req.clone();
        async move { api::register_agent(&req).await.map(|_| ()) }
    });
    let busy = register.pending();
    crate::action::settled(register, move |outcome| match outcome {
        Ok(()) => {
            for s in [
                id,
                host,
                tls,
                storage,
                ports,
                reserve_cpu,
                reserve_mem,
                accelerators,
            ] {
                s.set(String::new());
            }
            close();
            on_done.run(());
        }
        Err(ApiError::Invalid(es)) => {
            errors.set(es);
            crate::focus::focus_first_invalid("#register-agent-dialog");
        }
        Err(e) => failure.set(Some(error_message(i18n, &e))),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let mut local = Vec::new();
        let cpu = match reserve_cpu.get_untracked().trim() {
            "" => 0.0,
            t => t.parse::<f64>().unwrap_or_else(|_| {
                local.push(FieldError::new("reserve_cpu", "out_of_range", ""));
                0.0
            }),
        };
        let mem = match reserve_mem.get_untracked().trim() {
            "" => ByteSize(0),
            t => ByteSize::parse(t).unwrap_or_else(|| {
                local.push(FieldError::new("reserve_mem", "out_of_range", ""));
                ByteSize(0)
            }),
        };
        let acc = parse_accelerators(&accelerators.get_untracked()).unwrap_or_else(|| {
            local.push(FieldError::new("accelerators", "invalid", ""));
            BTreeMap::new()
        });
        let tls_dir = tls.get_untracked().trim().to_string();
        let storage_path = storage.get_untracked().trim().to_string();
        let port_range = ports.get_untracked().trim().to_string();
        let req = RegisterAgent {
            id: id.get_untracked().trim().to_string(),
            docker_host: host.get_untracked().trim().to_string(),
            tls_cert_dir: (!tls_dir.is_empty()).then_some(tls_dir),
            resource_group: group.get_untracked(),
            accelerators: acc,
            reserve_cpu: cpu,
            reserve_mem: mem,
            storage_path: (!storage_path.is_empty()).then_some(storage_path),
            port_range: (!port_range.is_empty()).then_some(port_range),
        };
        if let Err(mut es) = req.validate() {
            local.append(&mut es);
        }
        if !local.is_empty() {
            errors.set(local);
            crate::focus::focus_first_invalid("#register-agent-dialog");
            return;
        }
        failure.set(None);
        register.dispatch(req);
    };
    let field = move |fid: &'static str,
                      field: &'static str,
                      label: String,
                      hint: Option<String>,
                      value: RwSignal<String>| {
        let hint = hint.map(|h| Signal::derive(move || h.clone()));
        match hint {
            Some(hint) => view! {
                <TextField id=fid autocomplete="off" no_spellcheck=true value=value
                    label=Signal::derive(move || label.clone()) hint=hint
                    error=Signal::derive(error_of(field)) />
            }
            .into_any(),
            None => view! {
                <TextField id=fid autocomplete="off" no_spellcheck=true value=value
                    label=Signal::derive(move || label.clone())
                    error=Signal::derive(error_of(field)) />
            }
            .into_any(),
        }
    };
    view! {
        <Modal open=Signal::derive(move || open.get()) on_close=Callback::new(move |_| close())
            id="register-agent-dialog" labelled_by="register-agent-title" class="dialog-wide">
            <h2 id="register-agent-title">{t!(i18n, agent_register_title)}</h2>
            <form on:submit=submit novalidate=true>
                {field("agent-id", "id", t_string!(i18n, agent_field_id).to_string(), None, id)}
                {field("agent-host", "docker_host", t_string!(i18n, agent_field_host).to_string(),
                    Some(t_string!(i18n, agent_field_host_hint).to_string()), host)}
                {field("agent-tls", "tls_cert_dir", t_string!(i18n, agent_field_tls).to_string(),
                    Some(t_string!(i18n, agent_field_tls_hint).to_string()), tls)}
                {field("agent-storage", "storage_path", t_string!(i18n, agent_field_storage).to_string(),
                    Some(t_string!(i18n, agent_field_storage_hint).to_string()), storage)}
                {field("agent-ports", "port_range", t_string!(i18n, agent_field_ports).to_string(),
                    Some(t_string!(i18n, agent_field_ports_hint).to_string()), ports)}
                <div class="field">
                    <label for="agent-group">{t!(i18n, col_group)}</label>
                    <select id="agent-group" on:change=move |ev| group.set(event_target_value(&ev))>
                        {move || groups.get().and_then(Result::ok).map(|l| l.items.into_iter().map(|g| {
                            let selected = g.name == group.get_untracked();
                            view! { <option value=g.name.clone() selected=selected>{g.name.clone()}</option> }
                        }).collect_view())}
                    </select>
                    <p class="field-error" role="alert">{error_of("resource_group")}</p>
                </div>
                <div class="field-row">
                    {field("agent-reserve-cpu", "reserve_cpu", t_string!(i18n, agent_field_reserve_cpu).to_string(), None, reserve_cpu)}
                    {field("agent-reserve-mem", "reserve_mem", t_string!(i18n, agent_field_reserve_mem).to_string(),
                        Some(t_string!(i18n, agent_field_reserve_mem_hint).to_string()), reserve_mem)}
                </div>
                {field("agent-accelerators", "accelerators", t_string!(i18n, agent_field_accelerators).to_string(),
                    Some(t_string!(i18n, agent_field_accelerators_hint).to_string()), accelerators)}
                <Show when=move || failure.with(Option::is_some)>
                    <p class="alert alert-error" role="alert">{move || failure.get()}</p>
                </Show>
                <div class="dialog-buttons">
                    <button type="button" class="btn" id="register-agent-cancel" on:click=move |_| close()>
                        {t!(i18n, btn_cancel)}
                    </button>
                    <button type="submit" class="btn btn-primary" id="register-agent-submit" disabled=move || busy.get()>
                        {t!(i18n, agent_register)}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// Asks before removing an agent; says why when the server refuses.
#[component]
fn RemoveAgentDialog(agent: RwSignal<Option<AgentInfo>>, on_done: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let open = Signal::derive(move || agent.with(Option::is_some));
    let name = move || agent.with(|a| a.as_ref().map(|a| a.id.clone()).unwrap_or_default());
    let remove: ConfirmAction = Action::new_unsync(move |_: &()| {
        let a = agent.get_untracked();
        async move {
            match a {
                Some(a) => api::delete_agent(&a.id).await,
                None => Ok(()),
            }
        }
    });
    view! {
        <ConfirmDialog open=open on_close=Callback::new(move |_| agent.set(None)) id="remove-agent"
            title=Signal::derive(move || t_string!(i18n, agent_remove_title).to_string())
            body=Signal::derive(move || t_string!(i18n, agent_remove_body, id = name()).to_string())
            confirm=Signal::derive(move || t_string!(i18n, btn_remove).to_string())
            action=remove on_done=on_done />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerators_are_typed_as_slot_equals_count() {
        let acc = parse_accelerators(" cuda.device=2, fake.device = 0.5 ,").unwrap();
        assert_eq!(acc.get("cuda.device"), Some(&2.0));
        assert_eq!(acc.get("fake.device"), Some(&0.5));
        assert_eq!(parse_accelerators(""), Some(BTreeMap::new()));
        assert_eq!(parse_accelerators("cuda.device"), None);
        assert_eq!(parse_accelerators("cuda.device=two"), None);
    }
}

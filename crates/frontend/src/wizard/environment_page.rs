//! Page 2: environment and version (or a manual image), environment
//! variables, and resources: group, preset, CPU, memory, shared memory,
//! accelerators, number of sessions, HPC threads.

use std::collections::BTreeMap;

use berth_shared::bytes::{ByteSize, MIB};
use berth_shared::resources::ResourcePreset;
use berth_shared::sessions::{ClusterMode, MIN_MEM};
use leptos::prelude::*;

use super::ctx::{Ctx, FieldMessage, Help};
use super::env_vars::EnvVars;
use super::slider_field::SliderField;
use super::sources::{loaded, Sources};
use crate::components::customized_images::copy_text;
use crate::i18n::*;

/// The CPU slider's step and least value.
const CPU_STEP: f64 = 0.1;
/// The CPU slider's top when nothing (agents, policy) bounds it.
const CPU_SLIDER_MAX: f64 = 8.0;
/// CPU is kept to this many steps per core (two decimals).
const CPU_PRECISION: f64 = 100.0;
/// The memory sliders' step, in MiB.
const MEM_STEP_MIB: f64 = 1.0;
/// The memory slider's top (MiB) when nothing bounds it: 16 GiB.
const MEM_SLIDER_MAX_MIB: u64 = 16 * 1024;
/// An accelerator slider's step: shares are fractional, devices whole.
fn accelerator_step(slot: &str) -> f64 {
    if slot.ends_with("shares") {
        0.1
    } else {
        1.0
    }
}

/// The page.
#[component]
pub fn EnvironmentPage(ctx: Ctx, sources: Sources) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let Sources {
        envs,
        groups,
        presets,
        agents,
        ..
    } = sources;
    let env_list = move || loaded(envs).map(|l| l.items).unwrap_or_default();
    let allow_manual = move || loaded(envs).is_some_and(|l| l.allow_manual_image);
    let versions = move || {
        let name = state.with(|s| s.environment.clone());
        env_list()
            .into_iter()
            .find(|e| e.name == name)
            .map(|e| e.versions)
            .unwrap_or_default()
    };
    let group_names = move || loaded(groups).map(|g| g.items).unwrap_or_default();
    let is_current = move |p: &ResourcePreset| {
        state.with(|s| s.is_preset(p.cpu, p.mem, p.shmem, &p.accelerators))
    };
    let max_cpu = move || state.with(|s| s.bounds.max_cpu()).unwrap_or(CPU_SLIDER_MAX);
    let min_cpu = move || state.with(|s| s.bounds.min_cpu).max(CPU_STEP);
    let max_mem_mib = move || {
        state
            .with(|s| s.bounds.max_mem())
            .map_or(MEM_SLIDER_MAX_MIB, |m| m.0 / MIB)
    };
    let min_mem_mib = move || state.with(|s| (s.bounds.min_mem.0 / MIB).max(MIN_MEM.0 / MIB));
    // the agents of the chosen group (else the first allowed), for the selector
    let group_agents = move || {
        let group = state
            .with(|s| s.resource_group.clone())
            .or_else(|| group_names().first().map(|g| g.name.clone()));
        loaded(agents)
            .map(|a| a.items)
            .unwrap_or_default()
            .into_iter()
            .filter(|a| group.as_deref().is_none_or(|g| a.resource_group == g))
            .collect::<Vec<_>>()
    };
    // accelerator slots declared by the agents, with the most any one has
    let accel_slots = move || {
        let mut slots: BTreeMap<String, f64> = BTreeMap::new();
        for a in loaded(agents).map(|a| a.items).unwrap_or_default() {
            for (k, v) in a.accelerators_total {
                let e = slots.entry(k).or_default();
                *e = e.max(v);
            }
        }
        slots
    };

    view! {
        <div class="field-row">
            <div class="field">
                <label for="environment">{t!(i18n, environment)}</label>
                <select id="environment"
                    on:change=move |ev| {
                        let name = event_target_value(&ev);
                        let first = env_list().into_iter().find(|e| e.name == name)
                            .and_then(|e| e.versions.first().map(|v| v.version.clone())).unwrap_or_default();
                        state.update(|s| { s.environment = name; s.version = first; });
                    }
                    aria-describedby="environment-error">
                    {move || env_list().into_iter().map(|e| {
                        let selected = state.with(|s| s.environment == e.name);
                        view! { <option value=e.name.clone() selected=selected>{e.display_name.clone()}" ("{e.name.clone()}")"</option> }
                    }).collect_view()}
                </select>
                <FieldMessage ctx=ctx field="environment" id="environment-error" />
            </div>
            <div class="field">
                <label for="version">{t!(i18n, version)}</label>
                <select id="version" on:change=move |ev| state.update(|s| s.version = event_target_value(&ev))>
                    {move || versions().into_iter().map(|v| {
                        let selected = state.with(|s| s.version == v.version);
                        view! { <option value=v.version.clone() selected=selected>{v.version.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
        </div>
        // a customized image: its full reference, with a copy button for the manual image field
        {move || state.with(|s| s.environment.starts_with(berth_shared::images::CUSTOMIZED_PREFIX).then(|| format!("{}:{}", s.environment, s.version)))
            .map(|reference| {
                let copied = RwSignal::new(false);
                let shown = reference.clone();
                view! {
                    <div class="command-line" id="customized-reference">
                        <code>{shown}</code>
                        <button type="button" class="btn btn-small" id="customized-copy"
                            aria-label=move || t_string!(i18n, images_copy_reference).to_string()
                            on:click=move |_| { copy_text(&reference); copied.set(true); }>
                            {move || if copied.get() { t_string!(i18n, btn_copied).to_string() } else { t_string!(i18n, images_copy).to_string() }}
                        </button>
                    </div>
                }
            })}
        <Show when=allow_manual>
            <div class="field">
                <label for="manual-image">{t!(i18n, manual_image)}</label>
                <input id="manual-image" type="text" autocomplete="off"
                    prop:value=move || state.with(|s| s.manual_image.clone())
                    on:input=move |ev| state.update(|s| s.manual_image = event_target_value(&ev))
                    aria-describedby="manual-image-error" />
                <FieldMessage ctx=ctx field="image" id="manual-image-error" />
            </div>
        </Show>
        <EnvVars ctx=ctx />
        <fieldset class="resources">
            <legend>{t!(i18n, resources)}</legend>
            <div class="field-row">
                <div class="field">
                    <label for="resource-group">{t!(i18n, resource_group)}</label>
                    <select id="resource-group" disabled=move || group_names().len() <= 1
                        on:change=move |ev| state.update(|s| s.resource_group = Some(event_target_value(&ev)))>
                        {move || group_names().into_iter().map(|g| {
                            let selected = state.with(|s| s.resource_group.as_deref() == Some(g.name.as_str()));
                            view! { <option value=g.name.clone() selected=selected>{g.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="preset">{t!(i18n, preset)}</label>
                    <select id="preset" on:change=move |ev| {
                        let name = event_target_value(&ev);
                        if let Some(list) = loaded(presets) {
                            if let Some(p) = list.items.iter().find(|p| p.name == name) {
                                state.update(|s| s.apply_preset(p.cpu, p.mem, p.shmem, &p.accelerators));
                            }
                        }
                    }>
                        // the preset the values are, else Custom (a slider moved away from it);
                        // so choosing a preset again is a change, and applies it
                        <option value="" selected=move || !loaded(presets).is_some_and(|l| l.items.iter().any(is_current))>
                            {t!(i18n, preset_custom)}
                        </option>
                        {move || loaded(presets).map(|l| l.items).unwrap_or_default().into_iter().map(|p| {
                            let label = format!("{} ({} CPU, {})", p.name, p.cpu, p.mem);
                            let name = p.name.clone();
                            view! { <option value=name selected=move || is_current(&p)>{label}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <div class="field">
                <label for="agent">{t!(i18n, agent)}</label>
                // the guide: an agent is chosen only for one single-node,
                // single-kernel session; the others are placed automatically
                <select id="agent" aria-describedby="agent-help agent-error"
                    disabled=move || state.with(|s| s.count > 1 || s.cluster_size > 1 || s.cluster_mode == ClusterMode::MultiNode)
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        state.update(|s| s.agent = (!v.is_empty()).then_some(v));
                    }>
                    <option value="" selected=move || state.with(|s| s.agent.is_none())>{t!(i18n, agent_automatic)}</option>
                    {move || group_agents().into_iter().map(|a| {
                        let id = a.id.clone();
                        let chosen = move || state.with(|s| s.agent.as_deref() == Some(id.as_str()));
                        let mut free = format!(
                            "{} CPU · {}",
                            berth_shared::sessions::amount((a.cpu_total - a.cpu_used).max(0.0)),
                            ByteSize(a.mem_total.0.saturating_sub(a.mem_used.0)).human()
                        );
                        for (slot, total) in &a.accelerators_total {
                            let used = a.accelerators_used.get(slot).copied().unwrap_or(0.0);
                            free.push_str(&format!(" · {} {slot}", berth_shared::sessions::amount((total - used).max(0.0))));
                        }
                        let label = t_string!(i18n, agent_free, agent = a.id.clone(), free = crate::format::unbroken(free)).to_string();
                        view! { <option value=a.id.clone() selected=chosen>{label}</option> }
                    }).collect_view()}
                </select>
                <p class="muted field-hint" id="agent-help">{t!(i18n, agent_help)}</p>
                <FieldMessage ctx=ctx field="agent" id="agent-error" />
            </div>
            <SliderField ctx=ctx id="cpu" field="resources.cpu" min=Signal::derive(min_cpu) max=Signal::derive(max_cpu) step=CPU_STEP
                label=Signal::derive(move || t_string!(i18n, cpu).to_string())
                help=Signal::derive(move || t_string!(i18n, cpu_help).to_string())
                value=Signal::derive(move || state.with(|s| s.cpu))
                set=Callback::new(move |v: f64| state.update(|s| s.cpu = (v * CPU_PRECISION).round() / CPU_PRECISION)) />
            <SliderField ctx=ctx id="memory" field="resources.mem" min=Signal::derive(move || min_mem_mib() as f64) max=Signal::derive(move || max_mem_mib() as f64) step=MEM_STEP_MIB
                label=Signal::derive(move || t_string!(i18n, memory).to_string())
                help=Signal::derive(move || t_string!(i18n, memory_help).to_string())
                value=Signal::derive(move || state.with(|s| s.mem_mib() as f64))
                set=Callback::new(move |v: f64| state.update(|s| s.mem = ByteSize(v.max(0.0) as u64 * MIB))) />
            <SliderField ctx=ctx id="shmem" field="resources.shmem" min=Signal::derive(|| 0.0) max=Signal::derive(move || state.with(|s| s.mem_mib()) as f64) step=MEM_STEP_MIB
                label=Signal::derive(move || t_string!(i18n, shmem).to_string())
                help=Signal::derive(move || t_string!(i18n, shmem_help).to_string())
                value=Signal::derive(move || state.with(|s| s.shmem_mib() as f64))
                set=Callback::new(move |v: f64| state.update(|s| s.shmem = ByteSize(v.max(0.0) as u64 * MIB))) />
            {move || accel_slots().into_iter().map(|(slot, most)| {
                let (s1, s2, s3) = (slot.clone(), slot.clone(), slot.clone());
                let step = accelerator_step(&slot);
                view! {
                    <SliderField ctx=ctx id=format!("accel-{}", slot.replace('.', "-")) field=format!("resources.accelerators.{slot}")
                        min=Signal::derive(|| 0.0) max=Signal::derive(move || most) step=step
                        label=Signal::derive(move || t_string!(i18n, accelerator, slot = s1.clone()).to_string())
                        help=Signal::derive(move || t_string!(i18n, accelerator_help).to_string())
                        value=Signal::derive(move || state.with(|s| s.accelerators.get(&s2).copied().unwrap_or(0.0)))
                        set=Callback::new(move |v: f64| state.update(|s| { s.accelerators.insert(s3.clone(), v.max(0.0)); })) />
                }
            }).collect_view()}
            <div class="field-row">
                <div class="field">
                    <label for="session-count">{t!(i18n, session_count)}
                        <Help ctx=ctx id="session-count" label=Signal::derive(move || t_string!(i18n, session_count).to_string()) text=Signal::derive(move || t_string!(i18n, session_count_help).to_string()) />
                    </label>
                    <input id="session-count" type="text" inputmode="numeric" autocomplete="off"
                        prop:value=move || state.with(|s| s.whole_text("count"))
                        on:input=move |ev| state.update(|s| s.type_whole("count", &event_target_value(&ev)))
                        aria-invalid=move || ctx.error.run("count".into()).is_some().to_string()
                        aria-describedby="session-count-error" />
                    <FieldMessage ctx=ctx field="count" id="session-count-error" />
                </div>
                <div class="field">
                    <label for="nthreads">{t!(i18n, nthreads)}
                        <Help ctx=ctx id="nthreads" label=Signal::derive(move || t_string!(i18n, nthreads).to_string()) text=Signal::derive(move || t_string!(i18n, nthreads_help).to_string()) />
                    </label>
                    <input id="nthreads" type="text" inputmode="numeric" autocomplete="off"
                        placeholder=move || state.with(|s| (s.cpu.ceil() as u32).max(1).to_string())
                        prop:value=move || state.with(|s| s.whole_text("nthreads"))
                        on:input=move |ev| state.update(|s| s.type_whole("nthreads", &event_target_value(&ev)))
                        aria-invalid=move || ctx.error.run("nthreads".into()).is_some().to_string()
                        aria-describedby="nthreads-error" />
                    <FieldMessage ctx=ctx field="nthreads" id="nthreads-error" />
                </div>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="cluster-mode">{t!(i18n, cluster_mode)}
                        <Help ctx=ctx id="cluster-mode" label=Signal::derive(move || t_string!(i18n, cluster_mode).to_string()) text=Signal::derive(move || t_string!(i18n, cluster_help).to_string()) />
                    </label>
                    <select id="cluster-mode" aria-describedby="cluster-mode-error"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            state.update(|s| s.cluster_mode = ClusterMode::parse(&v).unwrap_or_default());
                        }>
                        <option value="single-node" selected=move || state.with(|s| s.cluster_mode == ClusterMode::SingleNode)>{t!(i18n, cluster_single_node)}</option>
                        <option value="multi-node" selected=move || state.with(|s| s.cluster_mode == ClusterMode::MultiNode)>{t!(i18n, cluster_multi_node)}</option>
                    </select>
                    <FieldMessage ctx=ctx field="cluster_mode" id="cluster-mode-error" />
                </div>
                <div class="field">
                    <label for="cluster-size">{t!(i18n, cluster_size)}</label>
                    <input id="cluster-size" type="text" inputmode="numeric" autocomplete="off"
                        prop:value=move || state.with(|s| s.whole_text("cluster_size"))
                        on:input=move |ev| state.update(|s| s.type_whole("cluster_size", &event_target_value(&ev)))
                        aria-invalid=move || ctx.error.run("cluster_size".into()).is_some().to_string()
                        aria-describedby="cluster-size-error" />
                    <FieldMessage ctx=ctx field="cluster_size" id="cluster-size-error" />
                </div>
            </div>
        </fieldset>
    }
}

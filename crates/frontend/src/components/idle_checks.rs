//! A session's idle checks as people read them: the detail panel's
//! section (each configured rule with its time left, an (i) that explains
//! it in the guide's words, and for utilization a tooltip — on hover and on
//! focus — with each resource's average against its threshold, coloured as
//! it nears the threshold) and the sessions list's cell (the rule closest
//! to ending the session). Times count down between refreshes.

use berth_shared::sessions::{
    utilization_level, IdleChecks, IdleRule, RemainingType, UtilizationLevel,
};
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::format::remaining;
use crate::i18n::*;

/// A rule's name.
pub fn rule_name(i18n: I18nContext<Locale>, rule: IdleRule) -> String {
    match rule {
        IdleRule::Lifetime => t_string!(i18n, idle_lifetime).to_string(),
        IdleRule::Network => t_string!(i18n, idle_network).to_string(),
        IdleRule::Utilization => t_string!(i18n, idle_utilization).to_string(),
    }
}

fn rule_help(i18n: I18nContext<Locale>, rule: IdleRule) -> String {
    match rule {
        IdleRule::Lifetime => t_string!(i18n, idle_lifetime_help).to_string(),
        IdleRule::Network => t_string!(i18n, idle_network_help).to_string(),
        IdleRule::Utilization => t_string!(i18n, idle_utilization_help).to_string(),
    }
}

fn resource_name(i18n: I18nContext<Locale>, name: &str) -> String {
    match name {
        "cpu_util" => t_string!(i18n, usage_cpu).to_string(),
        "mem" => t_string!(i18n, usage_mem).to_string(),
        other => other.to_string(),
    }
}

/// The CSS class of a time left (reference cut-offs: under an hour red,
/// under four hours orange).
fn time_class(secs: f64) -> &'static str {
    if secs < 3600.0 {
        "idle-danger"
    } else if secs < 4.0 * 3600.0 {
        "idle-warning"
    } else {
        "idle-normal"
    }
}

fn level_class(l: UtilizationLevel) -> &'static str {
    match l {
        UtilizationLevel::Danger => "idle-danger",
        UtilizationLevel::Warning => "idle-warning",
        UtilizationLevel::Normal => "idle-normal",
    }
}

/// Seconds left now, `elapsed` seconds after the report.
fn left(secs: f64, elapsed: f64) -> f64 {
    (secs - elapsed).max(0.0)
}

/// The sessions list's cell: the rule closest to ending the session.
#[component]
pub fn IdleCell(checks: Option<IdleChecks>, #[prop(into)] elapsed: Signal<f64>) -> impl IntoView {
    let i18n = use_i18n();
    match checks.as_ref().and_then(IdleChecks::closest) {
        Some((rule, secs)) => {
            let name = rule_name(i18n, rule);
            let text = move || remaining(i18n, left(secs, elapsed.get()));
            view! {
                <span class=move || format!("idle-tag {}", time_class(left(secs, elapsed.get())))
                    title=name.clone() aria-label=move || format!("{name}: {}", text())>
                    {text}
                </span>
            }
            .into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// The detail panel's section; nothing when no rule is configured. Its
/// rows are built once per set of rules and their texts follow `checks`,
/// so a refresh keeps hover and focus where they are.
#[component]
pub fn IdleSection(
    #[prop(into)] checks: Signal<Option<IdleChecks>>,
    #[prop(into)] elapsed: Signal<f64>,
) -> impl IntoView {
    let i18n = use_i18n();
    // which rules and resources there are: the rows change only with them
    let shape = Memo::new(move |_| {
        checks.with(|c| {
            c.as_ref().map(|c| {
                (
                    c.session_lifetime.is_some(),
                    c.network_timeout.is_some(),
                    c.utilization
                        .as_ref()
                        .map(|u| u.resources.keys().cloned().collect::<Vec<_>>()),
                )
            })
        })
    });
    let timer = move |rule: IdleRule| {
        let secs = move || {
            checks.with(|c| {
                c.as_ref()
                    .and_then(|c| match rule {
                        IdleRule::Lifetime => c.session_lifetime.as_ref(),
                        _ => c.network_timeout.as_ref(),
                    })
                    .map_or(0.0, |t| left(t.remaining, elapsed.get()))
            })
        };
        let value = view! {
            <span class=move || format!("idle-tag {}", time_class(secs()))>
                {move || t_string!(i18n, idle_expires_after, time = remaining(i18n, secs())).to_string()}
            </span>
        };
        rule_row(i18n, rule, value.into_any())
    };
    let utilization = move |names: Vec<String>| {
        let util = move || checks.with(|c| c.as_ref().and_then(|c| c.utilization.clone()));
        let state = move || match util() {
            Some(u) => match (u.remaining, u.remaining_time_type) {
                (Some(secs), RemainingType::GracePeriod) => t_string!(
                    i18n,
                    idle_grace_period,
                    time = remaining(i18n, left(secs, elapsed.get()))
                )
                .to_string(),
                (Some(secs), _) => t_string!(
                    i18n,
                    idle_expires_after,
                    time = remaining(i18n, left(secs, elapsed.get()))
                )
                .to_string(),
                (None, _) => t_string!(i18n, idle_active).to_string(),
            },
            None => String::new(),
        };
        let worst = move || {
            util()
                .map(|u| {
                    u.resources
                        .values()
                        .map(utilization_level)
                        .max_by_key(|l| match l {
                            UtilizationLevel::Normal => 0,
                            UtilizationLevel::Warning => 1,
                            UtilizationLevel::Danger => 2,
                        })
                        .unwrap_or(UtilizationLevel::Normal)
                })
                .unwrap_or(UtilizationLevel::Normal)
        };
        let head = move || {
            util()
                .map(|u| {
                    let op = if u.operator == "or" {
                        t_string!(i18n, idle_operator_or).to_string()
                    } else {
                        t_string!(i18n, idle_operator_and).to_string()
                    };
                    let window =
                        t_string!(i18n, idle_window, time = remaining(i18n, u.window as f64))
                            .to_string();
                    format!("{window} · {op}")
                })
                .unwrap_or_default()
        };
        let lines = names
            .into_iter()
            .map(|name| {
                let label = resource_name(i18n, &name);
                let key = StoredValue::new(name.clone());
                let r = move || util().and_then(|u| u.resources.get(&key.get_value()).cloned());
                let text = move || {
                    r().map(|r| {
                        let value = r
                            .average
                            .map(|a| format!("{a:.1} %"))
                            .unwrap_or_else(|| t_string!(i18n, idle_no_data).to_string());
                        t_string!(
                            i18n,
                            idle_resource_line,
                            resource = label.clone(),
                            value = value,
                            threshold = format!("{:.1} %", r.threshold)
                        )
                        .to_string()
                    })
                    .unwrap_or_default()
                };
                let class = move || {
                    r().map(|r| level_class(utilization_level(&r)))
                        .unwrap_or("idle-normal")
                };
                view! { <li class=class data-resource=name>{text}</li> }
            })
            .collect_view();
        let value = view! {
            <span class="tooltip-host">
                <span class=move || format!("idle-tag idle-util {}", level_class(worst()))
                    id="idle-utilization-value" tabindex="0" aria-describedby="idle-utilization-tip">{state}</span>
                <span class="tooltip" role="tooltip" id="idle-utilization-tip">
                    <span class="tooltip-head">{head}</span>
                    <ul>{lines}</ul>
                </span>
            </span>
        };
        rule_row(i18n, IdleRule::Utilization, value.into_any())
    };
    move || {
        shape
            .get()
            .filter(|s| s.0 || s.1 || s.2.is_some())
            .map(|(lifetime, network, util)| {
                view! {
                    <section class="idle-box" id="detail-idle" aria-labelledby="detail-idle-title">
                        <h3 class="detail-sub" id="detail-idle-title">{t!(i18n, idle_title)}</h3>
                        <dl class="idle-list">
                            {lifetime.then(|| timer(IdleRule::Lifetime))}
                            {network.then(|| timer(IdleRule::Network))}
                            {util.map(utilization)}
                        </dl>
                    </section>
                }
            })
    }
}

/// A rule's row: its name, an (i) with the explanation, and its value.
fn rule_row(i18n: I18nContext<Locale>, rule: IdleRule, value: AnyView) -> AnyView {
    let open = RwSignal::new(false);
    let key = match rule {
        IdleRule::Lifetime => "lifetime",
        IdleRule::Network => "network",
        IdleRule::Utilization => "utilization",
    };
    let help_id = format!("idle-{key}-help");
    let help_id2 = help_id.clone();
    let name = rule_name(i18n, rule);
    view! {
        <div class="idle-row" data-rule=key>
            <dt>
                {name.clone()}
                <button type="button" class="help-btn" id=format!("idle-{key}-info")
                    aria-expanded=move || open.get().to_string() aria-controls=help_id
                    aria-label=move || t_string!(i18n, idle_explain, rule = name.clone()).to_string()
                    on:click=move |_| open.update(|o| *o = !*o)
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { open.set(false) }>
                    "i"
                </button>
            </dt>
            <dd>{value}</dd>
            <Show when=move || open.get()>
                <p class="help-text idle-help" role="note" id=help_id2.clone()>{rule_help(i18n, rule)}</p>
            </Show>
        </div>
    }
    .into_any()
}

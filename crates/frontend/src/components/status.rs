//! A session status as a coloured badge.

use berth_shared::sessions::{reason, CheckFailure, IdleVerdict, SessionStatus};
use leptos::prelude::*;

use crate::i18n::*;

/// The status in its colour (the reference product's palette). A batch
/// session whose command failed (ended with a non-zero exit code, reason
/// `failed`) is marked apart from one that succeeded.
#[component]
pub fn StatusBadge(
    status: SessionStatus,
    /// Why it is in this status (`status_info`), when known.
    #[prop(optional)]
    info: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let failed = status == SessionStatus::Terminated && info.as_deref() == Some(reason::FAILED);
    let class = format!(
        "status status-{}{}",
        status.as_str().to_lowercase(),
        if failed { " status-failed" } else { "" }
    );
    view! {
        <span class=class>
            {status.as_str()}
            {failed.then(|| view! { <span class="status-note">{" · "}{t!(i18n, status_failed)}</span> })}
        </span>
    }
}

/// A reason code (`status_info`) as a sentence in the chosen language; an
/// unknown code as it is.
pub fn reason_text(i18n: leptos_i18n::I18nContext<Locale>, code: &str) -> String {
    match code {
        reason::USER_REQUESTED => t_string!(i18n, reason_user_requested).to_string(),
        reason::ADMIN_TERMINATED => t_string!(i18n, reason_admin_terminated).to_string(),
        reason::SELF_TERMINATED => t_string!(i18n, reason_self_terminated).to_string(),
        reason::FAILED => t_string!(i18n, reason_failed).to_string(),
        reason::CONTAINER_EXITED => t_string!(i18n, reason_container_exited).to_string(),
        reason::MAX_LIFETIME_EXCEEDED => t_string!(i18n, reason_max_lifetime).to_string(),
        reason::IDLE_TIMEOUT => t_string!(i18n, reason_idle_timeout).to_string(),
        reason::IDLE_UTILIZATION => t_string!(i18n, reason_idle_utilization).to_string(),
        reason::BATCH_TIMEOUT => t_string!(i18n, reason_batch_timeout).to_string(),
        reason::CONTAINER_LOST => t_string!(i18n, reason_container_lost).to_string(),
        reason::FAILED_TO_START => t_string!(i18n, reason_failed_to_start).to_string(),
        reason::SCHEDULED => t_string!(i18n, reason_scheduled).to_string(),
        reason::PREPARING => t_string!(i18n, reason_preparing).to_string(),
        reason::PULLING => t_string!(i18n, reason_pulling).to_string(),
        reason::NO_AVAILABLE_INSTANCES => t_string!(i18n, reason_no_room).to_string(),
        reason::PREDICATE_CHECKS_FAILED => t_string!(i18n, reason_checks_failed).to_string(),
        other => other.to_string(),
    }
}

/// The idle rule that ended a session, with the numbers that decided it,
/// as a sentence in the chosen language.
pub fn idle_verdict_text(i18n: leptos_i18n::I18nContext<Locale>, verdict: &IdleVerdict) -> String {
    match verdict {
        IdleVerdict::SessionLifetime { threshold, age } => {
            t_string!(i18n, info_idle_lifetime, age = age, threshold = threshold).to_string()
        }
        IdleVerdict::NetworkTimeout {
            threshold,
            idle_for,
        } => t_string!(
            i18n,
            info_idle_network,
            idle_for = idle_for,
            threshold = threshold
        )
        .to_string(),
        IdleVerdict::Utilization {
            window, resources, ..
        } => {
            let resources = resources
                .iter()
                .map(|(name, r)| match r.average {
                    Some(avg) => format!("{name} {avg}% < {}%", r.threshold),
                    None => format!("{name} < {}%", r.threshold),
                })
                .collect::<Vec<_>>()
                .join(", ");
            t_string!(
                i18n,
                info_idle_utilization,
                window = window,
                resources = resources
            )
            .to_string()
        }
    }
}

/// A failed scheduler check as a sentence in the chosen language, from the
/// facts the server stored beside its English `msg`.
pub fn check_text(i18n: leptos_i18n::I18nContext<Locale>, why: &CheckFailure) -> String {
    use berth_shared::bytes::ByteSize;
    use berth_shared::sessions::{amount, resource_amount};
    let size = |b: u64| ByteSize(b).human();
    match why {
        CheckFailure::StartTime { at } => t_string!(
            i18n,
            check_start_time,
            at = crate::format::local_datetime(i18n, *at)
        )
        .to_string(),
        CheckFailure::Concurrency { max } => {
            t_string!(i18n, check_concurrency, max = *max).to_string()
        }
        CheckFailure::PolicyCpu { max, held, asked } => t_string!(
            i18n,
            check_policy_cpu,
            max = amount(*max),
            held = amount(*held),
            asked = amount(*asked)
        )
        .to_string(),
        CheckFailure::PolicyMemory { max, held, asked } => t_string!(
            i18n,
            check_policy_memory,
            max = size(*max),
            held = size(*held),
            asked = size(*asked)
        )
        .to_string(),
        CheckFailure::NoAgents { group } => {
            t_string!(i18n, check_no_agents, group = group.clone()).to_string()
        }
        CheckFailure::AgentNotInGroup { agent, group } => t_string!(
            i18n,
            check_agent_not_in_group,
            agent = agent.clone(),
            group = group.clone()
        )
        .to_string(),
        CheckFailure::AgentUnreachable { agent } => {
            t_string!(i18n, check_agent_unreachable, agent = agent.clone()).to_string()
        }
        CheckFailure::ImageMissing { image } => {
            t_string!(i18n, check_image_missing, image = image.clone()).to_string()
        }
        CheckFailure::AgentDraining { agent } => {
            t_string!(i18n, check_agent_draining, agent = agent.clone()).to_string()
        }
        CheckFailure::NoStorage { agent } => {
            t_string!(i18n, check_no_storage, agent = agent.clone()).to_string()
        }
        CheckFailure::BehindOlder { waited_secs } => t_string!(
            i18n,
            check_behind_older,
            waited = crate::format::remaining(i18n, *waited_secs as f64)
        )
        .to_string(),
        CheckFailure::Short {
            agent,
            resource,
            needs,
            free,
        } => {
            let what = match resource.as_str() {
                "cpu" => t_string!(i18n, resource_cpu).to_string(),
                "mem" => t_string!(i18n, resource_mem).to_string(),
                slot => slot.to_string(),
            };
            t_string!(
                i18n,
                check_short,
                needs = resource_amount(resource, *needs),
                what = what,
                agent = agent.clone(),
                free = resource_amount(resource, *free)
            )
            .to_string()
        }
    }
}

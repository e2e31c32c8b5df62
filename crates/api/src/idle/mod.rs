//! Idle checks: one task samples every running session's main container
//! (`docker stats`, one request per kernel per interval however many
//! browsers watch; the usage route reads the same samples), applies the
//! rules of `rules.rs` with the server's settings or the owner's policy's
//! `idle_timeout`, keeps each session's report for the API, warns the
//! owner once when a rule comes within `--idle-warn-before-secs` of ending
//! the session, and ends it through the status machine with the rule's
//! reason code and the numbers that decided it. Samples older than the
//! longest window are dropped, so memory stays bounded.

pub mod monitor;
pub mod rules;

use std::collections::HashMap;
use std::time::Duration;

use berth_shared::sessions::{
    reason, IdleChecks, IdleRule, IdleVerdict, IdleWarning, RemainingType, ResourceUtilization,
    SessionStatus, SessionType, StatusData, TimerCheck, UtilizationCheck,
};
use futures_util::StreamExt;

use self::rules::{Operator, Sample, UtilizationRule};
use crate::config::Config;
use crate::runtime::Usage;
use crate::services::{Services, Shared};
use crate::store::{now_ms, PolicyRow, SessionRow, StoreError, MAIN_ROLE};

/// Containers sampled at once.
const SAMPLE_CONCURRENCY: usize = 16;
/// The shortest interval between rounds.
const MIN_INTERVAL: Duration = Duration::from_millis(200);

/// The rules that apply to one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Max lifetime.
    pub lifetime_ms: Option<i64>,
    /// Network idle timeout.
    pub network_ms: Option<i64>,
    /// Utilization.
    pub utilization: Option<UtilizationRule>,
    /// How early the owner is warned.
    pub warn_ms: i64,
}

fn secs_ms(s: u64) -> i64 {
    i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// The rules for a session of `kind` under `policy`: lifetime from the
/// policy (0 = none); the network timeout and utilization window from the
/// policy's `idle_timeout` when it sets one (0 turns both off), else the
/// server's; batch sessions obey only the lifetime (and their own run time).
pub fn settings(config: &Config, policy: Option<&PolicyRow>, kind: SessionType) -> Settings {
    let lifetime_ms = policy
        .map(|p| p.max_session_lifetime)
        .filter(|&l| l > 0)
        .map(|l| l.saturating_mul(1000));
    let interactive = kind == SessionType::Interactive;
    let overridden = policy.and_then(|p| p.idle_timeout).map(|t| t.max(0) as u64);
    let network = overridden.unwrap_or(config.idle_network_timeout_secs);
    let window = overridden.unwrap_or(config.idle_utilization_window_secs);
    let utilization =
        (interactive && window > 0 && !config.idle_utilization.is_empty()).then(|| {
            UtilizationRule {
                window_ms: secs_ms(window),
                grace_ms: secs_ms(config.idle_grace_period_secs),
                thresholds: config.idle_utilization.clone(),
                operator: config.idle_operator,
            }
        });
    Settings {
        lifetime_ms,
        network_ms: (interactive && network > 0).then(|| secs_ms(network)),
        utilization,
        warn_ms: secs_ms(config.idle_warn_before_secs),
    }
}

/// What one round decides for one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The report for the API.
    pub report: IdleChecks,
    /// The rule that ends it now, its reason code and numbers.
    pub reclaim: Option<(IdleRule, &'static str, StatusData)>,
    /// The rule closest to ending it, with its time left.
    pub closest: Option<(IdleRule, i64)>,
}

fn secs(ms: i64) -> f64 {
    ms.max(0) as f64 / 1000.0
}

/// The rules applied to one session at `now` (pure). `last_traffic_ms`
/// is the last traffic through the proxy or terminal, or when counting
/// began.
pub fn judge(
    s: &Settings,
    created_ms: i64,
    started_ms: i64,
    last_traffic_ms: i64,
    samples: &[Sample],
    now_ms: i64,
) -> Judgement {
    let mut report = IdleChecks::default();
    let mut reclaim = None;
    let mut closest: Option<(IdleRule, i64)> = None;
    let mut consider = |rule: IdleRule, remaining: i64| {
        if closest.is_none_or(|(_, r)| remaining < r) {
            closest = Some((rule, remaining));
        }
    };
    // the two timer rules: (rule, counted from, limit, reason)
    let timers = [
        s.lifetime_ms.map(|l| {
            (
                IdleRule::Lifetime,
                created_ms,
                l,
                reason::MAX_LIFETIME_EXCEEDED,
            )
        }),
        s.network_ms.map(|l| {
            let since = last_traffic_ms.max(started_ms);
            (IdleRule::Network, since, l, reason::IDLE_TIMEOUT)
        }),
    ];
    for (rule, since, limit, info) in timers.into_iter().flatten() {
        let left = rules::timer_remaining(since, now_ms, limit);
        let check = TimerCheck {
            threshold: (limit / 1000) as u64,
            remaining: secs(left),
            remaining_time_type: RemainingType::ExpireAfter,
        };
        let (threshold, elapsed) = (limit / 1000, (now_ms - since) / 1000);
        let verdict = match rule {
            IdleRule::Lifetime => {
                report.session_lifetime = Some(check);
                IdleVerdict::SessionLifetime {
                    threshold,
                    age: elapsed,
                }
            }
            _ => {
                report.network_timeout = Some(check);
                IdleVerdict::NetworkTimeout {
                    threshold,
                    idle_for: elapsed,
                }
            }
        };
        consider(rule, left);
        if left <= 0 && reclaim.is_none() {
            reclaim = Some((
                rule,
                info,
                StatusData {
                    idle: Some(verdict),
                    ..Default::default()
                },
            ));
        }
    }
    if let Some(rule) = &s.utilization {
        let c = rules::utilization(samples, started_ms, now_ms, rule, s.warn_ms);
        let resources: std::collections::BTreeMap<_, _> = c
            .resources
            .iter()
            .map(|(k, (avg, thr))| {
                (
                    k.clone(),
                    ResourceUtilization {
                        average: avg.map(|a| (a * 10.0).round() / 10.0),
                        threshold: *thr,
                    },
                )
            })
            .collect();
        let operator = match rule.operator {
            Operator::And => "and",
            Operator::Or => "or",
        };
        let (remaining, kind) = match c.grace_left_ms {
            Some(g) => (Some(secs(g)), RemainingType::GracePeriod),
            None => (c.remaining_ms.map(secs), RemainingType::ExpireAfter),
        };
        if c.grace_left_ms.is_none() {
            if let Some(left) = c.remaining_ms {
                consider(IdleRule::Utilization, left);
            }
        }
        if c.fires() && reclaim.is_none() {
            reclaim = Some((
                IdleRule::Utilization,
                reason::IDLE_UTILIZATION,
                StatusData {
                    idle: Some(IdleVerdict::Utilization {
                        operator: operator.into(),
                        window: (rule.window_ms / 1000) as u64,
                        resources: resources.clone(),
                    }),
                    ..Default::default()
                },
            ));
        }
        report.utilization = Some(UtilizationCheck {
            remaining,
            remaining_time_type: kind,
            operator: operator.into(),
            window: (rule.window_ms / 1000) as u64,
            resources,
        });
    }
    Judgement {
        report,
        reclaim,
        closest,
    }
}

/// A sample of a session's use, in percent of what it was given.
pub fn sample_of(u: &Usage, cpu: f64, at_ms: i64) -> Sample {
    let mut values = std::collections::BTreeMap::new();
    values.insert("cpu_util".to_string(), u.cpu_percent / cpu.max(0.01));
    if u.mem_limit > 0 {
        values.insert(
            "mem".to_string(),
            u.mem_used as f64 / u.mem_limit as f64 * 100.0,
        );
    }
    Sample { at_ms, values }
}

/// The rules applied to one running session at `now`: its settings (from
/// its owner's policy), the traffic seen so far, and `samples`.
fn judge_row(
    svc: &Services,
    row: &SessionRow,
    policy: Option<&PolicyRow>,
    samples: &[Sample],
    counting_since: i64,
    now: i64,
) -> (Settings, Judgement) {
    let kind = row.session_type().unwrap_or(SessionType::Interactive);
    let s = settings(svc.config(), policy, kind);
    let traffic = svc
        .apps()
        .traffic(&row.id)
        .read()
        .last_activity
        .map_or(counting_since, |t| t.timestamp_millis());
    let started = row.started_at.unwrap_or(row.created_at);
    let j = judge(
        &s,
        row.created_at,
        started,
        traffic.max(counting_since),
        samples,
        now,
    );
    (s, j)
}

/// The idle-check reports of the running sessions among `rows`, judged as
/// of now from what the task sampled so far: every read counts from its
/// own moment, so the list, the panel and a script agree, and a session
/// that has just started has its timers at once (not after the next
/// round).
pub async fn reports_now(
    svc: &Services,
    rows: &[SessionRow],
) -> Result<HashMap<String, IdleChecks>, StoreError> {
    let running: Vec<&SessionRow> = rows
        .iter()
        .filter(|r| r.status().ok() == Some(SessionStatus::Running))
        .collect();
    if running.is_empty() {
        return Ok(HashMap::new());
    }
    let policies: HashMap<String, PolicyRow> =
        svc.store().keypair_policies().await?.into_iter().collect();
    let now = now_ms();
    let counting_since = svc.idle().counting_since(now);
    Ok(running
        .into_iter()
        .filter_map(|row| {
            let samples = svc.idle().samples(&row.id);
            let (_, j) = judge_row(
                svc,
                row,
                policies.get(&row.access_key),
                &samples,
                counting_since,
                now,
            );
            let mut report = j.report;
            (!report.is_empty()).then(|| {
                report.at = Some(crate::accounts::ms_to_time(now));
                (row.id.clone(), report)
            })
        })
        .collect())
}

/// Notes now as when the network rule starts counting (the first call
/// wins): every replica counts from its start, so reads on any judge alike.
pub fn start_counting(svc: &Shared) {
    svc.idle().start_counting(now_ms());
}

/// Starts the task.
pub fn spawn(svc: Shared, stop: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        let started = svc.idle().start_counting(now_ms());
        let every = Duration::from_millis(svc.config().idle_check_interval_ms).max(MIN_INTERVAL);
        loop {
            if let Err(e) = round(&svc, started).await {
                tracing::error!(error = %e, "idle round failed");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    });
}

/// One round: sample, judge, warn, end.
async fn round(svc: &Shared, counting_since: i64) -> Result<(), StoreError> {
    let store = svc.store();
    let rows = store.sessions_in(&[SessionStatus::Running]).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let containers: Vec<(String, String, Option<String>)> = store
        .kernels_of_many(&ids)
        .await?
        .into_iter()
        .filter(|k| k.role == MAIN_ROLE)
        .filter_map(|k| k.container_id.map(|c| (k.session_id, c, k.agent)))
        .collect();
    let sampled: Vec<(String, String, Option<Usage>)> = futures_util::stream::iter(containers)
        .map(|(sid, cid, agent)| async move {
            let u = svc.runtime_of(agent.as_deref()).usage(&cid).await.ok();
            (sid, cid, u)
        })
        .buffer_unordered(SAMPLE_CONCURRENCY)
        .collect()
        .await;
    let policies: HashMap<String, PolicyRow> =
        store.keypair_policies().await?.into_iter().collect();
    let now = now_ms();
    let by_session: HashMap<&str, (&str, Option<&Usage>)> = sampled
        .iter()
        .map(|(s, c, u)| (s.as_str(), (c.as_str(), u.as_ref())))
        .collect();
    let mut verdicts = Vec::new();
    let mut warnings = Vec::new();
    let mut lifted = Vec::new();
    let mut taken = Vec::new();
    {
        let Ok(mut inner) = svc.idle().lock() else {
            return Ok(());
        };
        let inner = &mut *inner;
        // what ended since the last round is forgotten
        let live: std::collections::HashSet<&String> = ids.iter().collect();
        inner.samples.retain(|id, _| live.contains(id));
        inner.warned.retain(|id, _| live.contains(id));
        inner.usage.clear();
        for row in &rows {
            let series = inner.samples.entry(row.id.clone()).or_default();
            if let Some((cid, Some(u))) = by_session.get(row.id.as_str()) {
                inner.usage.insert(cid.to_string(), **u);
                series.push_back(sample_of(u, row.cpu, now));
            }
            let policy = policies.get(&row.access_key);
            let kind = row.session_type().unwrap_or(SessionType::Interactive);
            let window = settings(svc.config(), policy, kind)
                .utilization
                .map_or(0, |u| u.window_ms);
            while series.front().is_some_and(|x| x.at_ms <= now - window) {
                series.pop_front();
            }
            if let Some(last) = series.back().filter(|x| x.at_ms == now) {
                let oldest = series.front().map_or(now, |x| x.at_ms);
                taken.push((row.id.clone(), last.clone(), oldest));
            }
            let (s, j) = judge_row(
                svc,
                row,
                policy,
                series.make_contiguous(),
                counting_since,
                now,
            );
            let approaching = j
                .closest
                .filter(|(_, left)| *left > 0 && *left <= s.warn_ms);
            if let Some((rule, left)) = approaching {
                // once per approach: again only after it moved away
                if inner.warned.insert(row.id.clone(), rule) != Some(rule) {
                    warnings.push((row.clone(), rule, left));
                }
            } else if j.reclaim.is_none() {
                // used again after a warning: say it no longer holds
                if let Some(rule) = inner.warned.remove(&row.id) {
                    let left = j.closest.map_or(0, |(_, l)| l);
                    lifted.push((row.clone(), rule, left));
                }
            }
            if let Some(r) = j.reclaim {
                // nothing ends unwarned: a round that came late (a busy
                // engine) warns now and ends it at the next round
                if s.warn_ms > 0 && inner.warned.get(&row.id) != Some(&r.0) {
                    inner.warned.insert(row.id.clone(), r.0);
                    let next = svc.config().idle_check_interval_ms.min(i64::MAX as u64) as i64;
                    warnings.push((row.clone(), r.0, next));
                } else {
                    verdicts.push((row.clone(), r));
                }
            }
        }
    }
    // the other replicas judge reads with the same samples
    for (session_id, sample, oldest_ms) in taken {
        svc.events().tell_others(crate::events::Note::IdleSample {
            session_id,
            at_ms: sample.at_ms,
            values: sample.values,
            oldest_ms,
        });
    }
    for (row, rule, left) in warnings {
        warn(svc, &row, rule, left, false, now);
    }
    for (row, rule, left) in lifted {
        warn(svc, &row, rule, left, true, now);
    }
    for (row, (rule, info, data)) in verdicts {
        tracing::info!(session = %row.id, reason = info, "an idle rule ends the session");
        match crate::sessions::reclaim(svc, &row, info, data).await {
            Ok(true) => svc.metrics().idle_reclaimed(rule_name(rule)),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(session = %row.id, error = %e, "could not end an idle session")
            }
        }
    }
    Ok(())
}

/// A rule's name as the API writes it (`idle_checks`' keys).
fn rule_name(rule: IdleRule) -> &'static str {
    match rule {
        IdleRule::Lifetime => "session_lifetime",
        IdleRule::Network => "network_timeout",
        IdleRule::Utilization => "utilization",
    }
}

/// Tells the owner that a rule will end the session (or, `lifted`, no
/// longer will soon).
fn warn(svc: &Shared, row: &SessionRow, rule: IdleRule, left_ms: i64, lifted: bool, now: i64) {
    let warning = IdleWarning {
        rule,
        remaining: secs(left_ms),
        lifted,
    };
    crate::sessions::status::announce_idle_warning(svc, row, warning, now);
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;

    fn all_rules() -> Settings {
        Settings {
            lifetime_ms: Some(600 * S),
            network_ms: Some(60 * S),
            utilization: Some(UtilizationRule {
                window_ms: 30 * S,
                grace_ms: 10 * S,
                thresholds: [("cpu_util".to_string(), 5.0)].into(),
                operator: Operator::And,
            }),
            warn_ms: 20 * S,
        }
    }

    fn busy(from: i64, to: i64) -> Vec<Sample> {
        (from..=to)
            .map(|t| Sample {
                at_ms: t * S,
                values: [("cpu_util".to_string(), 80.0)].into(),
            })
            .collect()
    }

    #[test]
    fn the_network_rule_counts_from_the_last_traffic() {
        let s = all_rules();
        let j = judge(&s, 0, 0, 50 * S, &busy(0, 100), 100 * S);
        assert_eq!(j.report.network_timeout.as_ref().unwrap().remaining, 10.0);
        assert_eq!(j.closest, Some((IdleRule::Network, 10 * S)));
        assert!(j.reclaim.is_none());
        let j = judge(&s, 0, 0, 50 * S, &busy(0, 110), 110 * S);
        let (rule, info, data) = j.reclaim.unwrap();
        assert_eq!((rule, info), (IdleRule::Network, reason::IDLE_TIMEOUT));
        assert_eq!(
            data.idle,
            Some(IdleVerdict::NetworkTimeout {
                threshold: 60,
                idle_for: 60
            })
        );
    }

    #[test]
    fn lifetime_wins_and_reports_the_age() {
        let s = all_rules();
        let j = judge(&s, 0, 0, 599 * S, &busy(570, 600), 600 * S);
        let (rule, info, data) = j.reclaim.unwrap();
        assert_eq!(
            (rule, info),
            (IdleRule::Lifetime, reason::MAX_LIFETIME_EXCEEDED)
        );
        assert_eq!(
            data.idle,
            Some(IdleVerdict::SessionLifetime {
                threshold: 600,
                age: 600
            })
        );
    }

    #[test]
    fn a_busy_session_is_only_reported_and_rules_not_configured_are_absent() {
        let s = all_rules();
        let j = judge(&s, 0, 0, 100 * S, &busy(70, 100), 100 * S);
        assert!(j.reclaim.is_none());
        let u = j.report.utilization.unwrap();
        assert_eq!(u.remaining, None);
        assert_eq!(u.resources["cpu_util"].average, Some(80.0));
        let none = Settings {
            lifetime_ms: None,
            network_ms: None,
            utilization: None,
            warn_ms: 0,
        };
        assert!(judge(&none, 0, 0, 0, &[], 10 * S).report.is_empty());
    }

    #[test]
    fn policies_override_and_batch_sessions_obey_only_the_lifetime() {
        let mut c = Config::for_data_dir("/tmp/x", "127.0.0.1:1".parse().unwrap());
        c.idle_network_timeout_secs = 600;
        c.idle_utilization = [("cpu_util".to_string(), 5.0)].into();
        let policy = |idle: Option<i64>| PolicyRow {
            name: "p".into(),
            max_concurrent_sessions: 0,
            max_total_cpu: 0.0,
            max_total_mem: 0,
            max_session_lifetime: 3600,
            max_folders: 0,
            max_folder_bytes: Default::default(),
            idle_timeout: idle,
            max_customized_images: 0,
            max_pending_sessions: 0,
        };
        let s = settings(&c, Some(&policy(None)), SessionType::Interactive);
        assert_eq!(s.network_ms, Some(600 * S));
        assert_eq!(s.lifetime_ms, Some(3600 * S));
        let s = settings(&c, Some(&policy(Some(30))), SessionType::Interactive);
        assert_eq!(s.network_ms, Some(30 * S));
        assert_eq!(s.utilization.unwrap().window_ms, 30 * S);
        let s = settings(&c, Some(&policy(Some(0))), SessionType::Interactive);
        assert_eq!((s.network_ms, s.utilization), (None, None));
        let s = settings(&c, Some(&policy(None)), SessionType::Batch);
        assert_eq!((s.network_ms, s.utilization), (None, None));
        assert_eq!(s.lifetime_ms, Some(3600 * S));
    }
}

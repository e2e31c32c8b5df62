//! The idle rules as pure functions of times and samples (no I/O, no
//! clock: `now` comes in). Times are epoch milliseconds.
//!
//! - **Lifetime**: a session ends when its age reaches the limit.
//! - **Network**: an interactive session ends when no traffic passed
//!   between its users and it (app proxy, terminal, SSH) for the timeout.
//! - **Utilization**: after a grace period counted from the start (which
//!   nothing extends), an interactive session ends when the average of
//!   each resource over the last window is below its threshold — all of
//!   them (`and`) or any (`or`); resources without a threshold, or without
//!   data, do not count. It is judged only once a whole window has been
//!   observed, so a session is never ended on a partial window.

use std::collections::BTreeMap;

/// How per-resource verdicts combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Operator {
    /// Idle only when every resource is below its threshold.
    #[default]
    And,
    /// Idle when any resource is below its threshold.
    Or,
}

/// One observation of a session's utilization, in percent of what it was
/// given (`cpu_util`: of its CPU cores; `mem`: of its memory).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// When it was taken.
    pub at_ms: i64,
    /// Percent per resource.
    pub values: BTreeMap<String, f64>,
}

/// The utilization rule's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct UtilizationRule {
    /// The window the average is taken over.
    pub window_ms: i64,
    /// No judgement before `started + grace`.
    pub grace_ms: i64,
    /// Percent thresholds by resource.
    pub thresholds: BTreeMap<String, f64>,
    /// How the resources combine.
    pub operator: Operator,
}

/// Time left before a timer rule (lifetime, network) ends the session;
/// zero or less: it ends now.
pub fn timer_remaining(since_ms: i64, now_ms: i64, limit_ms: i64) -> i64 {
    since_ms.saturating_add(limit_ms).saturating_sub(now_ms)
}

/// What the utilization rule sees now.
#[derive(Debug, Clone, PartialEq)]
pub struct UtilizationCheck {
    /// Time left of the grace period, while it lasts.
    pub grace_left_ms: Option<i64>,
    /// Per resource with a threshold: its average over the window (none:
    /// no sample yet) and the threshold.
    pub resources: BTreeMap<String, (Option<f64>, f64)>,
    /// Whether the window's averages are below the thresholds now.
    pub below: bool,
    /// When the session would be ended if its use stays as it is: 0 when
    /// it is ended now; none while it is busy.
    pub remaining_ms: Option<i64>,
}

impl UtilizationCheck {
    /// Whether the rule ends the session now.
    pub fn fires(&self) -> bool {
        self.remaining_ms.is_some_and(|r| r <= 0)
    }
}

/// Averages per thresholded resource over the samples in `(from, to]`.
fn averages(
    samples: &[Sample],
    from_ms: i64,
    to_ms: i64,
    thresholds: &BTreeMap<String, f64>,
) -> BTreeMap<String, (Option<f64>, f64)> {
    thresholds
        .iter()
        .map(|(name, &thr)| {
            let (sum, n) = samples
                .iter()
                .filter(|s| s.at_ms > from_ms && s.at_ms <= to_ms)
                .filter_map(|s| s.values.get(name))
                .fold((0.0, 0u32), |(sum, n), v| (sum + v, n + 1));
            (name.clone(), ((n > 0).then(|| sum / f64::from(n)), thr))
        })
        .collect()
}

/// Below the thresholds, as `op` combines them; resources without data are
/// left out, and with no data at all nothing is idle.
fn is_below(resources: &BTreeMap<String, (Option<f64>, f64)>, op: Operator) -> bool {
    let mut known = resources
        .values()
        .filter_map(|(avg, thr)| avg.map(|a| a < *thr))
        .peekable();
    if known.peek().is_none() {
        return false;
    }
    match op {
        Operator::And => known.all(|b| b),
        Operator::Or => known.any(|b| b),
    }
}

/// The utilization rule for a session that started at `started_ms`.
/// `lookahead_ms` is how early a coming end is announced: when the most
/// recent `window − lookahead` is already below the thresholds, the
/// session is projected to end in `lookahead` if its use stays as it is.
pub fn utilization(
    samples: &[Sample],
    started_ms: i64,
    now_ms: i64,
    rule: &UtilizationRule,
    lookahead_ms: i64,
) -> UtilizationCheck {
    let grace_end = started_ms.saturating_add(rule.grace_ms);
    // the first moment a whole window has been observed after the start
    let first_judgement = grace_end.max(started_ms.saturating_add(rule.window_ms));
    let resources = averages(
        samples,
        now_ms.saturating_sub(rule.window_ms),
        now_ms,
        &rule.thresholds,
    );
    let below = is_below(&resources, rule.operator);
    let lookahead = lookahead_ms.clamp(0, rule.window_ms);
    let recent = averages(
        samples,
        now_ms.saturating_sub(rule.window_ms - lookahead),
        now_ms,
        &rule.thresholds,
    );
    let until_judgement = first_judgement.saturating_sub(now_ms).max(0);
    let remaining_ms = if below {
        Some(until_judgement)
    } else if lookahead > 0 && is_below(&recent, rule.operator) {
        Some(until_judgement.max(lookahead))
    } else {
        None
    };
    UtilizationCheck {
        grace_left_ms: (now_ms < grace_end).then(|| grace_end - now_ms),
        resources,
        below,
        remaining_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: i64 = 1000;

    fn rule(op: Operator) -> UtilizationRule {
        UtilizationRule {
            window_ms: 60 * S,
            grace_ms: 30 * S,
            thresholds: [("cpu_util".to_string(), 10.0), ("mem".to_string(), 5.0)].into(),
            operator: op,
        }
    }

    fn series(from: i64, to: i64, cpu: f64, mem: f64) -> Vec<Sample> {
        (from..=to)
            .step_by(5)
            .map(|t| Sample {
                at_ms: t * S,
                values: [("cpu_util".to_string(), cpu), ("mem".to_string(), mem)].into(),
            })
            .collect()
    }

    #[test]
    fn timers_count_down_from_their_start() {
        assert_eq!(timer_remaining(1_000, 61_000, 60_000), 0);
        assert_eq!(timer_remaining(1_000, 31_000, 60_000), 30_000);
        assert!(timer_remaining(0, i64::MAX, 10) < 0);
    }

    #[test]
    fn an_idle_session_ends_only_after_grace_and_a_whole_window() {
        let idle = series(0, 200, 1.0, 1.0);
        let r = rule(Operator::And);
        // in grace: reported, not ended
        let c = utilization(&idle[..4], 0, 20 * S, &r, 0);
        assert_eq!(c.grace_left_ms, Some(10 * S));
        assert!(c.below && !c.fires());
        assert_eq!(c.remaining_ms, Some(40 * S), "first judgement at 60 s");
        // a whole window observed: ended
        let c = utilization(&idle, 0, 60 * S, &r, 0);
        assert!(c.fires());
        assert_eq!(c.resources["cpu_util"], (Some(1.0), 10.0));
    }

    #[test]
    fn and_needs_every_resource_below_or_needs_one() {
        let mixed = series(0, 200, 50.0, 1.0);
        let and = utilization(&mixed, 0, 120 * S, &rule(Operator::And), 0);
        let or = utilization(&mixed, 0, 120 * S, &rule(Operator::Or), 0);
        assert!(!and.fires() && and.remaining_ms.is_none());
        assert!(or.fires());
    }

    #[test]
    fn only_the_window_counts_and_unthresholded_or_missing_data_is_ignored() {
        // busy long ago, idle for the last window: ended
        let mut s = series(0, 100, 90.0, 90.0);
        s.extend(series(105, 200, 1.0, 1.0));
        assert!(utilization(&s, 0, 200 * S, &rule(Operator::And), 0).fires());
        // a resource with no samples is left out; no data at all is not idle
        let only_cpu: Vec<Sample> = (0..=40)
            .map(|t| Sample {
                at_ms: t * 5 * S,
                values: [("cpu_util".to_string(), 1.0), ("gpu".to_string(), 0.0)].into(),
            })
            .collect();
        let c = utilization(&only_cpu, 0, 200 * S, &rule(Operator::And), 0);
        assert_eq!(c.resources["mem"].0, None);
        assert!(c.fires());
        assert!(!utilization(&[], 0, 200 * S, &rule(Operator::Or), 0).fires());
    }

    #[test]
    fn a_coming_end_is_projected_lookahead_early() {
        // busy until 150 s, idle since: the recent 40 s are idle
        let mut s = series(0, 150, 90.0, 90.0);
        s.extend(series(155, 200, 1.0, 1.0));
        let c = utilization(&s, 0, 200 * S, &rule(Operator::And), 20 * S);
        assert!(!c.below, "the whole window is not idle yet");
        assert_eq!(c.remaining_ms, Some(20 * S));
        assert!(!c.fires());
    }

    proptest! {
        #[test]
        fn always_above_the_thresholds_is_never_ended(
            cpu in 10.0f64..400.0, mem in 5.0f64..100.0,
            now in 0i64..10_000, op in prop_oneof![Just(Operator::And), Just(Operator::Or)],
            look in 0i64..120,
        ) {
            let s = series(0, now, cpu, mem);
            let c = utilization(&s, 0, now * S, &rule(op), look * S);
            prop_assert!(!c.fires());
            prop_assert!(c.remaining_ms.is_none());
        }

        #[test]
        fn nothing_ends_before_grace_and_a_whole_window(
            now in 0i64..60, grace in 0i64..120, window in 1i64..120,
        ) {
            let r = UtilizationRule { window_ms: window * S, grace_ms: grace * S, ..rule(Operator::Or) };
            let s = series(0, now, 0.0, 0.0);
            let c = utilization(&s, 0, now * S, &r, 0);
            if c.fires() {
                prop_assert!(now >= grace && now >= window);
            }
            // the grace period is reported in full, never shortened
            if now < grace {
                prop_assert_eq!(c.grace_left_ms, Some((grace - now) * S));
            }
        }
    }
}

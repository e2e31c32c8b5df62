//! The idle-check report of a session (`SessionInfo::idle_checks`): per
//! rule the server configures, its threshold and what is left before it
//! ends the session. Rules the server does not configure are absent. The
//! shape follows the reference product's `idle_checks` (remaining seconds,
//! `expire_after` or `grace_period`, utilization `[average, threshold]`
//! per resource) with names spelled out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What `remaining` counts down to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemainingType {
    /// The session ends when it reaches zero.
    ExpireAfter,
    /// The rule does not judge before it reaches zero.
    GracePeriod,
}

/// A rule that counts down from a moment (lifetime: the start; network:
/// the last traffic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimerCheck {
    /// The limit, seconds.
    pub threshold: u64,
    /// Seconds left (0: ending now).
    pub remaining: f64,
    /// Always `expire_after`.
    pub remaining_time_type: RemainingType,
}

/// One resource of the utilization rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourceUtilization {
    /// Its average over the window, percent (none: no sample yet).
    pub average: Option<f64>,
    /// Below this the resource counts as idle, percent.
    pub threshold: f64,
}

/// The utilization rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UtilizationCheck {
    /// Seconds left: of the grace period while it lasts, else before the
    /// session ends if its use stays as it is (none: busy, not ending).
    pub remaining: Option<f64>,
    /// What `remaining` counts.
    pub remaining_time_type: RemainingType,
    /// `and` (every resource idle) or `or` (any).
    pub operator: String,
    /// The window the averages cover, seconds.
    pub window: u64,
    /// Per resource with a threshold.
    pub resources: BTreeMap<String, ResourceUtilization>,
}

/// `SessionInfo::idle_checks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdleChecks {
    /// Max session lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_lifetime: Option<TimerCheck>,
    /// Network idle timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_timeout: Option<TimerCheck>,
    /// Utilization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization: Option<UtilizationCheck>,
    /// The moment the `remaining` times are of: the server judges at each
    /// read, so it is the read's own moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Which rule (spelled as the report's keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IdleRule {
    /// Max session lifetime.
    #[serde(rename = "session_lifetime")]
    Lifetime,
    /// Network idle timeout.
    #[serde(rename = "network_timeout")]
    Network,
    /// Utilization.
    #[serde(rename = "utilization")]
    Utilization,
}

/// Told to a session's owner when a rule comes within the warning time of
/// ending it (`SessionEvent::warning`): once per approach, so again only
/// after the session was used in between. When it is used again before
/// the end, a second one with `lifted` set says the warning no longer
/// holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdleWarning {
    /// The rule.
    pub rule: IdleRule,
    /// Seconds left (at the event's `at`).
    pub remaining: f64,
    /// The session was used again: the rule no longer ends it soon.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lifted: bool,
}

impl IdleChecks {
    /// The rule closest to ending the session, with its seconds left
    /// (grace periods do not count: they end nothing).
    pub fn closest(&self) -> Option<(IdleRule, f64)> {
        let timers = [
            (IdleRule::Lifetime, self.session_lifetime.as_ref()),
            (IdleRule::Network, self.network_timeout.as_ref()),
        ]
        .into_iter()
        .filter_map(|(r, c)| c.map(|c| (r, c.remaining)));
        let util = self
            .utilization
            .as_ref()
            .filter(|u| u.remaining_time_type == RemainingType::ExpireAfter)
            .and_then(|u| u.remaining.map(|r| (IdleRule::Utilization, r)));
        timers.chain(util).min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Whether any rule is configured.
    pub fn is_empty(&self) -> bool {
        self.session_lifetime.is_none()
            && self.network_timeout.is_none()
            && self.utilization.is_none()
    }
}

/// How close a resource's use is to its idle threshold, for colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UtilizationLevel {
    /// Well above the threshold.
    Normal,
    /// Under ten times the threshold.
    Warning,
    /// Under twice the threshold.
    Danger,
}

/// The reference product's cut-offs: danger under 2× the threshold,
/// warning under 10×, else normal; no data is normal.
pub fn utilization_level(r: &ResourceUtilization) -> UtilizationLevel {
    match r.average {
        Some(a) if a < 2.0 * r.threshold => UtilizationLevel::Danger,
        Some(a) if a < 10.0 * r.threshold => UtilizationLevel::Warning,
        _ => UtilizationLevel::Normal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(remaining: f64) -> TimerCheck {
        TimerCheck {
            threshold: 600,
            remaining,
            remaining_time_type: RemainingType::ExpireAfter,
        }
    }

    #[test]
    fn the_closest_rule_ignores_grace_periods() {
        let mut c = IdleChecks {
            session_lifetime: Some(timer(500.0)),
            network_timeout: Some(timer(300.0)),
            utilization: Some(UtilizationCheck {
                remaining: Some(10.0),
                remaining_time_type: RemainingType::GracePeriod,
                operator: "and".into(),
                window: 600,
                resources: BTreeMap::new(),
            }),
            at: None,
        };
        assert_eq!(c.closest(), Some((IdleRule::Network, 300.0)));
        if let Some(u) = c.utilization.as_mut() {
            u.remaining_time_type = RemainingType::ExpireAfter;
        }
        assert_eq!(c.closest(), Some((IdleRule::Utilization, 10.0)));
        assert_eq!(IdleChecks::default().closest(), None);
        let json = serde_json::to_value(IdleChecks::default()).unwrap();
        assert_eq!(json, serde_json::json!({}), "unconfigured rules are absent");
    }

    #[test]
    fn levels_follow_the_reference_cut_offs() {
        let r = |average| ResourceUtilization {
            average,
            threshold: 10.0,
        };
        assert_eq!(utilization_level(&r(Some(15.0))), UtilizationLevel::Danger);
        assert_eq!(utilization_level(&r(Some(50.0))), UtilizationLevel::Warning);
        assert_eq!(utilization_level(&r(Some(100.0))), UtilizationLevel::Normal);
        assert_eq!(utilization_level(&r(None)), UtilizationLevel::Normal);
    }
}

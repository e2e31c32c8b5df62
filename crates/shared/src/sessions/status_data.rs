//! `status_data`: the facts behind a session's status, typed. The server
//! writes it (the scheduler's wait, an exit code, an error, a lost agent,
//! an idle verdict, an image copy's progress) and the browser reads it,
//! both through [`StatusData`]; on the wire it is the JSON object REST
//! clients have always seen (absent keys are left out).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{FailedCheck, ResourceUtilization};

/// The details of a session's status (`SessionInfo::status_data`,
/// `SessionEvent::status_data`). Every key is optional; a status sets the
/// ones that explain it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusData {
    /// Its agent's engine stopped answering (the session is kept, and
    /// checked when it answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_lost: Option<AgentLost>,
    /// The batch run time limit (seconds) that ended it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_timeout: Option<u64>,
    /// What broke, and where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorData>,
    /// The batch command's exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// The idle rule that ended it, with the numbers that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<IdleVerdict>,
    /// Its image is being copied to its agent from another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulling: Option<Pulling>,
    /// Why the scheduler keeps it waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<SchedulerWait>,
    /// Keys this version does not know (written by another), kept as they
    /// are.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// `status_data.agent_lost`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentLost {
    /// The agent.
    pub agent: String,
    /// Since when it has not answered.
    pub since: DateTime<Utc>,
}

/// `status_data.error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorData {
    /// Where: `agent` (the engine) or `other`.
    pub src: String,
    /// What, in English.
    pub repr: String,
}

/// `status_data.pulling`: an image copy in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pulling {
    /// Where it goes.
    pub agent: String,
    /// Where it comes from.
    pub source: String,
    /// The image.
    #[serde(default)]
    pub image: String,
    /// Bytes sent so far.
    pub bytes: u64,
    /// The image's size.
    pub total: u64,
}

/// `status_data.scheduler`: why a PENDING session waits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SchedulerWait {
    /// The checks that keep it waiting.
    #[serde(default)]
    pub failed_predicates: Vec<FailedCheck>,
    /// Its resource group.
    #[serde(default)]
    pub resource_group: String,
    /// Its place in the group's queue (1 = next).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
}

/// `status_data.idle`: the rule that ended a session, tagged by `rule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum IdleVerdict {
    /// It lived longer than its policy allows.
    SessionLifetime {
        /// The limit, seconds.
        threshold: i64,
        /// Its age, seconds.
        age: i64,
    },
    /// It had no app traffic for longer than allowed.
    NetworkTimeout {
        /// The limit, seconds.
        threshold: i64,
        /// Since the last traffic (or its start), seconds.
        idle_for: i64,
    },
    /// Its use stayed under the thresholds for the whole window.
    Utilization {
        /// `and` (every resource idle) or `or` (any).
        operator: String,
        /// The window, seconds.
        window: u64,
        /// Per resource: its average and threshold.
        resources: BTreeMap<String, ResourceUtilization>,
    },
}

impl StatusData {
    /// An error at `src` (`agent` for the engine, `other` for the rest).
    pub fn error(src: &str, repr: impl Into<String>) -> Self {
        StatusData {
            error: Some(ErrorData {
                src: src.to_string(),
                repr: repr.into(),
            }),
            ..Default::default()
        }
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        *self == StatusData::default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::CheckFailure;
    use super::*;

    /// Each key as the server wrote it before it was typed: read, then
    /// written back, it is the same JSON.
    #[test]
    fn every_key_reads_and_writes_as_before() {
        let samples = [
            json!({"scheduler": {"failed_predicates": [
                {"name": "capacity", "msg": "needs 4 CPU, agent local has 1 free",
                 "kind": "short", "agent": "local", "resource": "cpu", "needs": 4.0, "free": 1.0}],
                "resource_group": "default", "position": 2}}),
            json!({"exit_code": 3}),
            json!({"exit_code": -1}),
            json!({"batch_timeout": 60}),
            json!({"error": {"src": "agent", "repr": "its container is gone from the engine"}}),
            json!({"agent_lost": {"agent": "a1", "since": "2026-12-04T10:00:00Z"}}),
            json!({"pulling": {"agent": "a1", "source": "local", "image": "busybox:latest",
                               "bytes": 10, "total": 100}}),
            json!({"idle": {"rule": "session_lifetime", "threshold": 60, "age": 61}}),
            json!({"idle": {"rule": "network_timeout", "threshold": 60, "idle_for": 75}}),
            json!({"idle": {"rule": "utilization", "operator": "and", "window": 30,
                            "resources": {"cpu_util": {"average": 0.5, "threshold": 10.0},
                                          "mem": {"average": null, "threshold": 5.0}}}}),
            json!({"error": {"src": "other", "repr": "x"}, "agent_lost": {"agent": "local",
                   "since": "2026-12-04T10:00:00.123Z"}, "unknown": [1, {"a": 2}]}),
        ];
        for sample in samples {
            let typed: StatusData = serde_json::from_value(sample.clone()).expect("reads");
            assert!(typed.other.is_empty() || sample.get("unknown").is_some());
            assert_eq!(serde_json::to_value(&typed).unwrap(), sample);
        }
    }

    #[test]
    fn the_typed_fields_hold_the_facts() {
        let d: StatusData = serde_json::from_value(json!({"scheduler": {"failed_predicates": [
            {"name": "concurrency", "msg": "1 of 1 sessions"},
            {"name": "reserved_time", "msg": "later", "kind": "start_time", "at": "2030-01-01T00:00:00Z"}],
            "resource_group": "g"}}))
        .unwrap();
        let wait = d.scheduler.unwrap();
        assert_eq!(wait.position, None);
        assert_eq!(wait.failed_predicates[0].why, None, "a check without facts");
        assert!(matches!(
            wait.failed_predicates[1].why,
            Some(CheckFailure::StartTime { .. })
        ));
        assert!(StatusData::default().is_empty());
        assert_eq!(
            serde_json::to_value(StatusData::error("agent", "gone")).unwrap(),
            json!({"error": {"src": "agent", "repr": "gone"}})
        );
        assert!(
            serde_json::from_value::<StatusData>(json!({"exit_code": "three"})).is_err(),
            "a wrong type is an error, not a default"
        );
    }
}

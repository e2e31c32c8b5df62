//! Sessions as the API shows them: the session, its kernels and history,
//! lists, logs, live usage, readable status details, and the events of the
//! event stream.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Mount, Resources, SessionStatus, SessionType, StatusData};
use crate::bytes::ByteSize;

/// One container of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KernelInfo {
    /// Kernel id.
    pub id: String,
    /// `main` or `sub`.
    pub role: String,
    /// Container hostname (`main1`, `sub1`, …).
    pub hostname: String,
    /// Docker container id, once created.
    pub container_id: Option<String>,
    /// Agent it runs on.
    pub agent: Option<String>,
    /// Same values as the session's.
    pub status: SessionStatus,
    /// Exit code of its main process, once it exited.
    pub exit_code: Option<i64>,
    /// The devices it holds, by accelerator slot (`cuda.device` → `[0, 1]`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub devices: BTreeMap<String, Vec<u32>>,
}

/// One status change, for the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    /// The new status.
    pub status: SessionStatus,
    /// Its reason code.
    pub status_info: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A session as the API shows it. The field names are an interface:
/// extend, don't rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// UUID.
    pub id: String,
    /// Name, unique among the owner's live sessions.
    pub name: String,
    /// Interactive or batch.
    #[serde(rename = "type")]
    pub session_type: SessionType,
    /// Current status.
    pub status: SessionStatus,
    /// Reason code of the status (`user-requested`, `self-terminated`, …).
    pub status_info: Option<String>,
    /// Details: scheduler checks that failed, exit code, error.
    pub status_data: Option<StatusData>,
    /// Owner's email.
    pub owner_email: String,
    /// Email of who created it (an admin may create for someone else).
    pub created_by: String,
    /// Project name.
    pub project: String,
    /// Resource group.
    pub resource_group: String,
    /// Image reference.
    pub image: String,
    /// How people call the image when its reference is not for reading
    /// (`Customized<name>` for a customized image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    /// Resources it holds (or will hold).
    pub resources: Resources,
    /// Environment variables the user set.
    pub env: BTreeMap<String, String>,
    /// Thread count given to OpenMP & co.
    pub nthreads: u32,
    /// Batch command.
    pub startup_command: Option<String>,
    /// Batch: not before.
    pub starts_at: Option<DateTime<Utc>>,
    /// Batch: maximum run time, seconds.
    pub batch_timeout: Option<u64>,
    /// Agent it was placed on.
    pub agent: Option<String>,
    /// `single-node`.
    pub cluster_mode: String,
    /// Number of kernels.
    pub cluster_size: u32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Became RUNNING.
    pub started_at: Option<DateTime<Utc>>,
    /// Ended.
    pub terminated_at: Option<DateTime<Utc>>,
    /// Its containers.
    pub kernels: Vec<KernelInfo>,
    /// Every status change, oldest first.
    pub status_history: Vec<StatusChange>,
    /// Mounted storage folders.
    pub mounts: Vec<Mount>,
    /// Ports inside the container reachable through the app proxy.
    #[serde(default)]
    pub preopen_ports: Vec<u16>,
    /// Set while the session is being saved as a customized image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<crate::images::CommitProgress>,
    /// What each configured idle rule has left (none: not running, or no
    /// rule configured).
    #[serde(default)]
    pub idle_checks: Option<super::IdleChecks>,
}

impl SessionInfo {
    /// The image as people read it: its name when it has one
    /// (`Customized<name>`), else its reference.
    pub fn image_label(&self) -> &str {
        self.image_name.as_deref().unwrap_or(&self.image)
    }
}

/// The answer to a create: the created sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedSessions {
    /// One per requested session.
    pub items: Vec<SessionInfo>,
}

/// Which sessions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SessionQuery {
    /// `running` (live) or `finished`; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `interactive` or `batch`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub session_type: Option<String>,
    /// Admins: only this owner's sessions (email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Superadmins: `true` lists every user's sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    /// 1-based page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Page size (1–100, default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
}

/// A page of sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionList {
    /// Newest first.
    pub items: Vec<SessionInfo>,
    /// Matching sessions in all pages.
    pub total: u64,
    /// This page (1-based).
    pub page: u32,
    /// Page size.
    pub page_size: u32,
}

/// A kernel's container log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionLogs {
    /// Kernel id.
    pub kernel: String,
    /// stdout and stderr, interleaved as written: the last lines asked for,
    /// at most `LOG_BYTES_MAX` bytes of them.
    pub logs: String,
    /// Older output exists that `logs` does not hold (more lines or bytes
    /// than returned); the download has it all.
    #[serde(default)]
    pub truncated: bool,
}

/// Live use of one kernel's container (from the engine's stats).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KernelUsage {
    /// Kernel id.
    pub kernel_id: String,
    /// CPU use in percent of one core (200 = two cores busy).
    pub cpu_percent: f64,
    /// Memory in use (page cache not counted).
    pub mem_used: ByteSize,
    /// The memory limit.
    pub mem_limit: ByteSize,
    /// Bytes received on all interfaces since start.
    pub net_rx: ByteSize,
    /// Bytes sent on all interfaces since start.
    pub net_tx: ByteSize,
}

/// `GET /api/v1/sessions/{id}/usage`: live use of the running kernels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionUsage {
    /// Session id.
    pub session_id: String,
    /// When measured.
    pub at: DateTime<Utc>,
    /// One entry per kernel whose container runs.
    pub kernels: Vec<KernelUsage>,
    /// The idle rules' report at the same moment (the detail panel polls
    /// this route, so its idle checks stay current).
    #[serde(default)]
    pub idle_checks: Option<super::IdleChecks>,
}

/// One readable fact of a session's `status_data`.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusDetail {
    /// A scheduler check that keeps it waiting.
    FailedCheck {
        /// Check name (`capacity`, `concurrency`, …).
        name: String,
        /// For people, in English.
        msg: String,
        /// The facts, when the server stored them (to word in any language).
        why: Option<super::CheckFailure>,
    },
    /// Its place in its resource group's queue (1 = next).
    QueuePosition {
        /// The group.
        group: String,
        /// The place.
        position: u64,
    },
    /// The batch command's exit code.
    ExitCode(i64),
    /// What broke, and where (`agent`, `other`).
    Error {
        /// Where.
        src: String,
        /// What.
        repr: String,
    },
    /// The batch run time limit (seconds) that ended it.
    BatchTimeout(u64),
    /// Its agent's engine has not answered since `since` (the session is
    /// kept, and checked when it answers).
    AgentLost {
        /// The agent.
        agent: String,
        /// Since when.
        since: DateTime<Utc>,
    },
    /// The idle rule that ended it.
    Idle(super::IdleVerdict),
    /// Its image is being copied to its agent from another.
    Pulling {
        /// Where it goes.
        agent: String,
        /// Where it comes from.
        source: String,
        /// Bytes sent so far.
        bytes: u64,
        /// The image's size.
        total: u64,
    },
    /// Anything else, as compact JSON.
    Other(String),
}

/// `status_data` as a list of readable facts, in a stable order: the
/// queue position, the failed checks, then the other keys by name.
pub fn status_details(data: &StatusData) -> Vec<StatusDetail> {
    let mut out = Vec::new();
    if let Some(agent_lost) = &data.agent_lost {
        out.push(StatusDetail::AgentLost {
            agent: agent_lost.agent.clone(),
            since: agent_lost.since,
        });
    }
    if let Some(secs) = data.batch_timeout {
        out.push(StatusDetail::BatchTimeout(secs));
    }
    if let Some(e) = &data.error {
        out.push(StatusDetail::Error {
            src: e.src.clone(),
            repr: e.repr.clone(),
        });
    }
    if let Some(code) = data.exit_code {
        out.push(StatusDetail::ExitCode(code));
    }
    if let Some(idle) = &data.idle {
        out.push(StatusDetail::Idle(idle.clone()));
    }
    if let Some(p) = &data.pulling {
        out.push(StatusDetail::Pulling {
            agent: p.agent.clone(),
            source: p.source.clone(),
            bytes: p.bytes,
            total: p.total,
        });
    }
    if let Some(wait) = &data.scheduler {
        if let Some(position) = wait.position {
            out.push(StatusDetail::QueuePosition {
                group: wait.resource_group.clone(),
                position: u64::from(position),
            });
        }
        out.extend(
            wait.failed_predicates
                .iter()
                .map(|c| StatusDetail::FailedCheck {
                    name: c.name.clone(),
                    msg: c.msg.clone(),
                    why: c.why.clone(),
                }),
        );
    }
    out.extend(
        data.other
            .iter()
            .map(|(k, v)| StatusDetail::Other(format!("{k}: {v}"))),
    );
    out
}

/// Query of `GET /api/v1/events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct EventsQuery {
    /// Admins: every user's sessions, not only those they own or launched.
    #[serde(default)]
    pub all: bool,
}

/// One lifecycle event on `/api/v1/events` (SSE `data:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionEvent {
    /// Session id.
    pub session_id: String,
    /// Session name.
    pub name: String,
    /// Owner's user id.
    pub owner_id: String,
    /// Who launched it (an admin may launch for the owner).
    pub creator_id: String,
    /// New status.
    pub status: SessionStatus,
    /// Reason code.
    pub status_info: Option<String>,
    /// Details.
    pub status_data: Option<StatusData>,
    /// When.
    pub at: DateTime<Utc>,
    /// Set on a warning that an idle rule will end the session soon (the
    /// status is unchanged then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<super::IdleWarning>,
    /// Set when saving the session as an image ended (the status is
    /// unchanged then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<crate::images::CommitOutcome>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_data_reads_as_facts() {
        let d: super::super::StatusData = serde_json::from_value(serde_json::json!({"scheduler": {"position": 2, "resource_group": "default", "failed_predicates": [
            {"name": "capacity", "msg": "needs 4 CPU, agent local has 1 free",
             "kind": "short", "agent": "local", "resource": "cpu", "needs": 4, "free": 1},
            {"name": "concurrency", "msg": "1 of 1 sessions"}]}}))
        .unwrap();
        assert_eq!(
            status_details(&d),
            vec![
                StatusDetail::QueuePosition {
                    group: "default".into(),
                    position: 2
                },
                StatusDetail::FailedCheck {
                    name: "capacity".into(),
                    msg: "needs 4 CPU, agent local has 1 free".into(),
                    why: Some(super::super::CheckFailure::Short {
                        agent: "local".into(),
                        resource: "cpu".into(),
                        needs: 4.0,
                        free: 1.0
                    })
                },
                StatusDetail::FailedCheck {
                    name: "concurrency".into(),
                    msg: "1 of 1 sessions".into(),
                    why: None
                }
            ]
        );
        let read = |v| status_details(&serde_json::from_value(v).unwrap());
        assert_eq!(
            read(serde_json::json!({"exit_code": 3})),
            vec![StatusDetail::ExitCode(3)]
        );
        assert_eq!(
            read(serde_json::json!({"error": {"src": "agent", "repr": "gone"}})),
            vec![StatusDetail::Error {
                src: "agent".into(),
                repr: "gone".into()
            }]
        );
        assert_eq!(
            read(serde_json::json!({"batch_timeout": 60, "x": [1]})),
            vec![
                StatusDetail::BatchTimeout(60),
                StatusDetail::Other("x: [1]".into())
            ]
        );
        assert!(read(serde_json::json!({})).is_empty());
    }
}

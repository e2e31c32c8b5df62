//! The reference platform's API (Backend.AI, as its `backend.ai-client`
//! SDK and CLI speak it), for the server's facade at `/backend.ai`: the
//! bodies it reads and writes, with the reference's names and aliases.
//! The facade translates them into the same operations `/api/v1` uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sessions::SessionStatus;

/// The API version the facade speaks (`GET /backend.ai`), the one the
/// client release it was built against (23.09) negotiates.
pub const API_VERSION: &str = "v7.20230615";

/// The API versions a request may name in `X-BackendAI-Version`.
pub const API_VERSIONS: [&str; 5] = [
    "v4.20190615",
    "v5.20191215",
    "v6.20220615",
    "v7.20230615",
    "v8.20240915",
];

/// `GET /backend.ai`: what version negotiation reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// The API version, `vN.YYYYMMDD`.
    pub version: String,
    /// The server's own version.
    pub manager: String,
}

/// `POST /backend.ai/session`: the create body (camelCase and snake_case
/// alike, as the reference takes them). Fields the reference has and
/// berth does not use (`tag`, `domain`, `dependencies`…) are read and
/// ignored, as the reference ignores what it does not need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateSession {
    /// The session's name.
    #[serde(default, alias = "session_name", alias = "clientSessionToken")]
    pub name: Option<String>,
    /// The image reference.
    #[serde(default, alias = "lang")]
    pub image: Option<String>,
    /// `interactive` or `batch`.
    #[serde(
        default,
        rename = "type",
        alias = "sessionType",
        alias = "session_type"
    )]
    pub session_type: Option<String>,
    /// `single-node` or `multi-node`.
    #[serde(default, alias = "clusterMode")]
    pub cluster_mode: Option<String>,
    /// Kernels.
    #[serde(default, alias = "clusterSize")]
    pub cluster_size: Option<u32>,
    /// Batch: not before (ISO 8601, or a delay like `1h`, `30m`).
    #[serde(default, alias = "startsAt")]
    pub starts_at: Option<String>,
    /// Batch: the longest run, seconds (or `1h`…).
    #[serde(default, alias = "batchTimeout")]
    pub batch_timeout: Option<Value>,
    /// Batch: the command.
    #[serde(default, rename = "startupCommand", alias = "startup_command")]
    pub startup_command: Option<String>,
    /// Answer at once (PENDING) rather than wait for the start.
    #[serde(default, rename = "enqueueOnly", alias = "enqueue_only")]
    pub enqueue_only: Option<bool>,
    /// How long to wait for the start (0: until it starts).
    #[serde(default, rename = "maxWaitSeconds", alias = "max_wait_seconds")]
    pub max_wait_seconds: Option<u64>,
    /// Return a live session of the same name and image instead.
    #[serde(default, rename = "reuseIfExists", alias = "reuse_if_exists")]
    pub reuse_if_exists: Option<bool>,
    /// Admins: the owner, by access key.
    #[serde(default, alias = "ownerAccessKey")]
    pub owner_access_key: Option<String>,
    /// The project (`group`).
    #[serde(default, alias = "groupName", alias = "group_name")]
    pub group: Option<String>,
    /// Where and with what.
    #[serde(default)]
    pub config: CreateConfig,
    /// Read and ignored (berth has no use for them).
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// Ports written as numbers or as numeric strings.
fn ports<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<u16>>, D::Error> {
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Port {
        Number(u16),
        Text(String),
    }
    let Some(list) = Option::<Vec<Port>>::deserialize(d)? else {
        return Ok(None);
    };
    list.into_iter()
        .map(|p| match p {
            Port::Number(n) => Ok(n),
            Port::Text(t) => t
                .trim()
                .parse()
                .map_err(|_| D::Error::custom(format!("{t:?} is not a port number"))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `config` of a create body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateConfig {
    /// `cpu`, `mem` (`"4g"` or bytes) and accelerator slots.
    #[serde(default)]
    pub resources: Option<BTreeMap<String, Value>>,
    /// `shmem`.
    #[serde(default, alias = "resourceOpts")]
    pub resource_opts: Option<BTreeMap<String, Value>>,
    /// Environment variables.
    #[serde(default)]
    pub environ: Option<BTreeMap<String, String>>,
    /// Storage folders to mount (names).
    #[serde(default)]
    pub mounts: Option<Vec<String>>,
    /// Where each folder goes; berth mounts at `/home/work/<name>` only.
    #[serde(default, alias = "mountMap")]
    pub mount_map: Option<BTreeMap<String, String>>,
    /// The resource group.
    #[serde(default, alias = "scalingGroup")]
    pub scaling_group: Option<String>,
    /// Ports to proxy from the start (numbers, or the strings the CLI
    /// sends).
    #[serde(default, alias = "preopenPorts", deserialize_with = "ports")]
    pub preopen_ports: Option<Vec<u16>>,
    /// A designated agent (one).
    #[serde(default, alias = "agentList")]
    pub agent_list: Option<Vec<String>>,
    /// Kernels (API v4–v5 put it here).
    #[serde(default, alias = "clusterSize")]
    pub cluster_size: Option<u32>,
    /// Read and ignored.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// The answer to a create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// The session's id.
    pub session_id: String,
    /// Its name.
    pub session_name: String,
    /// `PENDING`, `RUNNING`, a status it ended in, or `TIMEOUT`.
    pub status: String,
    /// Its apps.
    pub service_ports: Vec<ServicePortInfo>,
    /// False when a live one was reused.
    pub created: bool,
}

/// An app of a session as the reference lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePortInfo {
    /// `jupyter`, `ttyd`…
    pub name: String,
    /// `http`, `tcp`, `pty`, `preopen`.
    pub protocol: String,
    /// Ports in the container.
    pub container_ports: Vec<u16>,
}

/// `GET /backend.ai/session/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetail {
    /// The session id.
    pub session_id: String,
    /// The name.
    pub session_name: String,
    /// The project.
    pub group_name: String,
    /// Owner's user id.
    pub user_id: String,
    /// Image reference.
    pub image: String,
    /// `x86_64`.
    pub architecture: String,
    /// The main container's id.
    pub container_id: Option<String>,
    /// What it holds: `cpu`, `mem` (bytes, as strings).
    pub occupying_slots: BTreeMap<String, String>,
    /// What was asked.
    pub requested_slots: BTreeMap<String, String>,
    /// Its environment.
    pub environ: BTreeMap<String, String>,
    /// `shmem`.
    pub resource_opts: BTreeMap<String, String>,
    /// Status.
    pub status: String,
    /// Reason code.
    pub status_info: Option<String>,
    /// Details.
    pub status_data: Value,
    /// Milliseconds since creation.
    pub age: i64,
    /// ISO 8601.
    pub creation_time: String,
    /// ISO 8601, when ended.
    pub termination_time: Option<String>,
    /// `interactive` or `batch`.
    pub session_type: String,
    /// Idle checks' report.
    pub idle_checks: Value,
}

/// `GET /backend.ai/session/{name}/logs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logs {
    /// `{"logs": "…"}`.
    pub result: LogsResult,
}

/// The log text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsResult {
    /// The main container's log.
    pub logs: String,
}

/// Query of the session routes: the owner, for an admin acting on
/// another's session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerQuery {
    /// The owner's access key.
    #[serde(default)]
    pub owner_access_key: Option<String>,
    /// Destroy: stop at once (`true`).
    #[serde(default)]
    pub forced: Option<String>,
    /// Destroy: dependents too (berth has none).
    #[serde(default)]
    pub recursive: Option<String>,
    /// Rename: the new name.
    #[serde(default)]
    pub name: Option<String>,
    /// Commit: the name to save the image under (the reference's tar
    /// file name); by default the session's name and the time.
    #[serde(default)]
    pub filename: Option<String>,
}

/// `POST /backend.ai/session/{name}/commit`: the commit's task, followed
/// on `GET /backend.ai/events/background-task?task_id=…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitStarted {
    /// The task's id (a UUID).
    pub task_id: String,
}

/// `GET /backend.ai/session/{name}/commit`: whether one runs now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitStatus {
    /// `ongoing` while a commit runs, else `ready`.
    pub status: String,
    /// The main container's id.
    pub kernel: String,
}

/// Query of `GET /backend.ai/events/background-task`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackgroundTaskQuery {
    /// The task's id.
    #[serde(default)]
    pub task_id: String,
}

/// One background-task event (SSE `data:` of `bgtask_updated`,
/// `bgtask_done`, `bgtask_failed`, `bgtask_cancelled`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskEventData {
    /// The task's id.
    pub task_id: String,
    /// What happened (the image's reference when done, why when failed).
    pub message: String,
    /// Steps done (updates only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_progress: Option<u32>,
    /// Steps in all (updates only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_progress: Option<u32>,
}

/// The image name a commit gets when the caller names none: the
/// session's name (what the image-name rule allows of it, shortened) and
/// the second, so that two commits of one session differ.
pub fn commit_image_name(session_name: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let stamp = at.format("%Y%m%d%H%M%S").to_string();
    let room = crate::images::IMAGE_NAME_MAX - stamp.len() - 1;
    let base: String = session_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(room)
        .collect();
    let base = if base.is_empty() {
        "session".into()
    } else {
        base
    };
    format!("{base}-{stamp}")
}

/// Query of `GET /backend.ai/events/session`: which session (by id, or
/// by name), and which events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEventsQuery {
    /// The session's id.
    #[serde(default, rename = "sessionId", alias = "session_id")]
    pub session_id: Option<String>,
    /// Or its name.
    #[serde(default, alias = "sessionName", alias = "session_name")]
    pub name: Option<String>,
    /// Admins: the owner, by access key.
    #[serde(default, rename = "ownerAccessKey", alias = "owner_access_key")]
    pub owner_access_key: Option<String>,
    /// `*`, `session` or `kernel`.
    #[serde(default)]
    pub scope: Option<String>,
}

/// One session lifecycle event (SSE `data:`; the event's name is
/// `session_started` and the like).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionEventData {
    /// Why (the status's reason code), or empty.
    pub reason: String,
    /// The session's name.
    pub session_name: String,
    /// The owner's access key.
    pub owner_access_key: String,
    /// The session's id.
    pub session_id: String,
    /// The main container's exit code, once it ended.
    pub exit_code: Option<i64>,
}

/// The reference's event names for a status: a status can say two things
/// (a batch session's end is its success or failure, then its end).
pub fn session_event_names(status: SessionStatus, batch_exit: Option<i64>) -> Vec<&'static str> {
    use SessionStatus::*;
    match status {
        Pending => vec!["session_enqueued"],
        Scheduled => vec!["session_scheduled"],
        Preparing => vec!["session_preparing"],
        Running => vec!["session_started"],
        Terminating => vec!["session_terminating"],
        Terminated => match batch_exit {
            Some(0) => vec!["session_success", "session_terminated"],
            Some(_) => vec!["session_failure", "session_terminated"],
            None => vec!["session_terminated"],
        },
        Cancelled => vec!["session_cancelled"],
        Error => vec!["session_failure", "session_terminated"],
    }
}

/// `POST /backend.ai/folders`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateFolder {
    /// The folder's name.
    pub name: String,
    /// The rest (`host`, `usage_mode`, `permission`, `quota`…): read and
    /// ignored; berth has one host and user folders only.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// A folder as the reference lists it (`GET /backend.ai/folders`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Folder {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Storage host (`local`).
    pub host: String,
    /// `general`.
    pub usage_mode: String,
    /// `rw`.
    pub permission: String,
    /// ISO 8601.
    pub created_at: String,
    /// Always true here (user folders).
    pub is_owner: bool,
    /// The owner's user id.
    pub user: String,
    /// No project folders here.
    pub group: Option<String>,
    /// The owner's email.
    pub creator: String,
    /// `user`.
    #[serde(rename = "type")]
    pub folder_type: String,
    /// `user`.
    pub ownership_type: String,
    /// `0`: no cap of its own.
    pub max_size: u64,
    /// `ready`.
    pub status: String,
    /// Never.
    pub cloneable: bool,
}

/// A problem as the reference writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// `https://api.backend.ai/probs/<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    /// Facts (`existingSessionId`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// A delay like `30s`, `5m`, `1h`, `2d` (or bare seconds), in seconds.
pub fn duration_secs(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, unit) = match t.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let n: u64 = num.trim().parse().ok()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_body_reads_either_spelling() {
        let camel: CreateSession = serde_json::from_value(serde_json::json!({
            "name": "s1", "image": "i", "type": "batch", "clusterMode": "single-node",
            "clusterSize": 1, "startupCommand": "echo", "enqueueOnly": true,
            "maxWaitSeconds": 5, "reuseIfExists": false, "tag": null,
            "config": {"scalingGroup": "g", "resources": {"cpu": 1, "mem": "1g"},
                       "resource_opts": {"shmem": "64m"}, "environ": null, "mounts": null,
                       "preopen_ports": [8080]}
        }))
        .unwrap();
        let snake: CreateSession = serde_json::from_value(serde_json::json!({
            "session_name": "s1", "lang": "i", "sessionType": "batch", "cluster_mode": "single-node",
            "cluster_size": 1, "startup_command": "echo", "enqueue_only": true,
            "max_wait_seconds": 5, "reuse_if_exists": false, "tag": null,
            "config": {"scaling_group": "g", "resources": {"cpu": 1, "mem": "1g"},
                       "resourceOpts": {"shmem": "64m"}, "preopenPorts": ["8080"]}
        }))
        .unwrap();
        for b in [&camel, &snake] {
            assert_eq!(b.name.as_deref(), Some("s1"));
            assert_eq!(b.session_type.as_deref(), Some("batch"));
            assert_eq!(b.startup_command.as_deref(), Some("echo"));
            assert_eq!(b.enqueue_only, Some(true));
            assert_eq!(b.config.scaling_group.as_deref(), Some("g"));
            assert_eq!(b.config.preopen_ports, Some(vec![8080]));
            assert!(b
                .config
                .resource_opts
                .as_ref()
                .unwrap()
                .contains_key("shmem"));
        }
    }

    #[test]
    fn a_port_that_is_no_number_is_refused_by_name() {
        let bad = serde_json::from_value::<CreateConfig>(serde_json::json!({
            "preopen_ports": ["http"]
        }))
        .unwrap_err();
        assert!(
            bad.to_string().contains("\"http\" is not a port number"),
            "{bad}"
        );
        let none: CreateConfig =
            serde_json::from_value(serde_json::json!({"preopen_ports": null})).unwrap();
        assert_eq!(none.preopen_ports, None);
    }

    #[test]
    fn a_batch_end_is_its_success_or_failure_then_its_end() {
        use SessionStatus::*;
        assert_eq!(session_event_names(Running, None), ["session_started"]);
        assert_eq!(
            session_event_names(Terminated, Some(0)),
            ["session_success", "session_terminated"]
        );
        assert_eq!(
            session_event_names(Terminated, Some(3)),
            ["session_failure", "session_terminated"]
        );
        assert_eq!(
            session_event_names(Terminated, None),
            ["session_terminated"]
        );
        assert_eq!(
            session_event_names(Error, None),
            ["session_failure", "session_terminated"]
        );
    }

    #[test]
    fn a_commit_is_named_after_its_session_and_the_second_within_the_image_rule() {
        use chrono::TimeZone;
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 12, 6, 7, 30, 59)
            .unwrap();
        assert_eq!(commit_image_name("bai-one", at), "bai-one-20261206073059");
        let long = commit_image_name("a.very.long.session-name-indeed-yes", at);
        assert_eq!(long, "a-very-long-sessi-20261206073059");
        assert_eq!(commit_image_name("", at), "session-20261206073059");
        for name in ["x", "", "ünïcode", &"n".repeat(64), "dots.and spaces"] {
            let made = commit_image_name(name, at);
            assert!(
                crate::images::image_name(&made).is_ok(),
                "{made:?} breaks the image-name rule"
            );
        }
    }

    #[test]
    fn delays_read_as_seconds() {
        assert_eq!(duration_secs("90"), Some(90));
        assert_eq!(duration_secs("30s"), Some(30));
        assert_eq!(duration_secs("5m"), Some(300));
        assert_eq!(duration_secs("1h"), Some(3600));
        assert_eq!(duration_secs("2d"), Some(172_800));
        assert_eq!(duration_secs("1y"), None);
        assert_eq!(duration_secs("h"), None);
        assert_eq!(duration_secs(""), None);
    }
}

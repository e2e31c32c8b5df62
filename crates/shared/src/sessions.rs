//! Compute sessions: the create body, the session as the API shows it, and
//! the rules every field must satisfy (shared by the launcher and the server).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bytes::{ByteSize, MIB};
use crate::validate::{Errors, Invalid};
use crate::FieldError;

/// Shortest session name.
pub const NAME_MIN_CHARS: usize = 4;
/// Longest session name.
pub const NAME_MAX_CHARS: usize = 64;
/// Most sessions one request may create.
pub const MAX_COUNT: u32 = 100;
/// Largest `nthreads`.
pub const MAX_NTHREADS: u32 = 1000;
/// Default CPU cores when none are asked for.
pub const DEFAULT_CPU: f64 = 1.0;
/// Default memory when none is asked for.
pub const DEFAULT_MEM: ByteSize = ByteSize(512 * MIB);
/// Least memory a session may ask for (Docker refuses less than 6 MB).
pub const MIN_MEM: ByteSize = ByteSize(8 * MIB);
/// Default shared memory when none is asked for (never more than memory).
pub const DEFAULT_SHMEM: ByteSize = ByteSize(64 * MIB);

/// Interactive sessions live until someone ends them; batch sessions run a
/// command and end with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SessionType {
    /// Used through apps and a terminal.
    #[default]
    Interactive,
    /// Runs `startup_command`.
    Batch,
}

impl SessionType {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::Interactive => "interactive",
            SessionType::Batch => "batch",
        }
    }
    /// Parses the lowercase name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "interactive" => Some(Self::Interactive),
            "batch" => Some(Self::Batch),
            _ => None,
        }
    }
}

/// The status machine of DESIGN.md §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionStatus {
    /// Waiting for the scheduler.
    Pending,
    /// Placed on an agent.
    Scheduled,
    /// Its containers are being created.
    Preparing,
    /// Its main container runs.
    Running,
    /// Being stopped.
    Terminating,
    /// Ended (see `status_info`).
    Terminated,
    /// Ended before it ever ran.
    Cancelled,
    /// Broke (see `status_info` and `status_data`).
    Error,
}

impl SessionStatus {
    /// Every status, in machine order.
    pub const ALL: [SessionStatus; 8] = [
        Self::Pending,
        Self::Scheduled,
        Self::Preparing,
        Self::Running,
        Self::Terminating,
        Self::Terminated,
        Self::Cancelled,
        Self::Error,
    ];

    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Scheduled => "SCHEDULED",
            Self::Preparing => "PREPARING",
            Self::Running => "RUNNING",
            Self::Terminating => "TERMINATING",
            Self::Terminated => "TERMINATED",
            Self::Cancelled => "CANCELLED",
            Self::Error => "ERROR",
        }
    }

    /// Parses the upper-case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Finished: the Finished tab (TERMINATED, CANCELLED, ERROR).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Terminated | Self::Cancelled | Self::Error)
    }

    /// Can never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Terminated | Self::Cancelled)
    }

    /// Whether the machine allows `self → to`.
    pub fn can_become(self, to: SessionStatus) -> bool {
        use SessionStatus::*;
        match self {
            Pending => matches!(to, Scheduled | Terminating | Cancelled | Error),
            Scheduled => matches!(to, Preparing | Terminating | Cancelled | Error),
            Preparing => matches!(to, Running | Terminating | Terminated | Cancelled | Error),
            Running => matches!(to, Terminating | Terminated | Error),
            Terminating => matches!(to, Terminated | Error),
            Error => matches!(to, Terminating | Terminated),
            Terminated | Cancelled => false,
        }
    }
}

/// Asked resources. Absent values take the defaults (or the image's minimum
/// when it is larger).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceRequest {
    /// CPU cores (fractions allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<f64>,
    /// Memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem: Option<ByteSize>,
    /// Shared memory (`/dev/shm`), part of `mem`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shmem: Option<ByteSize>,
    /// Accelerators by slot name (`cuda.device`, `cuda.shares`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub accelerators: BTreeMap<String, f64>,
}

/// Resources a session holds (every value resolved).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// CPU cores.
    pub cpu: f64,
    /// Memory.
    pub mem: ByteSize,
    /// Shared memory.
    pub shmem: ByteSize,
    /// Accelerators by slot name.
    #[serde(default)]
    pub accelerators: BTreeMap<String, f64>,
}

/// `POST /api/v1/sessions` (DESIGN.md §11).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateSessionRequest {
    /// Interactive or batch.
    #[serde(rename = "type", default)]
    pub session_type: SessionType,
    /// Optional name; random when empty.
    #[serde(default)]
    pub name: String,
    /// Full image reference (`berth/busybox:latest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Environment name (with `version`), instead of `image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Environment version (an image tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Resource group; the caller's only/first allowed one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// Asked resources.
    #[serde(default)]
    pub resources: ResourceRequest,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// OpenMP & co. thread count; the CPU count when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nthreads: Option<u32>,
    /// How many identical sessions (extra ones queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Pin to this agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Admins: the user (by email) the session is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
    /// Project; the owner's `default`/first one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Batch: the command (run by `sh -c`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_command: Option<String>,
    /// Batch: not scheduled before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    /// Batch: maximum run time, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_timeout: Option<u64>,
}

/// The session-name rule: 4–64 characters, `^\w[\w.-]*\w$`.
pub fn session_name(name: &str) -> Result<(), Invalid> {
    let n = name.chars().count();
    if n < NAME_MIN_CHARS {
        return Err(Invalid::new(
            "too_short",
            format!("A session name has at least {NAME_MIN_CHARS} characters."),
        ));
    }
    if n > NAME_MAX_CHARS {
        return Err(Invalid::new(
            "too_long",
            format!("A session name has at most {NAME_MAX_CHARS} characters."),
        ));
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let first = name.chars().next().is_some_and(word);
    let last = name.chars().last().is_some_and(word);
    let middle = name.chars().all(|c| word(c) || c == '-' || c == '.');
    if !(first && last && middle) {
        return Err(Invalid::new(
            "invalid_session_name",
            "Use letters, digits and _; - and . only between them; no spaces.",
        ));
    }
    Ok(())
}

/// An environment variable name: `^[A-Za-z_][A-Za-z0-9_]*$`.
pub fn env_name(name: &str) -> Result<(), Invalid> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if name.is_empty() {
        Err(Invalid::new("required", "A variable needs a name."))
    } else if !ok {
        Err(Invalid::new(
            "invalid_env_name",
            "Use letters, digits and _, not starting with a digit.",
        ))
    } else {
        Ok(())
    }
}

/// Env var rows (as the launcher edits them): valid names, no duplicates.
pub fn env_rows(rows: &[(String, String)]) -> Result<(), Vec<FieldError>> {
    let mut errs = Errors::new();
    for (i, (name, _)) in rows.iter().enumerate() {
        let field = format!("env[{i}].name");
        if let Err(e) = env_name(name) {
            errs.check(&field, Err(e));
        } else if rows[..i].iter().any(|(n, _)| n == name) {
            errs.check(
                &field,
                Err(Invalid::new(
                    "duplicate",
                    format!("{name} is already set above."),
                )),
            );
        }
    }
    errs.finish()
}

impl CreateSessionRequest {
    /// Every rule that needs no server state. `now` bounds `starts_at`
    /// (the server passes its clock; a start time in the past is fine, the
    /// session just starts at once).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        if !self.name.is_empty() {
            errs.check("name", session_name(&self.name));
        }
        match (&self.image, &self.environment) {
            (Some(img), _) if img.trim().is_empty() => {
                errs.check("image", Err(Invalid::new("required", "Name an image.")))
            }
            (Some(_), Some(_)) => errs.check(
                "image",
                Err(Invalid::new(
                    "conflict",
                    "Give either an image or an environment and version, not both.",
                )),
            ),
            (None, None) => errs.check(
                "environment",
                Err(Invalid::new(
                    "required",
                    "Choose an environment (or give an image).",
                )),
            ),
            (None, Some(env)) if env.trim().is_empty() => errs.check(
                "environment",
                Err(Invalid::new("required", "Choose an environment.")),
            ),
            _ => {}
        }
        let r = &self.resources;
        if let Some(cpu) = r.cpu {
            if !(cpu.is_finite() && cpu > 0.0) {
                errs.check(
                    "resources.cpu",
                    Err(Invalid::new("out_of_range", "CPU must be more than 0.")),
                );
            }
        }
        if let Some(mem) = r.mem {
            if mem.0 < MIN_MEM.0 {
                errs.check(
                    "resources.mem",
                    Err(Invalid::new(
                        "out_of_range",
                        format!("Memory must be at least {MIN_MEM}."),
                    )),
                );
            }
        }
        let mem = r.mem.unwrap_or(DEFAULT_MEM);
        let shmem = r.shmem.unwrap_or(DEFAULT_SHMEM.min(mem));
        if shmem > mem {
            errs.check(
                "resources.shmem",
                Err(Invalid::new(
                    "shmem_exceeds_mem",
                    format!("Shared memory ({shmem}) cannot be more than memory ({mem})."),
                )),
            );
        }
        for (slot, v) in &r.accelerators {
            if !(v.is_finite() && *v >= 0.0) {
                errs.check(
                    &format!("resources.accelerators.{slot}"),
                    Err(Invalid::new(
                        "out_of_range",
                        "An accelerator amount cannot be negative.",
                    )),
                );
            }
        }
        for name in self.env.keys() {
            errs.check(&format!("env.{name}"), env_name(name));
        }
        if let Some(n) = self.nthreads {
            if n == 0 || n > MAX_NTHREADS {
                errs.check(
                    "nthreads",
                    Err(Invalid::new(
                        "out_of_range",
                        format!("Between 1 and {MAX_NTHREADS}."),
                    )),
                );
            }
        }
        if let Some(c) = self.count {
            if c == 0 || c > MAX_COUNT {
                errs.check(
                    "count",
                    Err(Invalid::new(
                        "out_of_range",
                        format!("Between 1 and {MAX_COUNT} sessions."),
                    )),
                );
            }
        }
        match self.session_type {
            SessionType::Batch => {
                if self
                    .startup_command
                    .as_deref()
                    .is_none_or(|c| c.trim().is_empty())
                {
                    errs.check(
                        "startup_command",
                        Err(Invalid::new(
                            "required",
                            "A batch session needs a startup command.",
                        )),
                    );
                }
                if self.batch_timeout == Some(0) {
                    errs.check(
                        "batch_timeout",
                        Err(Invalid::new(
                            "out_of_range",
                            "The maximum run time must be at least 1 second.",
                        )),
                    );
                }
            }
            SessionType::Interactive => {
                for (field, set) in [
                    ("startup_command", self.startup_command.is_some()),
                    ("starts_at", self.starts_at.is_some()),
                    ("batch_timeout", self.batch_timeout.is_some()),
                ] {
                    if set {
                        errs.check(
                            field,
                            Err(Invalid::new("batch_only", "Only batch sessions take this.")),
                        );
                    }
                }
            }
        }
        errs.finish()
    }
}

/// One container of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// One status change, for the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The new status.
    pub status: SessionStatus,
    /// Its reason code.
    pub status_info: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A session as the API shows it (DESIGN.md §11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub status_data: Option<serde_json::Value>,
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
    /// Mounted storage folders (from step 6).
    pub mounts: Vec<String>,
    /// Idle-check report (from the idle-check step).
    pub idle_checks: Option<serde_json::Value>,
}

/// The answer to a create: the created sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedSessions {
    /// One per requested session.
    pub items: Vec<SessionInfo>,
}

/// Which sessions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// `POST /api/v1/sessions/{id}/rename`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameRequest {
    /// The new name (same rule as at creation).
    #[serde(default)]
    pub name: String,
}

impl RenameRequest {
    /// The name rule.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("name", session_name(&self.name));
        errs.finish()
    }
}

/// Query of `DELETE /api/v1/sessions/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminateQuery {
    /// Kill at once and forget the containers, for stuck sessions.
    #[serde(default)]
    pub force: bool,
}

/// Query of `GET /api/v1/sessions/{id}/logs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsQuery {
    /// Kernel id; the main kernel when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Only the last N lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<u32>,
}

/// A kernel's container log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLogs {
    /// Kernel id.
    pub kernel: String,
    /// stdout and stderr, interleaved as written.
    pub logs: String,
}

/// Live use of one kernel's container (from the engine's stats).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct SessionUsage {
    /// Session id.
    pub session_id: String,
    /// When measured.
    pub at: DateTime<Utc>,
    /// One entry per kernel whose container runs.
    pub kernels: Vec<KernelUsage>,
}

/// One readable fact of a session's `status_data`.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusDetail {
    /// A scheduler check that keeps it waiting.
    FailedCheck {
        /// Check name (`capacity`, `concurrency`, …).
        name: String,
        /// For people.
        msg: String,
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
    /// Anything else, as compact JSON.
    Other(String),
}

/// `status_data` as a list of readable facts, in a stable order.
pub fn status_details(data: &serde_json::Value) -> Vec<StatusDetail> {
    use serde_json::Value;
    let Value::Object(map) = data else {
        return match data {
            Value::Null => vec![],
            v => vec![StatusDetail::Other(v.to_string())],
        };
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    let mut out = Vec::new();
    for (key, v) in map {
        match key.as_str() {
            "scheduler" => {
                let checks = v
                    .get("failed_predicates")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                out.extend(checks.iter().map(|c| StatusDetail::FailedCheck {
                    name: text(c.get("name")),
                    msg: text(c.get("msg")),
                }));
            }
            "exit_code" if v.is_i64() => out.push(StatusDetail::ExitCode(v.as_i64().unwrap_or(0))),
            "batch_timeout" if v.is_u64() => {
                out.push(StatusDetail::BatchTimeout(v.as_u64().unwrap_or(0)))
            }
            "error" => match v {
                Value::Object(e) => out.push(StatusDetail::Error {
                    src: text(e.get("src")),
                    repr: text(e.get("repr")),
                }),
                other => out.push(StatusDetail::Error {
                    src: String::new(),
                    repr: text(Some(other)),
                }),
            },
            _ => out.push(StatusDetail::Other(format!("{key}: {v}"))),
        }
    }
    out
}

/// One lifecycle event on `/api/v1/events` (SSE `data:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub status_data: Option<serde_json::Value>,
    /// When.
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn status_data_reads_as_facts() {
        let d = serde_json::json!({"scheduler": {"failed_predicates": [
            {"name": "capacity", "msg": "needs 4 CPU, agent local has 1 free"},
            {"name": "concurrency", "msg": "1 of 1 sessions"}]}});
        assert_eq!(
            status_details(&d),
            vec![
                StatusDetail::FailedCheck {
                    name: "capacity".into(),
                    msg: "needs 4 CPU, agent local has 1 free".into()
                },
                StatusDetail::FailedCheck {
                    name: "concurrency".into(),
                    msg: "1 of 1 sessions".into()
                }
            ]
        );
        assert_eq!(
            status_details(&serde_json::json!({"exit_code": 3})),
            vec![StatusDetail::ExitCode(3)]
        );
        assert_eq!(
            status_details(&serde_json::json!({"error": {"src": "agent", "repr": "gone"}})),
            vec![StatusDetail::Error {
                src: "agent".into(),
                repr: "gone".into()
            }]
        );
        assert_eq!(
            status_details(&serde_json::json!({"batch_timeout": 60, "x": [1]})),
            vec![
                StatusDetail::BatchTimeout(60),
                StatusDetail::Other("x: [1]".into())
            ]
        );
        assert!(status_details(&serde_json::Value::Null).is_empty());
    }

    fn req() -> CreateSessionRequest {
        CreateSessionRequest {
            image: Some("berth/busybox:latest".into()),
            ..Default::default()
        }
    }

    fn fields(r: &CreateSessionRequest) -> Vec<(String, String)> {
        r.validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn names() {
        for ok in [
            "abcd",
            "my-session.1",
            "a_b-c.d",
            "세션이름",
            "_x_y",
            &"a".repeat(64),
        ] {
            assert_eq!(session_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(session_name("abc").unwrap_err().code, "too_short");
        assert_eq!(session_name(&"a".repeat(65)).unwrap_err().code, "too_long");
        for bad in ["-abc", "abc-", "ab cd", "ab/cd", ".abc", "abc.", "a$bc"] {
            assert_eq!(
                session_name(bad).unwrap_err().code,
                "invalid_session_name",
                "{bad}"
            );
        }
    }

    #[test]
    fn env_rules() {
        assert!(env_name("PATH").is_ok() && env_name("_x1").is_ok());
        assert_eq!(env_name("1X").unwrap_err().code, "invalid_env_name");
        assert_eq!(env_name("A-B").unwrap_err().code, "invalid_env_name");
        assert_eq!(env_name("").unwrap_err().code, "required");
        let rows = vec![
            ("A".into(), "1".into()),
            ("B".into(), "2".into()),
            ("A".into(), "3".into()),
            ("9".into(), "".into()),
        ];
        let errs = env_rows(&rows).unwrap_err();
        let got: Vec<_> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("env[2].name", "duplicate"),
                ("env[3].name", "invalid_env_name")
            ]
        );
    }

    #[test]
    fn create_rules() {
        assert_eq!(fields(&req()), []);
        let mut r = req();
        r.resources.mem = Some(ByteSize(100 * MIB));
        r.resources.shmem = Some(ByteSize(200 * MIB));
        assert_eq!(
            fields(&r),
            [(
                "resources.shmem".to_string(),
                "shmem_exceeds_mem".to_string()
            )]
        );
        let mut r = req();
        r.session_type = SessionType::Batch;
        assert_eq!(
            fields(&r),
            [("startup_command".to_string(), "required".to_string())]
        );
        r.startup_command = Some("echo hi".into());
        r.batch_timeout = Some(0);
        assert_eq!(
            fields(&r),
            [("batch_timeout".to_string(), "out_of_range".to_string())]
        );
        let mut r = req();
        r.batch_timeout = Some(5);
        assert_eq!(
            fields(&r),
            [("batch_timeout".to_string(), "batch_only".to_string())]
        );
        let r = CreateSessionRequest::default();
        assert_eq!(
            fields(&r),
            [("environment".to_string(), "required".to_string())]
        );
        let mut r = req();
        r.name = "no spaces".into();
        r.resources.cpu = Some(0.0);
        r.env.insert("BAD-NAME".into(), "x".into());
        r.nthreads = Some(0);
        r.count = Some(1000);
        let f: Vec<_> = fields(&r).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            f,
            ["name", "resources.cpu", "env.BAD-NAME", "nthreads", "count"]
        );
    }

    #[test]
    fn create_body_accepts_sizes_as_strings() {
        let r: CreateSessionRequest = serde_json::from_str(
            r#"{"type":"batch","image":"x:y","resources":{"cpu":0.5,"mem":"2g","shmem":"64m"},"startup_command":"true","starts_at":"2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(r.session_type, SessionType::Batch);
        assert_eq!(r.resources.mem, Some(ByteSize(2048 * MIB)));
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn status_machine() {
        use SessionStatus::*;
        assert!(Pending.can_become(Scheduled));
        assert!(Running.can_become(Terminating));
        assert!(!Terminated.can_become(Running));
        assert!(!Cancelled.can_become(Pending));
        assert!(!Running.can_become(Pending));
        for s in SessionStatus::ALL {
            assert_eq!(SessionStatus::parse(s.as_str()), Some(s));
            assert!(!s.can_become(s), "{s:?} to itself");
            if s.is_final() {
                assert!(SessionStatus::ALL.iter().all(|t| !s.can_become(*t)));
            }
        }
    }

    proptest! {
        #[test]
        fn names_of_word_chars_pass(s in "[A-Za-z0-9_]{4,64}") {
            prop_assert!(session_name(&s).is_ok());
        }
        #[test]
        fn names_with_spaces_fail(a in "[a-z]{2,10}", b in "[a-z]{2,10}") {
            let name = format!("{a} {b}");
            prop_assert!(session_name(&name).is_err());
        }
    }
}

//! What a client asks of sessions: the create body and its rules (the env
//! rules are `env.rs`; rename and the queries of the logs and terminate
//! routes are `queries.rs`).
//!
//! Over 500 lines only because its unit tests sit below the code (about
//! 440 lines of code, the rest tests).
//!
//! The file is long for its tests: the code is the first part, and the
//! unit (and property) tests that pin it take the rest, beside it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{env_name, limits, ClusterMode, SessionType};
use crate::bytes::{ByteSize, MIB};
use crate::folders::folder_name;
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

/// Asked resources. Absent values take the defaults (or the image's minimum
/// when it is larger).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A slot of whole devices (`cuda.device`, `fake.device`): each kernel is
/// given device indices of it; other slots (`cuda.shares`) are amounts.
pub fn is_device_slot(slot: &str) -> bool {
    slot.ends_with(".device")
}

fn is_single_node(m: &ClusterMode) -> bool {
    *m == ClusterMode::SingleNode
}

/// `POST /api/v1/sessions`. The field names are an interface scripts rely
/// on: extend, don't rename.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
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
    /// `single-node` (default: every kernel on one agent) or `multi-node`.
    #[serde(default, skip_serializing_if = "is_single_node")]
    pub cluster_mode: ClusterMode,
    /// Kernels of each session: one main and `cluster_size − 1` subs
    /// (1 when absent; at most [`limits::MAX_CLUSTER_SIZE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_size: Option<u32>,
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
    /// The caller's (the owner's) storage folders to mount at
    /// `/home/work/<name>`: names, or `{name, read_only}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// Ports inside the container to reach through the app proxy from the
    /// start (1024–65535, none twice, not the image's service ports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preopen_ports: Vec<u16>,
}

/// A storage folder mounted in a session at `/home/work/<name>`. In a
/// create body either a bare name (read-write) or `{name, read_only}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// The folder's name.
    pub name: String,
    /// Mounted read-only.
    #[serde(default)]
    pub read_only: bool,
}

impl<'de> Deserialize<'de> for Mount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            name: String,
            #[serde(default)]
            read_only: bool,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Name(String),
            Full(Full),
        }
        match Either::deserialize(d) {
            Ok(Either::Name(name)) => Ok(Mount {
                name,
                read_only: false,
            }),
            Ok(Either::Full(f)) => Ok(Mount {
                name: f.name,
                read_only: f.read_only,
            }),
            Err(_) => Err(serde::de::Error::custom(
                "a mount is a folder name or {\"name\": …, \"read_only\": true|false}",
            )),
        }
    }
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
            (Some(img), None) => errs.check("image", limits::image_reference(img)),
            (None, Some(env)) => {
                let reference = match &self.version {
                    Some(v) => format!("{env}:{v}"),
                    None => env.clone(),
                };
                errs.check("environment", limits::image_reference(&reference));
            }
        }
        let r = &self.resources;
        if let Some(cpu) = r.cpu {
            errs.check("resources.cpu", limits::cpu_amount(cpu));
        }
        if let Some(mem) = r.mem {
            if mem.0 < MIN_MEM.0 || mem > limits::MAX_MEM {
                errs.check(
                    "resources.mem",
                    Err(Invalid::new(
                        "out_of_range",
                        format!("Memory must be between {MIN_MEM} and {}.", limits::MAX_MEM),
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
            if !(v.is_finite() && (0.0..=limits::MAX_ACCELERATOR).contains(v)) {
                errs.check(
                    &format!("resources.accelerators.{slot}"),
                    Err(Invalid::new(
                        "out_of_range",
                        format!("Between 0 and {}.", limits::MAX_ACCELERATOR),
                    )),
                );
            } else if is_device_slot(slot) && v.fract() != 0.0 {
                errs.check(
                    &format!("resources.accelerators.{slot}"),
                    Err(Invalid::new(
                        "whole_devices",
                        "Devices are whole: ask for 1, 2, … (shares are a separate slot).",
                    )),
                );
            }
        }
        if self.env.len() > limits::MAX_ENV_VARS {
            errs.check(
                "env",
                Err(Invalid::new(
                    "out_of_range",
                    format!("At most {} variables.", limits::MAX_ENV_VARS),
                )),
            );
        }
        for (name, value) in &self.env {
            errs.check(&format!("env.{name}"), env_name(name));
            if value.len() > limits::MAX_ENV_VALUE_BYTES {
                errs.check(
                    &format!("env.{name}"),
                    Err(Invalid::new(
                        "too_long",
                        format!(
                            "A value may be at most {} bytes.",
                            limits::MAX_ENV_VALUE_BYTES
                        ),
                    )),
                );
            }
        }
        if self
            .startup_command
            .as_ref()
            .is_some_and(|c| c.len() > limits::MAX_STARTUP_COMMAND_BYTES)
        {
            errs.check(
                "startup_command",
                Err(Invalid::new(
                    "too_long",
                    format!("At most {} bytes.", limits::MAX_STARTUP_COMMAND_BYTES),
                )),
            );
        }
        if let Some(n) = self.nthreads {
            if n == 0 || n > MAX_NTHREADS {
                errs.check(
                    "nthreads",
                    Err(Invalid::range(
                        1,
                        MAX_NTHREADS,
                        format!("Between 1 and {MAX_NTHREADS}."),
                    )),
                );
            }
        }
        if let Some(c) = self.count {
            if c == 0 || c > MAX_COUNT {
                errs.check(
                    "count",
                    Err(Invalid::range(
                        1,
                        MAX_COUNT,
                        format!("Between 1 and {MAX_COUNT} sessions."),
                    )),
                );
            }
        }
        if let Some(n) = self.cluster_size {
            if n == 0 || n > limits::MAX_CLUSTER_SIZE {
                errs.check(
                    "cluster_size",
                    Err(Invalid::range(
                        1,
                        limits::MAX_CLUSTER_SIZE,
                        format!("Between 1 and {} kernels.", limits::MAX_CLUSTER_SIZE),
                    )),
                );
            }
        }
        // an agent is chosen for one single-node, single-kernel session
        if self.agent.is_some()
            && (self.count.unwrap_or(1) > 1
                || self.cluster_size.unwrap_or(1) > 1
                || self.cluster_mode == ClusterMode::MultiNode)
        {
            errs.check(
                "agent",
                Err(Invalid::new(
                    "agent_single_only",
                    "Choose an agent only for one single-node, single-kernel session; leave it automatic otherwise.",
                )),
            );
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
                if let Some(t) = self.batch_timeout {
                    errs.check("batch_timeout", limits::batch_timeout(t));
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
        for (i, m) in self.mounts.iter().enumerate() {
            let field = format!("mounts[{i}]");
            if let Err(e) = folder_name(&m.name) {
                errs.check(&field, Err(e));
            } else if self.mounts[..i].iter().any(|o| o.name == m.name) {
                errs.check(
                    &field,
                    Err(Invalid::new(
                        "duplicate",
                        format!("{} is mounted twice.", m.name),
                    )),
                );
            }
        }
        errs.check("preopen_ports", super::preopen_ports(&self.preopen_ports));
        errs.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    fn mounts_are_names_or_objects_and_unknown_fields_are_refused() {
        let r: CreateSessionRequest = serde_json::from_str(
            r#"{"image":"x:y","mounts":["data",{"name":"ref","read_only":true}]}"#,
        )
        .unwrap();
        assert_eq!(
            r.mounts,
            [
                Mount {
                    name: "data".into(),
                    read_only: false
                },
                Mount {
                    name: "ref".into(),
                    read_only: true
                }
            ]
        );
        let back: CreateSessionRequest =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let mut dup = r.clone();
        dup.mounts.push(Mount {
            name: "data".into(),
            read_only: true,
        });
        dup.mounts.push(Mount {
            name: ".x".into(),
            read_only: false,
        });
        assert_eq!(
            fields(&dup),
            [
                ("mounts[2]".to_string(), "duplicate".to_string()),
                ("mounts[3]".to_string(), "invalid_folder_name".to_string())
            ]
        );
        let ports: CreateSessionRequest =
            serde_json::from_str(r#"{"image":"x:y","preopen_ports":[8080, 80, 8080]}"#).unwrap();
        assert_eq!(
            fields(&ports),
            [("preopen_ports".to_string(), "out_of_range".to_string())]
        );
        let unknown = serde_json::from_str::<CreateSessionRequest>(
            r#"{"image":"x:y","preopen_port":[8080]}"#,
        );
        assert!(unknown
            .unwrap_err()
            .to_string()
            .starts_with("unknown field `preopen_port`"));
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

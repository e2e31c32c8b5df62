//! Environments, resource groups, presets, policies and agents.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bytes::ByteSize;
use crate::sessions::limits::MAX_POLICY_SECS;
use crate::validate::{self, Errors, Invalid};
use crate::FieldError;

/// A service an image offers (from `ai.backend.service-ports`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePort {
    /// App name (`jupyter`, `httpd`).
    pub name: String,
    /// `http`, `tcp`, `pty`.
    pub protocol: String,
    /// Port inside the container.
    pub port: u16,
}

/// Parses `name:proto:port,name:proto:[p1,p2]`-style labels (single ports).
pub fn parse_service_ports(label: &str) -> Vec<ServicePort> {
    label
        .split(',')
        .filter_map(|item| {
            let mut parts = item.trim().split(':');
            let name = parts.next()?.trim();
            let protocol = parts.next()?.trim();
            let port = parts
                .next()?
                .trim()
                .trim_matches(|c| c == '[' || c == ']')
                .parse()
                .ok()?;
            (!name.is_empty()).then(|| ServicePort {
                name: name.to_string(),
                protocol: protocol.to_string(),
                port,
            })
        })
        .collect()
}

/// One version (tag) of an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentVersion {
    /// The tag.
    pub version: String,
    /// Full reference to launch (`name:tag`).
    pub image: String,
    /// Apps it serves.
    pub service_ports: Vec<ServicePort>,
    /// Least CPU it needs.
    pub min_cpu: f64,
    /// Least memory it needs.
    pub min_mem: ByteSize,
}

/// An environment: images grouped by name, versions = tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Image name without tag (`berth/busybox`).
    pub name: String,
    /// Name for people (label `ai.backend.display-name`, else the name).
    pub display_name: String,
    /// Versions, newest tag name first.
    pub versions: Vec<EnvironmentVersion>,
}

/// `GET /api/v1/environments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentList {
    /// Environments by name.
    pub items: Vec<Environment>,
    /// Whether a session may name an image that is not listed.
    pub allow_manual_image: bool,
    /// Most preopen ports one session may ask for.
    pub max_preopen_ports: u32,
}

/// A named set of agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Agents in it.
    pub agents: Vec<String>,
    /// How its sessions are placed; absent: the server's default
    /// (`--scheduler-strategy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// The projects that may use it (listed for admins only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<String>,
}

/// How the scheduler picks among a group's agents that fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Spread: the agent with the most free CPU.
    #[default]
    Dispersed,
    /// Pack: the agent with the least free CPU that still fits.
    Concentrated,
}

impl Strategy {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Dispersed => "dispersed",
            Strategy::Concentrated => "concentrated",
        }
    }
    /// Parses the lowercase name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dispersed" => Some(Strategy::Dispersed),
            "concentrated" => Some(Strategy::Concentrated),
            _ => None,
        }
    }
}

/// `POST /api/v1/resource-groups` (admin): creates a group or replaces
/// one's description, strategy and projects (by name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutResourceGroup {
    /// Name (letters, digits, `-`, `_`, `.`; at most 64).
    pub name: String,
    /// For people.
    #[serde(default)]
    pub description: String,
    /// Absent: the server's default.
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// Names of the projects that may use it.
    #[serde(default)]
    pub projects: Vec<String>,
}

impl PutResourceGroup {
    /// The rules that need no server state.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("name", validate::required(&self.name));
        errs.check("name", validate::max_chars(&self.name, 64));
        if !self
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            errs.check(
                "name",
                Err(Invalid::new(
                    "invalid_name",
                    "Letters, digits, '-', '_' and '.' only.",
                )),
            );
        }
        errs.check("description", validate::max_chars(&self.description, 500));
        errs.finish()
    }
}

/// `GET /api/v1/resource-groups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceGroupList {
    /// Groups the caller's project may use.
    pub items: Vec<ResourceGroup>,
}

/// A named resource set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcePreset {
    /// Name (unique).
    pub name: String,
    /// CPU cores.
    pub cpu: f64,
    /// Memory.
    pub mem: ByteSize,
    /// Shared memory.
    pub shmem: ByteSize,
    /// Accelerators by slot.
    #[serde(default)]
    pub accelerators: BTreeMap<String, f64>,
}

impl ResourcePreset {
    /// Rules for a preset.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("name", validate::required(&self.name));
        errs.check("name", validate::max_chars(&self.name, 64));
        if !(self.cpu.is_finite() && self.cpu > 0.0) {
            errs.check(
                "cpu",
                Err(Invalid::new("out_of_range", "CPU must be more than 0.")),
            );
        }
        if self.mem.0 == 0 {
            errs.check(
                "mem",
                Err(Invalid::new("out_of_range", "Memory must be more than 0.")),
            );
        }
        if self.shmem > self.mem {
            errs.check(
                "shmem",
                Err(Invalid::new(
                    "shmem_exceeds_mem",
                    "Shared memory cannot be more than memory.",
                )),
            );
        }
        errs.finish()
    }
}

/// `GET /api/v1/resource-presets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourcePresetList {
    /// Presets by name.
    pub items: Vec<ResourcePreset>,
}

/// Limits bound to a keypair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcePolicy {
    /// Name (unique); `default` applies to everyone not bound to another.
    pub name: String,
    /// Most sessions alive at once (0 = no limit).
    pub max_concurrent_sessions: u32,
    /// Most CPU held at once by all sessions (0 = no limit).
    pub max_total_cpu: f64,
    /// Most memory held at once by all sessions (0 = no limit).
    pub max_total_mem: ByteSize,
    /// Longest a session may live, seconds (0 = no limit).
    pub max_session_lifetime: u64,
    /// Most storage folders a user may own (0 = no limit).
    #[serde(default = "default_max_folders")]
    pub max_folders: u32,
    /// Idle timeout for its sessions, seconds: overrides the server's
    /// network idle timeout and utilization window (0 turns both off;
    /// absent: the server's settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    /// Most customized images a user may own (0 = no limit).
    #[serde(default = "default_max_customized_images")]
    pub max_customized_images: u32,
    /// Most sessions a user may have waiting (PENDING) at once (0 = no
    /// limit).
    #[serde(default = "default_max_pending_sessions")]
    pub max_pending_sessions: u32,
    /// Bytes a user's storage folders may hold together (0 = no limit);
    /// an upload that would pass it is refused.
    #[serde(default)]
    pub max_folder_bytes: ByteSize,
}

fn default_max_customized_images() -> u32 {
    crate::images::DEFAULT_MAX_CUSTOMIZED_IMAGES
}

fn default_max_pending_sessions() -> u32 {
    DEFAULT_MAX_PENDING_SESSIONS
}

/// The default of [`ResourcePolicy::max_pending_sessions`].
pub const DEFAULT_MAX_PENDING_SESSIONS: u32 = 100;

fn default_max_folders() -> u32 {
    crate::folders::DEFAULT_MAX_FOLDERS
}

impl ResourcePolicy {
    /// Rules for a policy.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("name", validate::required(&self.name));
        errs.check("name", validate::max_chars(&self.name, 64));
        if !(self.max_total_cpu.is_finite() && (0.0..=1_000_000.0).contains(&self.max_total_cpu)) {
            errs.check(
                "max_total_cpu",
                Err(Invalid::new(
                    "out_of_range",
                    "Between 0 and 1,000,000 cores.",
                )),
            );
        }
        let secs = [
            ("max_session_lifetime", Some(self.max_session_lifetime)),
            ("idle_timeout", self.idle_timeout),
        ];
        for (field, value) in secs {
            if value.is_some_and(|v| v > MAX_POLICY_SECS) {
                errs.check(
                    field,
                    Err(Invalid::new(
                        "out_of_range",
                        format!("At most {} days.", MAX_POLICY_SECS / 86_400),
                    )),
                );
            }
        }
        errs.finish()
    }
}

/// `GET /api/v1/resource-policies` (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourcePolicyList {
    /// Policies by name.
    pub items: Vec<ResourcePolicy>,
}

/// Query of `GET /api/v1/resource-groups`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupsQuery {
    /// Only the groups this project may use (its members, or admins
    /// choosing for a session owner); the caller's projects' when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Admins: every group, with its projects.
    #[serde(default)]
    pub all: bool,
}

/// Query of `GET /api/v1/resource-policy`: the policy that bounds the
/// caller's sessions, or (admins) those of the user launched for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyQuery {
    /// Email of the session owner an admin launches for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
}

/// The range one session's CPU and memory must stay in: the image's
/// minimums below; the biggest agent of the resource group and the owner's
/// resource policy above. The launcher bounds its sliders with it and the
/// server judges a request with the same [`ResourceBounds::check`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResourceBounds {
    /// The image's minimum CPU.
    pub min_cpu: f64,
    /// The image's minimum memory.
    pub min_mem: ByteSize,
    /// CPU of the biggest agent (none = not known yet).
    pub capacity_cpu: Option<f64>,
    /// Memory of the biggest agent (none = not known yet).
    pub capacity_mem: Option<ByteSize>,
    /// The policy's CPU limit (none = no limit).
    pub policy_cpu: Option<f64>,
    /// The policy's memory limit (none = no limit).
    pub policy_mem: Option<ByteSize>,
}

impl ResourceBounds {
    /// These bounds under `policy` (its zeros mean "no limit").
    pub fn with_policy(self, policy: &ResourcePolicy) -> Self {
        Self {
            policy_cpu: (policy.max_total_cpu > 0.0).then_some(policy.max_total_cpu),
            policy_mem: (policy.max_total_mem.0 > 0).then_some(policy.max_total_mem),
            ..self
        }
    }

    /// These bounds for each kernel of a cluster of `kernels`: the
    /// policy's totals are shared by all kernels; an agent's capacity too
    /// when all are on one agent (single-node), while a multi-node kernel
    /// needs one agent's room for itself only.
    pub fn per_kernel(self, kernels: u32, single_node: bool) -> Self {
        let n = kernels.max(1);
        let nf = f64::from(n);
        let div = |b: ByteSize| ByteSize(b.0 / u64::from(n));
        Self {
            capacity_cpu: self
                .capacity_cpu
                .map(|c| if single_node { c / nf } else { c }),
            capacity_mem: self
                .capacity_mem
                .map(|m| if single_node { div(m) } else { m }),
            policy_cpu: self.policy_cpu.map(|c| c / nf),
            policy_mem: self.policy_mem.map(div),
            ..self
        }
    }

    /// The most CPU one session may ask for, if anything bounds it.
    pub fn max_cpu(&self) -> Option<f64> {
        match (self.capacity_cpu, self.policy_cpu) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The most memory one session may ask for, if anything bounds it.
    pub fn max_mem(&self) -> Option<ByteSize> {
        match (self.capacity_mem, self.policy_mem) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// What `cpu` and `mem` break, on `resources.cpu` / `resources.mem`,
    /// with codes `below_image_minimum`, `exceeds_policy`, `exceeds_capacity`.
    pub fn check(&self, cpu: f64, mem: ByteSize) -> Vec<FieldError> {
        const EPS: f64 = 1e-9;
        let mut errs = Vec::new();
        if cpu + EPS < self.min_cpu {
            errs.push(
                FieldError::new(
                    "resources.cpu",
                    "below_image_minimum",
                    format!("At least {} CPU: the image needs {0} CPU.", self.min_cpu),
                )
                .with("limit", format!("{} CPU", self.min_cpu)),
            );
        } else if let Some(most) = self.policy_cpu.filter(|m| cpu > m + EPS) {
            errs.push(
                FieldError::new(
                    "resources.cpu",
                    "exceeds_policy",
                    format!("At most {most} CPU: the resource policy allows {most} CPU in all."),
                )
                .with("limit", format!("{most} CPU")),
            );
        } else if let Some(most) = self.capacity_cpu.filter(|m| cpu > m + EPS) {
            errs.push(
                FieldError::new(
                    "resources.cpu",
                    "exceeds_capacity",
                    format!("At most {most} CPU: the largest agent of this group has {most} CPU."),
                )
                .with("limit", format!("{most} CPU")),
            );
        }
        if mem < self.min_mem {
            errs.push(
                FieldError::new(
                    "resources.mem",
                    "below_image_minimum",
                    format!("At least {}: the image needs {0} of memory.", self.min_mem),
                )
                .with("limit", self.min_mem),
            );
        } else if let Some(most) = self.policy_mem.filter(|m| mem > *m) {
            errs.push(
                FieldError::new(
                    "resources.mem",
                    "exceeds_policy",
                    format!("At most {most}: the resource policy allows {most} of memory in all."),
                )
                .with("limit", most),
            );
        } else if let Some(most) = self.capacity_mem.filter(|m| mem > *m) {
            errs.push(
                FieldError::new(
                    "resources.mem",
                    "exceeds_capacity",
                    format!(
                        "At most {most}: the largest agent of this group has {most} of memory."
                    ),
                )
                .with("limit", most),
            );
        }
        errs
    }
}

/// Whether an agent's engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentStatus {
    /// Its engine answers: sessions may be placed on it.
    #[default]
    Alive,
    /// Its engine does not answer: nothing new is placed on it.
    Lost,
}

impl AgentStatus {
    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alive => "ALIVE",
            Self::Lost => "LOST",
        }
    }

    /// Parses the upper-case name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Alive, Self::Lost]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// An agent (one Docker engine) with its capacity and what is in use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Id (`local` for the default install).
    pub id: String,
    /// Resource group.
    pub resource_group: String,
    /// Whether its engine answers.
    pub status: AgentStatus,
    /// Total CPU cores.
    pub cpu_total: f64,
    /// CPU held by sessions.
    pub cpu_used: f64,
    /// Total memory.
    pub mem_total: ByteSize,
    /// Memory held by sessions.
    pub mem_used: ByteSize,
    /// Declared accelerators (total).
    pub accelerators_total: BTreeMap<String, f64>,
    /// Accelerators held.
    pub accelerators_used: BTreeMap<String, f64>,
    /// `false` while drained: nothing new is placed on it.
    #[serde(default = "yes")]
    pub schedulable: bool,
    /// CPU cores kept back from what the engine reports (not in the total).
    #[serde(default)]
    pub reserve_cpu: f64,
    /// Memory kept back (not in the total).
    #[serde(default)]
    pub reserve_mem: ByteSize,
    /// When its engine stopped answering (while LOST).
    #[serde(default)]
    pub lost_since: Option<DateTime<Utc>>,
    /// The engine's address (shown to admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_host: Option<String>,
}

fn yes() -> bool {
    true
}

/// `GET /api/v1/agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentList {
    /// Agents the caller may use.
    pub items: Vec<AgentInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gib(n: u64) -> ByteSize {
        ByteSize(n << 30)
    }

    #[test]
    fn a_cluster_shares_the_policy_and_one_agent_when_single_node() {
        let b = ResourceBounds {
            capacity_cpu: Some(8.0),
            capacity_mem: Some(gib(16)),
            policy_cpu: Some(4.0),
            policy_mem: Some(gib(8)),
            ..Default::default()
        };
        let single = b.per_kernel(4, true);
        assert_eq!(single.capacity_cpu, Some(2.0));
        assert_eq!(single.capacity_mem, Some(gib(4)));
        assert_eq!(single.max_cpu(), Some(1.0));
        let multi = b.per_kernel(4, false);
        assert_eq!(multi.capacity_cpu, Some(8.0));
        assert_eq!(multi.policy_mem, Some(gib(2)));
        assert_eq!(b.per_kernel(1, true), b);
    }

    fn codes(b: &ResourceBounds, cpu: f64, mem: ByteSize) -> Vec<(String, String)> {
        b.check(cpu, mem)
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn bounds_take_the_tighter_limit_and_name_it() {
        let policy = ResourcePolicy {
            name: "small".into(),
            max_concurrent_sessions: 0,
            max_total_cpu: 2.0,
            max_total_mem: ByteSize(0),
            max_session_lifetime: 0,
            max_folders: 0,
            max_folder_bytes: Default::default(),
            idle_timeout: None,
            max_customized_images: 0,
            max_pending_sessions: 0,
        };
        let b = ResourceBounds {
            min_cpu: 0.5,
            min_mem: gib(1),
            capacity_cpu: Some(4.0),
            capacity_mem: Some(gib(8)),
            ..Default::default()
        }
        .with_policy(&policy);
        assert_eq!(b.max_cpu(), Some(2.0));
        assert_eq!(b.max_mem(), Some(gib(8)), "a 0 policy limit is no limit");
        assert!(codes(&b, 2.0, gib(8)).is_empty());
        assert_eq!(
            codes(&b, 3.0, gib(9)),
            vec![
                ("resources.cpu".into(), "exceeds_policy".into()),
                ("resources.mem".into(), "exceeds_capacity".into())
            ]
        );
        assert_eq!(
            codes(&b, 0.25, ByteSize(1 << 20)),
            vec![
                ("resources.cpu".into(), "below_image_minimum".into()),
                ("resources.mem".into(), "below_image_minimum".into())
            ]
        );
    }

    #[test]
    fn unknown_bounds_allow_anything_above_the_minimum() {
        let b = ResourceBounds::default();
        assert_eq!(b.max_cpu(), None);
        assert!(b.check(1000.0, gib(1000)).is_empty());
    }

    #[test]
    fn service_ports_label() {
        let p = parse_service_ports("jupyter:http:8081, ttyd:http:7681,bad,x:tcp:[9000]");
        let names: Vec<_> = p.iter().map(|s| (s.name.as_str(), s.port)).collect();
        assert_eq!(names, [("jupyter", 8081), ("ttyd", 7681), ("x", 9000)]);
        assert!(parse_service_ports("").is_empty());
    }
}

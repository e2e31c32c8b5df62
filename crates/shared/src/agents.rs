//! Agents (Docker engines): the agent as everyone sees it (`AgentInfo`,
//! its liveness `AgentStatus`), and what admins send to register, change
//! and drain one, with the rules for it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bytes::ByteSize;
use crate::sessions::limits;
use crate::validate::{self, Errors, Invalid};
use crate::FieldError;

/// An agent id: letters, digits, `-`, `_`, `.`; at most this many.
pub const AGENT_ID_MAX: usize = 64;

/// `POST /api/v1/agents` (admin): register a Docker engine as an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterAgent {
    /// Id, unique.
    pub id: String,
    /// `unix:///path/docker.sock` or `tcp://host:port`.
    pub docker_host: String,
    /// For `tcp://` with TLS: a folder on the server holding `ca.pem`,
    /// `cert.pem` and `key.pem` (Docker's `DOCKER_CERT_PATH` layout).
    #[serde(default)]
    pub tls_cert_dir: Option<String>,
    /// Its resource group.
    pub resource_group: String,
    /// Declared accelerators: slot (`cuda.device`, or a test kind such as
    /// `fake.device`) → how many devices.
    #[serde(default)]
    pub accelerators: BTreeMap<String, f64>,
    /// CPU cores kept back from what the engine reports.
    #[serde(default)]
    pub reserve_cpu: f64,
    /// Memory kept back from what the engine reports.
    #[serde(default)]
    pub reserve_mem: ByteSize,
    /// Where the agent's host sees the folder storage (the server's
    /// storage root, shared over NFS, CephFS or the like), an absolute
    /// path on that host; absent: it does not, and sessions that mount
    /// folders are not placed on it.
    #[serde(default)]
    pub storage_path: Option<String>,
    /// The host ports (`first-last`) a remote agent's kernels publish
    /// their apps and SSH on; absent: the server's `--agent-ports`.
    #[serde(default)]
    pub port_range: Option<String>,
}

/// `PATCH /api/v1/agents/{id}` (admin): what is absent stays.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    /// Move it to this group (only while no session holds it).
    #[serde(default)]
    pub resource_group: Option<String>,
    /// `false` drains it: nothing new is placed; what runs stays.
    #[serde(default)]
    pub schedulable: Option<bool>,
    /// Declared accelerators (replaces the set).
    #[serde(default)]
    pub accelerators: Option<BTreeMap<String, f64>>,
    /// CPU cores kept back.
    #[serde(default)]
    pub reserve_cpu: Option<f64>,
    /// Memory kept back.
    #[serde(default)]
    pub reserve_mem: Option<ByteSize>,
    /// Where its host sees the folder storage; `""`: it does not.
    #[serde(default)]
    pub storage_path: Option<String>,
    /// Its published-port range; `""`: the server's default.
    #[serde(default)]
    pub port_range: Option<String>,
}

/// A range of host ports, `first-last`, above the privileged ones.
pub fn port_range(text: &str) -> Result<(u16, u16), Invalid> {
    let bad = || {
        Invalid::new(
            "invalid_port_range",
            "Two port numbers from 1024 to 65535, low-high, like 40000-40999.",
        )
    };
    let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
    let (a, b): (u16, u16) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a >= 1024 && a <= b {
        Ok((a, b))
    } else {
        Err(bad())
    }
}

/// The address of an engine on another host (`tcp://` off loopback), at
/// which its kernels publish their ports; `None` for an engine on this
/// host, whose containers' own addresses the server reaches.
pub fn remote_address(docker_host: &str) -> Option<String> {
    if is_local_engine(docker_host) {
        return None;
    }
    let rest = docker_host.strip_prefix("tcp://")?;
    let host = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
    Some(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
}

/// A storage path on an agent's host: absolute, one line.
pub fn storage_path(path: &str) -> Result<(), Invalid> {
    validate::max_chars(path, 1000)?;
    if path.starts_with('/') && !path.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(Invalid::new(
            "not_absolute",
            "An absolute path on the agent's host, like /mnt/berth-storage.",
        ))
    }
}

/// An agent id (also a resource group's name rule).
pub fn agent_id(id: &str) -> Result<(), Invalid> {
    validate::required(id)?;
    validate::max_chars(id, AGENT_ID_MAX)?;
    if id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(())
    } else {
        Err(Invalid::new(
            "invalid_name",
            "Letters, digits, '-', '_' and '.' only.",
        ))
    }
}

/// Whether an engine address is on this host: a unix socket, or `tcp://`
/// to a loopback address or `localhost` (plain TCP there crosses no
/// network).
pub fn is_local_engine(host: &str) -> bool {
    if host.starts_with("unix://") {
        return true;
    }
    let Some(rest) = host.strip_prefix("tcp://") else {
        return false;
    };
    let name = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An engine address berth can speak to.
pub fn docker_host(host: &str, tls: bool) -> Result<(), Invalid> {
    validate::required(host)?;
    validate::max_chars(host, 1000)?;
    let rest = if let Some(path) = host.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(Invalid::new(
                "invalid_host",
                "A socket path is absolute: unix:///var/run/docker.sock.",
            ));
        }
        if tls {
            return Err(Invalid::new(
                "invalid_host",
                "TLS certificates are for tcp:// engines only.",
            ));
        }
        return Ok(());
    } else if let Some(rest) = host.strip_prefix("tcp://") {
        rest
    } else {
        return Err(Invalid::new(
            "invalid_host",
            "Use unix:///path/to/docker.sock or tcp://host:port.",
        ));
    };
    let port_ok = rest
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
    if port_ok && !rest.contains('/') {
        Ok(())
    } else {
        Err(Invalid::new(
            "invalid_host",
            "A TCP engine needs a host and a port: tcp://10.0.0.5:2376.",
        ))
    }
}

fn accelerators(errs: &mut Errors, field: &str, acc: &BTreeMap<String, f64>) {
    for (slot, n) in acc {
        let slot_ok = !slot.is_empty()
            && slot.len() <= 64
            && slot
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !slot_ok {
            errs.check(
                &format!("{field}.{slot}"),
                Err(Invalid::new(
                    "invalid_name",
                    "A slot name is letters, digits, '.', '-' and '_', like cuda.device.",
                )),
            );
        } else if !(n.is_finite() && (0.0..=limits::MAX_ACCELERATOR).contains(n)) {
            errs.check(
                &format!("{field}.{slot}"),
                Err(Invalid::new(
                    "out_of_range",
                    format!("Between 0 and {}.", limits::MAX_ACCELERATOR),
                )),
            );
        }
    }
}

fn reserve(errs: &mut Errors, cpu: Option<f64>, mem: Option<ByteSize>) {
    if let Some(cpu) = cpu {
        if !(cpu.is_finite() && (0.0..=limits::MAX_CPU).contains(&cpu)) {
            errs.check(
                "reserve_cpu",
                Err(Invalid::new(
                    "out_of_range",
                    format!("Between 0 and {} cores.", limits::MAX_CPU),
                )),
            );
        }
    }
    if mem.is_some_and(|m| m > limits::MAX_MEM) {
        errs.check(
            "reserve_mem",
            Err(Invalid::new(
                "out_of_range",
                format!("At most {}.", limits::MAX_MEM),
            )),
        );
    }
}

impl RegisterAgent {
    /// The rules that need no server state.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("id", agent_id(&self.id));
        let tls = self.tls_cert_dir.as_deref().is_some_and(|d| !d.is_empty());
        errs.check("docker_host", docker_host(&self.docker_host, tls));
        if let Some(dir) = self.tls_cert_dir.as_deref().filter(|d| !d.is_empty()) {
            if !dir.starts_with('/') {
                errs.check(
                    "tls_cert_dir",
                    Err(Invalid::new(
                        "invalid_path",
                        "An absolute folder on the server, like /etc/berth/agents/gpu1.",
                    )),
                );
            }
        }
        errs.check("resource_group", validate::required(&self.resource_group));
        accelerators(&mut errs, "accelerators", &self.accelerators);
        reserve(&mut errs, Some(self.reserve_cpu), Some(self.reserve_mem));
        if let Some(path) = self.storage_path.as_deref().filter(|p| !p.is_empty()) {
            errs.check("storage_path", storage_path(path));
        }
        if let Some(r) = self.port_range.as_deref().filter(|r| !r.is_empty()) {
            errs.check("port_range", port_range(r).map(|_| ()));
        }
        errs.finish()
    }
}

impl UpdateAgent {
    /// The rules that need no server state.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        if let Some(g) = &self.resource_group {
            errs.check("resource_group", validate::required(g));
        }
        if let Some(acc) = &self.accelerators {
            accelerators(&mut errs, "accelerators", acc);
        }
        reserve(&mut errs, self.reserve_cpu, self.reserve_mem);
        if let Some(path) = self.storage_path.as_deref().filter(|p| !p.is_empty()) {
            errs.check("storage_path", storage_path(path));
        }
        if let Some(r) = self.port_range.as_deref().filter(|r| !r.is_empty()) {
            errs.check("port_range", port_range(r).map(|_| ()));
        }
        errs.finish()
    }
}

/// Whether an agent's engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// The id of the server's own engine: always there, drained rather than
/// removed.
pub const LOCAL_AGENT: &str = "local";

/// An agent (one Docker engine) with its capacity and what is in use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Whether it sees the folder storage (sessions that mount folders
    /// run only on agents that do).
    #[serde(default = "yes")]
    pub sees_storage: bool,
    /// Where its host sees the folder storage (shown to admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_path: Option<String>,
    /// Its own published-port range (shown to admins only; absent: the
    /// server's default, or an agent on the server's host, which needs none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_range: Option<String>,
}

fn yes() -> bool {
    true
}

/// `GET /api/v1/agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentList {
    /// Agents the caller may use.
    pub items: Vec<AgentInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: Result<(), Vec<FieldError>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    fn register() -> RegisterAgent {
        RegisterAgent {
            id: "gpu-1".into(),
            docker_host: "tcp://10.0.0.5:2376".into(),
            tls_cert_dir: Some("/etc/berth/gpu-1".into()),
            resource_group: "default".into(),
            accelerators: BTreeMap::from([("cuda.device".into(), 2.0)]),
            reserve_cpu: 1.0,
            reserve_mem: ByteSize(1 << 30),
            storage_path: Some("/mnt/berth-storage".into()),
            port_range: Some("30000-30999".into()),
        }
    }

    #[test]
    fn a_good_registration_passes() {
        assert_eq!(register().validate(), Ok(()));
        let unix = RegisterAgent {
            docker_host: "unix:///run/docker2.sock".into(),
            tls_cert_dir: None,
            ..register()
        };
        assert_eq!(unix.validate(), Ok(()));
    }

    #[test]
    fn each_bad_field_is_named() {
        let bad = RegisterAgent {
            id: "a b".into(),
            docker_host: "http://x".into(),
            tls_cert_dir: Some("relative".into()),
            resource_group: " ".into(),
            accelerators: BTreeMap::from([
                ("cuda device".into(), 1.0),
                ("fake.device".into(), -1.0),
            ]),
            reserve_cpu: f64::NAN,
            reserve_mem: ByteSize(u64::MAX),
            storage_path: Some("mnt/not-absolute".into()),
            port_range: Some("80-90".into()),
        };
        assert_eq!(
            fields(bad.validate()),
            [
                "id",
                "docker_host",
                "tls_cert_dir",
                "resource_group",
                "accelerators.cuda device",
                "accelerators.fake.device",
                "reserve_cpu",
                "reserve_mem",
                "storage_path",
                "port_range"
            ]
        );
    }

    #[test]
    fn port_ranges_and_remote_addresses() {
        assert_eq!(port_range("30000-30999").unwrap(), (30000, 30999));
        assert_eq!(port_range(" 2000 - 2000 ").unwrap(), (2000, 2000));
        for bad in ["80-90", "3000", "2-1", "5000-4000", "a-b", "1024-70000"] {
            assert!(port_range(bad).is_err(), "{bad}");
        }
        assert_eq!(
            remote_address("tcp://10.0.0.5:2376").as_deref(),
            Some("10.0.0.5")
        );
        assert_eq!(
            remote_address("tcp://gpu1.lan:2376").as_deref(),
            Some("gpu1.lan")
        );
        assert_eq!(
            remote_address("tcp://[fd00::5]:2376").as_deref(),
            Some("fd00::5")
        );
        assert_eq!(remote_address("tcp://127.0.0.1:2376"), None);
        assert_eq!(remote_address("unix:///run/docker.sock"), None);
    }

    #[test]
    fn engine_addresses() {
        assert!(docker_host("unix:///var/run/docker.sock", false).is_ok());
        for (host, local) in [
            ("unix:///run/d.sock", true),
            ("tcp://127.0.0.1:2375", true),
            ("tcp://127.9.9.9:2375", true),
            ("tcp://localhost:2375", true),
            ("tcp://[::1]:2375", true),
            ("tcp://10.0.0.5:2375", false),
            ("tcp://localhost.evil.example:2375", false),
            ("tcp://[2001:db8::1]:2375", false),
        ] {
            assert_eq!(is_local_engine(host), local, "{host}");
        }
        assert!(docker_host("unix://relative.sock", false).is_err());
        assert!(docker_host("unix:///var/run/docker.sock", true).is_err());
        assert!(docker_host("tcp://127.0.0.1:2376", true).is_ok());
        assert!(docker_host("tcp://[::1]:2376", false).is_ok());
        assert!(docker_host("tcp://host", false).is_err());
        assert!(docker_host("tcp://host:0", false).is_err());
        assert!(docker_host("tcp://host:2376/x", false).is_err());
        assert!(docker_host("ssh://host", false).is_err());
    }

    #[test]
    fn an_empty_update_is_valid_and_bad_values_are_named() {
        assert_eq!(UpdateAgent::default().validate(), Ok(()));
        let bad = UpdateAgent {
            resource_group: Some(String::new()),
            reserve_cpu: Some(-1.0),
            ..Default::default()
        };
        assert_eq!(fields(bad.validate()), ["resource_group", "reserve_cpu"]);
    }
}

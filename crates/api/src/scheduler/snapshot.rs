//! What one scheduling round decides on and what it decides: the
//! snapshot (pending sessions, agents' free capacity, keypairs' limits)
//! and the decisions. Plain data, no behaviour beyond accessors.

use std::collections::{BTreeMap, HashMap, HashSet};

use berth_shared::sessions::FailedCheck;

/// How to choose among agents that fit (per resource group, else the
/// server's default).
pub use berth_shared::resources::Strategy;

/// A session waiting to be placed.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Session id.
    pub id: String,
    /// Resource group it must run in.
    pub resource_group: String,
    /// Access key whose policy applies.
    pub access_key: String,
    /// CPU cores, per kernel.
    pub cpu: f64,
    /// Memory bytes, per kernel.
    pub mem: u64,
    /// Accelerators by slot, per kernel.
    pub accelerators: BTreeMap<String, f64>,
    /// How many kernels (containers): 1, or a cluster's size.
    pub kernels: u32,
    /// A cluster whose kernels may go to different agents (each kernel
    /// must fit where it goes); otherwise all go to one agent.
    pub multi_node: bool,
    /// Its image (see `Snapshot::missing_images`).
    pub image: String,
    /// Designated agent.
    pub agent: Option<String>,
    /// Not before (epoch ms).
    pub starts_at: Option<i64>,
    /// When it was created (epoch ms): how long it has waited.
    pub created_at: i64,
    /// It mounts folders: only an agent that sees the folder storage
    /// takes it.
    pub needs_storage: bool,
}

/// An agent's free capacity.
#[derive(Debug, Clone)]
pub struct Agent {
    /// Id.
    pub id: String,
    /// Resource group.
    pub resource_group: String,
    /// Reachable.
    pub alive: bool,
    /// Not drained: new sessions may go there.
    pub schedulable: bool,
    /// Free cores.
    pub cpu_free: f64,
    /// Free bytes.
    pub mem_free: u64,
    /// Free accelerators by slot.
    pub accel_free: BTreeMap<String, f64>,
    /// Its host sees the folder storage.
    pub sees_storage: bool,
}

/// A keypair's policy limits (0 = none) and current use.
#[derive(Debug, Clone, Default)]
pub struct Keypair {
    /// Most live sessions.
    pub max_sessions: u32,
    /// Most CPU held.
    pub max_cpu: f64,
    /// Most memory held.
    pub max_mem: u64,
    /// Live sessions now.
    pub sessions: u32,
    /// CPU held now.
    pub cpu: f64,
    /// Memory held now.
    pub mem: u64,
}

/// Everything one round decides on.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Now (epoch ms).
    pub now: i64,
    /// Pending sessions, oldest first.
    pub pending: Vec<Pending>,
    /// Agents.
    pub agents: Vec<Agent>,
    /// Keypairs by access key (absent = no limits, no use).
    pub keypairs: HashMap<String, Keypair>,
    /// How long (ms) a session may wait for room before later sessions of
    /// its group stop overtaking it; 0 = never.
    pub aging_ms: i64,
    /// Groups with a strategy of their own (others use the default).
    pub strategies: HashMap<String, Strategy>,
    /// Images no engine has now (a session of one waits, saying so).
    pub missing_images: HashSet<String>,
}

/// A failed check, for `status_data` (the shared shape: name, English
/// sentence, facts).
pub type Failed = FailedCheck;

/// One session's outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Run it: its main kernel on `agent`, every kernel where `kernels`
    /// says (main first; all `agent` unless multi-node).
    Place {
        /// Session.
        session: String,
        /// Agent of the main kernel.
        agent: String,
        /// Agent of each kernel, main first.
        kernels: Vec<String>,
    },
    /// Keep it PENDING, with the reasons.
    Wait {
        /// Session.
        session: String,
        /// Its place among the sessions of its group that wait after this
        /// round (1 = first in line).
        position: u32,
        /// What failed.
        failed: Vec<Failed>,
    },
}

impl Decision {
    /// The session it is about.
    pub fn session(&self) -> &str {
        match self {
            Decision::Place { session, .. } | Decision::Wait { session, .. } => session,
        }
    }
}

//! Compute sessions: the status machine, what a client asks (the create
//! body and the rules every field must satisfy, shared by the launcher and
//! the server), and the session as the API shows it.

mod checks;
mod env;
mod idle;
pub mod limits;
mod ports;
mod queries;
mod request;
mod status;
mod status_data;
mod view;

use serde::{Deserialize, Serialize};

pub use checks::*;
pub use env::*;
pub use idle::*;
pub use ports::*;
pub use queries::*;
pub use request::*;
pub use status::*;
pub use status_data::*;
pub use view::*;

/// Interactive sessions live until someone ends them; batch sessions run a
/// command and end with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SessionType {
    /// Used through apps and a terminal.
    #[default]
    Interactive,
    /// Runs `startup_command`.
    Batch,
}

/// How a session's kernels (containers) are spread: all on one agent, or
/// over several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ClusterMode {
    /// Every kernel on one agent.
    #[default]
    SingleNode,
    /// Kernels over agents (each where it fits), placed all or nothing.
    MultiNode,
}

impl ClusterMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterMode::SingleNode => "single-node",
            ClusterMode::MultiNode => "multi-node",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::SingleNode, Self::MultiNode]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// The hostname of a session's kernel `index` (0 = main): `main1`,
/// `sub1`, `sub2`, …
pub fn kernel_hostname(index: usize) -> String {
    if index == 0 {
        "main1".into()
    } else {
        format!("sub{index}")
    }
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

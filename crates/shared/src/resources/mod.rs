//! Environments, resource groups, presets, policies and the resource
//! bounds the launcher and the server share: one file per concept. The
//! agent as everyone sees it lives in [`crate::agents`] and is named here
//! too.

mod bounds;
mod environments;
mod groups;
mod policies;
mod presets;

pub use bounds::*;
pub use environments::*;
pub use groups::*;
pub use policies::*;
pub use presets::*;

pub use crate::agents::{AgentInfo, AgentList, AgentStatus};

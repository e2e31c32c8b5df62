//! Resource groups: which agents a session may go to, which projects may use
//! them, and the scheduling strategy.

use serde::{Deserialize, Serialize};

use crate::validate::{self, Errors, Invalid};
use crate::FieldError;

/// A named set of agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourceGroupList {
    /// Groups the caller's project may use.
    pub items: Vec<ResourceGroup>,
}

/// Query of `GET /api/v1/resource-groups`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct GroupsQuery {
    /// Only the groups this project may use (its members, or admins
    /// choosing for a session owner); the caller's projects' when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Admins: every group, with its projects.
    #[serde(default)]
    pub all: bool,
}

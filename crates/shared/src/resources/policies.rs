//! Resource policies: what a user may hold at once (sessions, CPU, memory,
//! folders, images) and how long a session may live.

use serde::{Deserialize, Serialize};

use crate::bytes::ByteSize;
use crate::sessions::limits::MAX_POLICY_SECS;
use crate::validate::{self, Errors, Invalid};
use crate::FieldError;

/// Limits bound to a keypair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourcePolicyList {
    /// Policies by name.
    pub items: Vec<ResourcePolicy>,
}

/// Query of `GET /api/v1/resource-policy`: the policy that bounds the
/// caller's sessions, or (admins) those of the user launched for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct PolicyQuery {
    /// Email of the session owner an admin launches for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
}

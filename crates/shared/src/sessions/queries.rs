//! Renaming a session, and the queries of the terminate and logs routes.

use serde::{Deserialize, Serialize};

use super::session_name;
use crate::validate::{Errors, Invalid};
use crate::FieldError;

/// `POST /api/v1/sessions/{id}/rename`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
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
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct TerminateQuery {
    /// Kill at once and forget the containers, for stuck sessions.
    #[serde(default)]
    pub force: bool,
}

/// Lines `GET …/logs` returns when no `tail` is asked for.
pub const LOG_TAIL_DEFAULT: u32 = 1_000;
/// Most lines `GET …/logs` returns; the whole log is a download.
pub const LOG_TAIL_MAX: u32 = 10_000;
/// Most bytes `GET …/logs` returns (the end of the tail is kept).
pub const LOG_BYTES_MAX: usize = 1024 * 1024;

/// Query of `GET /api/v1/sessions/{id}/logs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct LogsQuery {
    /// Kernel id; the main kernel when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Only the last N lines (1 ..= [`LOG_TAIL_MAX`]; [`LOG_TAIL_DEFAULT`]
    /// when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<u32>,
}

impl LogsQuery {
    /// The lines to return, or the field error.
    pub fn lines(&self) -> Result<u32, Vec<FieldError>> {
        let mut errs = Errors::new();
        let n = self.tail.unwrap_or(LOG_TAIL_DEFAULT);
        let in_range = if (1..=LOG_TAIL_MAX).contains(&n) {
            Ok(())
        } else {
            Err(Invalid::new(
                "out_of_range",
                format!("Between 1 and {LOG_TAIL_MAX} lines; download the whole log instead."),
            ))
        };
        errs.check("tail", in_range);
        errs.finish().map(|()| n)
    }
}

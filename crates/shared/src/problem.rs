//! Error bodies: RFC 9457 `application/problem+json` with field-level errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The media type of every error body the API returns.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One invalid input field.
///
/// `code` is a stable machine-readable identifier (the browser client uses it
/// to pick a translated message); `message` is an English sentence for people
/// and scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's name in the request body (`resources.mem`, `env[2].name`).
    pub field: String,
    /// Stable code, e.g. `required`, `too_short`, `invalid_email`.
    pub code: String,
    /// Human-readable explanation in English.
    pub message: String,
    /// Values the message is about, by name (e.g. `limit: "2 CPU"`), so a
    /// client can say the same in another language. Absent when none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
            params: BTreeMap::new(),
        }
    }

    /// Adds a value the message is about.
    pub fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.params.insert(name.to_string(), value.to_string());
        self
    }
}

/// An error response (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/validation-failed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field-level errors (validation failures only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

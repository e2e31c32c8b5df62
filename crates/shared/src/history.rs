//! Launcher history: a user's recent launch configurations, kept on the
//! server so they follow the user across browsers and scripts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sessions::{CreateSessionRequest, NAME_MAX_CHARS};
use crate::validate::{self, Errors};
use crate::FieldError;

/// Unpinned entries kept per user (pinned ones are kept beyond this).
pub const KEEP_RECENT: usize = 5;
/// Longest entry name.
pub const ENTRY_NAME_MAX_CHARS: usize = 64;

/// One remembered launch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// Id.
    pub id: String,
    /// Name shown in the list (the session name at launch, renameable).
    pub name: String,
    /// Pinned entries are listed first and never dropped.
    pub pinned: bool,
    /// When the launch happened.
    pub created_at: DateTime<Utc>,
    /// The configuration that was launched.
    pub config: CreateSessionRequest,
}

/// `GET /api/v1/launcher-history`: pinned first, then newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryList {
    /// Entries.
    pub items: Vec<HistoryEntry>,
}

/// `PATCH /api/v1/launcher-history/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateHistoryRequest {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Pin or unpin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
}

impl UpdateHistoryRequest {
    /// A name is required and at most [`ENTRY_NAME_MAX_CHARS`].
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        if let Some(n) = &self.name {
            errs.check("name", validate::required(n));
            errs.check("name", validate::max_chars(n, ENTRY_NAME_MAX_CHARS));
        }
        errs.finish()
    }
}

/// A fresh session name for a relaunch: `base` with `suffix` appended
/// (`base-suffix`), shortened so it still obeys the session-name rule.
pub fn relaunch_name(base: &str, suffix: &str) -> String {
    let room = NAME_MAX_CHARS.saturating_sub(suffix.chars().count() + 1);
    let mut head: String = base.chars().take(room).collect();
    while head.ends_with(['-', '.']) {
        head.pop();
    }
    if head.is_empty() {
        return format!("session-{suffix}");
    }
    format!("{head}-{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::session_name;
    use proptest::prelude::*;

    #[test]
    fn relaunch_names() {
        assert_eq!(relaunch_name("train", "a1b2"), "train-a1b2");
        assert_eq!(relaunch_name("", "a1b2"), "session-a1b2");
        let long = "x".repeat(64);
        let n = relaunch_name(&long, "a1b2");
        assert_eq!(n.chars().count(), 64);
        assert!(n.ends_with("-a1b2"));
    }

    proptest! {
        #[test]
        fn relaunch_names_obey_the_rule(base in "[a-z0-9_][a-z0-9_.-]{2,70}[a-z0-9_]", suffix in "[a-z0-9]{4}") {
            prop_assert!(session_name(&relaunch_name(&base, &suffix)).is_ok());
        }
    }
}

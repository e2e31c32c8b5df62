//! The session status machine: the statuses, the arrows between them, the
//! sets other parts ask about (live, finished, holding capacity), and the
//! reason codes a change carries in `status_info`.

use serde::{Deserialize, Serialize};

/// Where a session is in its life. Every change is one of the arrows
/// [`SessionStatus::can_become`] allows:
///
/// ```text
/// PENDING ──► SCHEDULED ──► PREPARING ──► RUNNING ──► TERMINATING ──► TERMINATED
///    │            │              │            │
///    └─► CANCELLED└──────────────┴────────────┴──► ERROR
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionStatus {
    /// Waiting for the scheduler.
    Pending,
    /// Placed on an agent.
    Scheduled,
    /// Its containers are being created.
    Preparing,
    /// Its main container runs.
    Running,
    /// Being stopped.
    Terminating,
    /// Ended (see `status_info`).
    Terminated,
    /// Ended before it ever ran.
    Cancelled,
    /// Broke (see `status_info` and `status_data`).
    Error,
}

impl SessionStatus {
    /// Every status, in machine order.
    pub const ALL: [SessionStatus; 8] = [
        Self::Pending,
        Self::Scheduled,
        Self::Preparing,
        Self::Running,
        Self::Terminating,
        Self::Terminated,
        Self::Cancelled,
        Self::Error,
    ];

    /// Live: not ended yet (the Running tab). A live session's name is
    /// unique among its owner's live sessions.
    pub const LIVE: [SessionStatus; 5] = [
        Self::Pending,
        Self::Scheduled,
        Self::Preparing,
        Self::Running,
        Self::Terminating,
    ];

    /// Finished: ended, one way or another (the Finished tab).
    pub const FINISHED: [SessionStatus; 3] = [Self::Terminated, Self::Cancelled, Self::Error];

    /// Placed on an agent: holds capacity there and may have containers.
    /// The scheduler's policy checks count these; recovery after a restart
    /// looks at them.
    pub const HOLDING_CAPACITY: [SessionStatus; 4] = [
        Self::Scheduled,
        Self::Preparing,
        Self::Running,
        Self::Terminating,
    ];

    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Scheduled => "SCHEDULED",
            Self::Preparing => "PREPARING",
            Self::Running => "RUNNING",
            Self::Terminating => "TERMINATING",
            Self::Terminated => "TERMINATED",
            Self::Cancelled => "CANCELLED",
            Self::Error => "ERROR",
        }
    }

    /// Parses the upper-case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// One of [`SessionStatus::FINISHED`].
    pub fn is_finished(self) -> bool {
        Self::FINISHED.contains(&self)
    }

    /// One of [`SessionStatus::LIVE`].
    pub fn is_live(self) -> bool {
        Self::LIVE.contains(&self)
    }

    /// One of [`SessionStatus::HOLDING_CAPACITY`].
    pub fn holds_capacity(self) -> bool {
        Self::HOLDING_CAPACITY.contains(&self)
    }

    /// Can never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Terminated | Self::Cancelled)
    }

    /// Whether the machine allows `self → to`.
    pub fn can_become(self, to: SessionStatus) -> bool {
        use SessionStatus::*;
        match self {
            Pending => matches!(to, Scheduled | Terminating | Cancelled | Error),
            Scheduled => matches!(to, Preparing | Terminating | Cancelled | Error),
            Preparing => matches!(to, Running | Terminating | Terminated | Cancelled | Error),
            Running => matches!(to, Terminating | Terminated | Error),
            Terminating => matches!(to, Terminated | Error),
            Error => matches!(to, Terminating | Terminated),
            Terminated | Cancelled => false,
        }
    }
}

/// Reason codes of `status_info`: why a session is in its status. Scripts
/// and the UI match on these.
pub mod reason {
    /// Its owner ended it.
    pub const USER_REQUESTED: &str = "user-requested";
    /// An admin ended someone else's session.
    pub const ADMIN_TERMINATED: &str = "admin-terminated";
    /// Its main process ended by itself with exit code 0.
    pub const SELF_TERMINATED: &str = "self-terminated";
    /// A batch command exited with a non-zero code.
    pub const FAILED: &str = "failed";
    /// An interactive session's main process exited with a non-zero code.
    pub const CONTAINER_EXITED: &str = "container-exited";
    /// The batch run time limit ended it.
    /// Ended by the idle rules: older than the max session lifetime.
    pub const MAX_LIFETIME_EXCEEDED: &str = "max-lifetime-exceeded";
    /// Ended by the idle rules: no traffic for the network idle timeout.
    pub const IDLE_TIMEOUT: &str = "idle-timeout";
    /// Ended by the idle rules: utilization below the thresholds.
    pub const IDLE_UTILIZATION: &str = "idle-utilization";
    pub const BATCH_TIMEOUT: &str = "batch-timeout";
    /// Its container vanished (removed outside berth, or while the server
    /// was down).
    pub const CONTAINER_LOST: &str = "container-lost";
    /// It could not be started (see `status_data`).
    pub const FAILED_TO_START: &str = "failed-to-start";
    /// The scheduler placed it on an agent.
    pub const SCHEDULED: &str = "scheduled";
    /// Its containers are being created.
    pub const PREPARING: &str = "preparing";
    /// PREPARING: its image is being copied to its agent (progress in
    /// `status_data.pulling`: `agent`, `source`, `bytes`, `total`).
    pub const PULLING: &str = "pulling";
    /// PENDING: no agent has room for it (or the designated agent has none).
    pub const NO_AVAILABLE_INSTANCES: &str = "no-available-instances";
    /// PENDING: another scheduler check failed (start time, policy).
    pub const PREDICATE_CHECKS_FAILED: &str = "predicate-checks-failed";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_machine() {
        use SessionStatus::*;
        assert!(Pending.can_become(Scheduled));
        assert!(Running.can_become(Terminating));
        assert!(!Terminated.can_become(Running));
        assert!(!Cancelled.can_become(Pending));
        assert!(!Running.can_become(Pending));
        for s in SessionStatus::ALL {
            assert_eq!(SessionStatus::parse(s.as_str()), Some(s));
            assert!(!s.can_become(s), "{s:?} to itself");
            if s.is_final() {
                assert!(SessionStatus::ALL.iter().all(|t| !s.can_become(*t)));
            }
        }
    }

    #[test]
    fn the_sets_partition_the_statuses() {
        for s in SessionStatus::ALL {
            assert_ne!(s.is_live(), s.is_finished(), "{s:?} is live or finished");
            if s.holds_capacity() {
                assert!(s.is_live(), "{s:?} holds capacity only while live");
            }
        }
        assert!(!SessionStatus::Pending.holds_capacity());
    }
}

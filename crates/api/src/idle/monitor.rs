//! What the idle task keeps between rounds: each session's samples,
//! latest report and warning, and each container's latest use. Read by
//! requests (the reports), written by the task alone.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use berth_shared::sessions::{IdleChecks, IdleRule};

use super::rules::Sample;
use crate::runtime::Usage;

/// What the task keeps between rounds (in memory: a restart starts the
/// windows and the network count afresh, from its own start).
#[derive(Debug, Default)]
pub struct Monitor {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
pub(super) struct Inner {
    pub(super) samples: HashMap<String, VecDeque<Sample>>,
    pub(super) reports: HashMap<String, IdleChecks>,
    pub(super) usage: HashMap<String, Usage>,
    pub(super) warned: HashMap<String, IdleRule>,
}

impl Monitor {
    /// The idle task's state, for one round.
    pub(super) fn lock(&self) -> std::sync::LockResult<std::sync::MutexGuard<'_, Inner>> {
        self.inner.lock()
    }

    /// A running session's latest report.
    pub fn report(&self, session_id: &str) -> Option<IdleChecks> {
        self.inner
            .lock()
            .ok()
            .and_then(|i| i.reports.get(session_id).cloned())
    }

    /// A container's latest sampled use.
    pub fn usage(&self, container_id: &str) -> Option<Usage> {
        self.inner
            .lock()
            .ok()
            .and_then(|i| i.usage.get(container_id).copied())
    }
}

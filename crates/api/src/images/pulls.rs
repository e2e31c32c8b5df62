//! The last pre-pulls of images to resource groups and each agent's
//! progress, kept in this process (a replica answers for the ones it
//! runs).

use std::collections::VecDeque;
use std::sync::Mutex;

use berth_shared::images::{PrePull, PrePullAgent};

/// How many pre-pulls are remembered.
const KEPT: usize = 64;

/// The last pre-pulls, newest first.
#[derive(Debug, Default)]
pub struct PrePulls {
    jobs: Mutex<VecDeque<PrePull>>,
}

impl PrePulls {
    /// The group's pre-pulls, newest first.
    pub fn of_group(&self, group: &str) -> Vec<PrePull> {
        self.lock()
            .iter()
            .filter(|j| j.group == group)
            .cloned()
            .collect()
    }

    pub(super) fn add(&self, job: PrePull) {
        let mut jobs = self.lock();
        jobs.push_front(job);
        jobs.truncate(KEPT);
    }

    pub(super) fn update(&self, id: &str, agent: &str, change: impl FnOnce(&mut PrePullAgent)) {
        if let Some(a) = self
            .lock()
            .iter_mut()
            .find(|j| j.id == id)
            .and_then(|j| j.agents.iter_mut().find(|a| a.agent == agent))
        {
            change(a);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<PrePull>> {
        // a panic while holding it cannot leave the list half-changed
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

//! The last pre-pulls of images to resource groups and each agent's
//! progress, kept in this process (a replica answers for the ones it
//! runs).

use std::collections::VecDeque;
use std::sync::Mutex;

use berth_shared::images::{PrePull, PrePullAgent};

use crate::events::{Events, Note};

/// How many pre-pulls are remembered.
const KEPT: usize = 64;

/// The last pre-pulls, newest first.
#[derive(Debug, Default)]
pub struct PrePulls {
    jobs: Mutex<VecDeque<PrePull>>,
    /// Where each change is told to the other replicas.
    others: std::sync::OnceLock<Events>,
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
        self.tell(&job);
        let mut jobs = self.lock();
        jobs.push_front(job);
        jobs.truncate(KEPT);
    }

    /// Tells `events`' other replicas of every change from now on.
    pub fn tell_others_through(&self, events: Events) {
        let _ = self.others.set(events);
    }

    fn tell(&self, job: &PrePull) {
        if let Some(events) = self.others.get() {
            events.tell_others(Note::PrePull(job.clone()));
        }
    }

    /// Takes a pre-pull's state another replica sent.
    pub fn put(&self, job: PrePull) {
        let mut jobs = self.lock();
        match jobs.iter_mut().find(|j| j.id == job.id) {
            Some(j) => *j = job,
            None => {
                jobs.push_front(job);
                jobs.make_contiguous()
                    .sort_by_key(|j| std::cmp::Reverse(j.started_at));
                jobs.truncate(KEPT);
            }
        }
    }

    pub(super) fn update(&self, id: &str, agent: &str, change: impl FnOnce(&mut PrePullAgent)) {
        let changed = {
            let mut jobs = self.lock();
            let Some(job) = jobs.iter_mut().find(|j| j.id == id) else {
                return;
            };
            let Some(a) = job.agents.iter_mut().find(|a| a.agent == agent) else {
                return;
            };
            change(a);
            job.clone()
        };
        self.tell(&changed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<PrePull>> {
        // a panic while holding it cannot leave the list half-changed
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

//! Which sessions this process is launching, watching or stopping right
//! now. The reconciler leaves sessions under a running task alone, and no
//! session gets two watchers.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

/// What a task does to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// `launch`: creating and starting its container.
    Launching,
    /// `watch`: waiting for its container to end.
    Watching,
    /// `stop_and_finish`: stopping its containers and ending it.
    Stopping,
}

/// The sessions under each kind of task.
#[derive(Debug, Default)]
pub struct Tasks {
    launching: Mutex<HashSet<String>>,
    watching: Mutex<HashSet<String>>,
    stopping: Mutex<HashSet<String>>,
}

/// Held while a task runs; dropping it ends the task's claim.
#[derive(Debug)]
pub struct Claim<'a> {
    set: &'a Mutex<HashSet<String>>,
    id: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

impl Tasks {
    fn set(&self, task: Task) -> &Mutex<HashSet<String>> {
        match task {
            Task::Launching => &self.launching,
            Task::Watching => &self.watching,
            Task::Stopping => &self.stopping,
        }
    }

    /// Claims `session` for `task`; `None` when such a task already runs.
    pub fn claim(&self, task: Task, session: &str) -> Option<Claim<'_>> {
        let set = self.set(task);
        let fresh = set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session.to_string());
        fresh.then(|| Claim {
            set,
            id: session.to_string(),
        })
    }

    /// Whether a `task` runs for any session.
    pub fn any(&self, task: Task) -> bool {
        !self
            .set(task)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Whether a `task` runs for `session`.
    pub fn runs(&self, task: Task, session: &str) -> bool {
        self.set(task)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_exclusive_until_dropped() {
        let t = Tasks::default();
        let c = t.claim(Task::Watching, "s1").unwrap();
        assert!(t.claim(Task::Watching, "s1").is_none());
        assert!(
            t.claim(Task::Launching, "s1").is_some(),
            "kinds are separate"
        );
        assert!(t.runs(Task::Watching, "s1"));
        assert!(t.any(Task::Watching));
        drop(c);
        assert!(!t.runs(Task::Watching, "s1"));
        assert!(!t.any(Task::Watching));
        assert!(t.claim(Task::Watching, "s1").is_some());
    }
}

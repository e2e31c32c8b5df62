//! The commits in progress (a session saved as an image), by session:
//! what a session's page shows while one runs, and how a stop cancels one
//! and waits for it to be cleaned away.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use berth_shared::images::CommitProgress;

use crate::accounts::ms_to_time;

/// How often a stop looks whether the commit it waits for has returned.
const COMMIT_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// A commit in progress.
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub(super) name: String,
    pub(super) started_ms: i64,
    pub(super) cancelled: Arc<AtomicBool>,
}

/// Commits in progress, by session id.
#[derive(Debug, Default)]
pub struct Commits(Mutex<HashMap<String, Job>>);

impl Commits {
    /// The session's commit in progress, if any.
    pub fn progress(&self, session_id: &str) -> Option<CommitProgress> {
        let jobs = self.0.lock().ok()?;
        jobs.get(session_id).map(|j| CommitProgress {
            name: j.name.clone(),
            started_at: ms_to_time(j.started_ms),
        })
    }

    /// Whether any commit is in progress.
    pub fn any(&self) -> bool {
        self.0.lock().map_or(true, |jobs| !jobs.is_empty())
    }

    /// Cancels the session's commit (its image is removed when the engine
    /// finishes it); false when none runs.
    pub fn cancel(&self, session_id: &str) -> bool {
        let Ok(jobs) = self.0.lock() else {
            return false;
        };
        match jobs.get(session_id) {
            Some(j) => {
                j.cancelled.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    pub(super) fn start(&self, session_id: &str, job: Job) -> bool {
        let Ok(mut jobs) = self.0.lock() else {
            return false;
        };
        if jobs.contains_key(session_id) {
            return false;
        }
        jobs.insert(session_id.to_string(), job);
        true
    }

    /// Waits until the session has no commit in progress (a forced stop
    /// waits for the cancelled commit to be cleaned away).
    pub async fn wait_done(&self, session_id: &str) {
        while self.progress(session_id).is_some() {
            tokio::time::sleep(COMMIT_POLL).await;
        }
    }

    pub(super) fn finish(&self, session_id: &str) {
        if let Ok(mut jobs) = self.0.lock() {
            jobs.remove(session_id);
        }
    }
}

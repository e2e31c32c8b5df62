//! The commits in progress (a session saved as an image), by session:
//! what a session's page shows while one runs, and how a stop cancels one
//! and waits for it to be cleaned away. Each commit is also a task with
//! its own id, and the last ones' outcomes are kept a while, so a caller
//! who follows a task late still learns how it ended.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use berth_shared::images::{CommitOutcome, CommitProgress};

use crate::accounts::ms_to_time;
use crate::events::{CommitNote, Events, Note};

/// How often a stop looks whether the commit it waits for has returned.
const COMMIT_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// How many ended commits are remembered by task id.
const ENDED_KEPT: usize = 256;

/// A commit in progress.
#[derive(Debug, Clone)]
pub(super) struct Job {
    /// The task's id (also the label of the image it makes).
    pub(super) task_id: String,
    pub(super) name: String,
    pub(super) started_ms: i64,
    pub(super) cancelled: Arc<AtomicBool>,
    /// Run by another replica (this one only knows it runs).
    pub(super) elsewhere: bool,
}

/// A commit that ended.
#[derive(Debug, Clone)]
pub struct Ended {
    /// The session it saved.
    pub session_id: String,
    /// How it ended.
    pub outcome: CommitOutcome,
}

/// Where a commit task is.
#[derive(Debug, Clone)]
pub enum Task {
    /// Still running, on this session.
    Running {
        /// The session it saves.
        session_id: String,
    },
    /// Over.
    Ended(Ended),
}

/// Commits in progress, by session id, and the last ones that ended.
#[derive(Debug, Default)]
pub struct Commits {
    running: Mutex<HashMap<String, Job>>,
    ended: Mutex<VecDeque<(String, Ended)>>,
    /// Where starts and ends are told to the other replicas.
    others: std::sync::OnceLock<Events>,
}

impl Commits {
    /// Tells `events`' other replicas of every start and end from now on.
    pub fn tell_others_through(&self, events: Events) {
        let _ = self.others.set(events);
    }

    fn tell(&self, note: CommitNote) {
        if let Some(events) = self.others.get() {
            events.tell_others(Note::Commit(note));
        }
    }

    /// Does here what another replica said of its commits.
    pub fn heard(&self, note: CommitNote) {
        match note {
            CommitNote::Started {
                session_id,
                task_id,
                name,
                started_ms,
            } => {
                if let Ok(mut jobs) = self.running.lock() {
                    jobs.entry(session_id).or_insert(Job {
                        task_id,
                        name,
                        started_ms,
                        cancelled: Arc::default(),
                        elsewhere: true,
                    });
                }
            }
            CommitNote::Ended {
                session_id,
                outcome,
            } => self.end(&session_id, &outcome),
            CommitNote::Cancel { session_id } => {
                if let Ok(jobs) = self.running.lock() {
                    if let Some(j) = jobs.get(&session_id).filter(|j| !j.elsewhere) {
                        j.cancelled.store(true, Ordering::SeqCst);
                    }
                }
            }
        }
    }

    /// A commit task by its id: running, ended (among the last few
    /// hundred), or unknown.
    pub fn task(&self, task_id: &str) -> Option<Task> {
        let running = self.running.lock().ok()?;
        if let Some((sid, _)) = running.iter().find(|(_, j)| j.task_id == task_id) {
            return Some(Task::Running {
                session_id: sid.clone(),
            });
        }
        drop(running);
        let ended = self.ended.lock().ok()?;
        ended
            .iter()
            .find(|(id, _)| id == task_id)
            .map(|(_, e)| Task::Ended(e.clone()))
    }

    /// The session's commit in progress, if any.
    pub fn progress(&self, session_id: &str) -> Option<CommitProgress> {
        let jobs = self.running.lock().ok()?;
        jobs.get(session_id).map(|j| CommitProgress {
            name: j.name.clone(),
            started_at: ms_to_time(j.started_ms),
        })
    }

    /// Whether any commit is in progress.
    pub fn any(&self) -> bool {
        self.running.lock().map_or(true, |jobs| !jobs.is_empty())
    }

    /// Cancels the session's commit (its image is removed when the engine
    /// finishes it); false when none runs.
    pub fn cancel(&self, session_id: &str) -> bool {
        let Ok(jobs) = self.running.lock() else {
            return false;
        };
        match jobs.get(session_id) {
            Some(j) if j.elsewhere => {
                self.tell(CommitNote::Cancel {
                    session_id: session_id.to_string(),
                });
                true
            }
            Some(j) => {
                j.cancelled.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    pub(super) fn start(&self, session_id: &str, job: Job) -> bool {
        let Ok(mut jobs) = self.running.lock() else {
            return false;
        };
        if jobs.contains_key(session_id) {
            return false;
        }
        self.tell(CommitNote::Started {
            session_id: session_id.to_string(),
            task_id: job.task_id.clone(),
            name: job.name.clone(),
            started_ms: job.started_ms,
        });
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

    /// Ends the session's commit with its outcome (remembered by task id
    /// before the session is free for another).
    pub(super) fn finish(&self, session_id: &str, outcome: &CommitOutcome) {
        self.tell(CommitNote::Ended {
            session_id: session_id.to_string(),
            outcome: outcome.clone(),
        });
        self.end(session_id, outcome);
    }

    fn end(&self, session_id: &str, outcome: &CommitOutcome) {
        let Ok(mut jobs) = self.running.lock() else {
            return;
        };
        let Some(job) = jobs.remove(session_id) else {
            return;
        };
        if let Ok(mut ended) = self.ended.lock() {
            if ended.len() >= ENDED_KEPT {
                ended.pop_front();
            }
            ended.push_back((
                job.task_id,
                Ended {
                    session_id: session_id.to_string(),
                    outcome: outcome.clone(),
                },
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(task_id: &str) -> Job {
        Job {
            task_id: task_id.into(),
            name: "img1".into(),
            started_ms: 0,
            cancelled: Arc::new(AtomicBool::new(false)),
            elsewhere: false,
        }
    }

    fn done(reference: &str) -> CommitOutcome {
        CommitOutcome {
            name: "img1".into(),
            reference: Some(reference.into()),
            error: None,
        }
    }

    #[test]
    fn a_task_is_running_then_ended_with_its_outcome_and_the_oldest_ends_are_forgotten() {
        let c = Commits::default();
        assert!(c.task("t0").is_none());
        assert!(c.start("s1", job("t0")));
        assert!(
            !c.start("s1", job("t9")),
            "one commit per session at a time"
        );
        assert!(matches!(c.task("t0"), Some(Task::Running { session_id }) if session_id == "s1"));
        c.finish("s1", &done("r0"));
        assert!(c.progress("s1").is_none());
        match c.task("t0") {
            Some(Task::Ended(e)) => {
                assert_eq!(e.session_id, "s1");
                assert_eq!(e.outcome.reference.as_deref(), Some("r0"));
            }
            other => panic!("{other:?}"),
        }
        for i in 1..=ENDED_KEPT {
            assert!(c.start("s1", job(&format!("t{i}"))));
            c.finish("s1", &done(&format!("r{i}")));
        }
        assert!(c.task("t0").is_none(), "the oldest end is forgotten");
        assert!(matches!(
            c.task(&format!("t{ENDED_KEPT}")),
            Some(Task::Ended(_))
        ));
    }
}

//! What the idle task keeps between rounds: each session's samples and
//! warning, each container's latest use, and since when traffic counts.
//! Read by requests (which judge the samples as of their own moment),
//! written by the task alone.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use berth_shared::sessions::IdleRule;

use super::rules::Sample;
use crate::runtime::Usage;

/// What the task keeps between rounds (in memory: a restart starts the
/// windows and the network count afresh, from its own start).
#[derive(Debug, Default)]
pub struct Monitor {
    inner: Mutex<Inner>,
    /// When the task started (the network rule counts from here for a
    /// session that has had no traffic since); 0 before. Replicas take
    /// the lease holder's.
    counting_since: std::sync::atomic::AtomicI64,
}

#[derive(Debug, Default)]
pub(super) struct Inner {
    pub(super) samples: HashMap<String, VecDeque<Sample>>,
    pub(super) usage: HashMap<String, Usage>,
    pub(super) warned: HashMap<String, IdleRule>,
}

impl Monitor {
    /// The idle task's state, for one round.
    pub(super) fn lock(&self) -> std::sync::LockResult<std::sync::MutexGuard<'_, Inner>> {
        self.inner.lock()
    }

    /// A session's samples so far (oldest first).
    pub(super) fn samples(&self, session_id: &str) -> Vec<Sample> {
        self.inner
            .lock()
            .ok()
            .and_then(|i| {
                i.samples
                    .get(session_id)
                    .map(|s| s.iter().cloned().collect())
            })
            .unwrap_or_default()
    }

    /// Notes when the task started (the first call sets it).
    pub(super) fn start_counting(&self, at_ms: i64) -> i64 {
        use std::sync::atomic::Ordering::SeqCst;
        match self
            .counting_since
            .compare_exchange(0, at_ms, SeqCst, SeqCst)
        {
            Ok(_) => at_ms,
            Err(set) => set,
        }
    }

    /// Counts from when the lease holder does (another replica's start).
    pub fn count_from(&self, at_ms: i64) {
        self.counting_since
            .store(at_ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// Since when traffic counts (`now` before the task started).
    pub fn counting_since(&self, now_ms: i64) -> i64 {
        match self
            .counting_since
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            0 => now_ms,
            set => set,
        }
    }

    /// Takes a sample the lease holder's task took (the series keeps what
    /// it keeps: from `oldest_ms`); series not fed for an hour (their
    /// sessions ended) are forgotten.
    pub fn heard_sample(&self, session_id: &str, sample: Sample, oldest_ms: i64) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let now = sample.at_ms;
        inner
            .samples
            .retain(|_, s| s.back().is_some_and(|x| x.at_ms > now - 3_600_000));
        let series = inner.samples.entry(session_id.to_string()).or_default();
        series.push_back(sample);
        while series.front().is_some_and(|x| x.at_ms < oldest_ms) {
            series.pop_front();
        }
    }

    /// A container's latest sampled use.
    pub fn usage(&self, container_id: &str) -> Option<Usage> {
        self.inner
            .lock()
            .ok()
            .and_then(|i| i.usage.get(container_id).copied())
    }
}

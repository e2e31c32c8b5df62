//! Each session's traffic through the app proxy and its terminals (the
//! idle network rule reads it), with what passed through other replicas.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use berth_shared::apps::Traffic;

use super::Registry;
use crate::accounts::ms_to_time;
use crate::store::now_ms;

/// Bytes and last activity of one session's traffic.
#[derive(Debug, Default)]
pub struct TrafficCounter {
    bytes: AtomicU64,
    last_ms: AtomicI64,
    /// Bytes that passed here and are not yet told to the other replicas.
    untold: AtomicU64,
}

impl TrafficCounter {
    /// Counts `n` bytes passing now.
    pub fn add(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.untold.fetch_add(n as u64, Ordering::Relaxed);
        self.last_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Counts bytes that passed through another replica, the last at
    /// `last_ms`.
    pub fn absorb(&self, bytes: u64, last_ms: i64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.last_ms.fetch_max(last_ms, Ordering::Relaxed);
    }

    /// What passed so far.
    pub fn read(&self) -> Traffic {
        let last = self.last_ms.load(Ordering::Relaxed);
        Traffic {
            bytes: self.bytes.load(Ordering::Relaxed),
            last_activity: (last > 0).then(|| ms_to_time(last)),
        }
    }
}

impl Registry {
    /// The session's traffic counter (made on first use).
    pub fn traffic(&self, session_id: &str) -> Arc<TrafficCounter> {
        self.lock()
            .traffic
            .entry(session_id.to_string())
            .or_default()
            .clone()
    }

    /// Each session's bytes that passed here since the last call, and
    /// when the last passed (for the other replicas).
    pub fn untold_traffic(&self) -> Vec<(String, u64, i64)> {
        self.lock()
            .traffic
            .iter()
            .filter_map(|(id, t)| {
                let n = t.untold.swap(0, Ordering::Relaxed);
                (n > 0).then(|| (id.clone(), n, t.last_ms.load(Ordering::Relaxed)))
            })
            .collect()
    }
}

//! The open apps, their proxy ports, and each session's traffic. Kept in
//! memory: a restart closes every app (the next open starts it again, or
//! finds its service still running).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use berth_shared::apps::Traffic;
use tokio_util::sync::CancellationToken;

use crate::accounts::ms_to_time;
use crate::store::now_ms;

/// Bytes and last activity of one session's traffic.
#[derive(Debug, Default)]
pub struct TrafficCounter {
    bytes: AtomicU64,
    last_ms: AtomicI64,
}

impl TrafficCounter {
    /// Counts `n` bytes passing now.
    pub fn add(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.last_ms.store(now_ms(), Ordering::Relaxed);
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

/// One open app.
#[derive(Debug, Clone)]
pub struct OpenEntry {
    /// The proxy port it is served on.
    pub port: u16,
    /// No login needed.
    pub public: bool,
    /// Ends its proxy.
    pub cancel: CancellationToken,
}

#[derive(Debug, Default)]
struct Inner {
    open: HashMap<(String, String), OpenEntry>,
    traffic: HashMap<String, Arc<TrafficCounter>>,
}

/// Every open app of this server.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // a panic elsewhere while holding it leaves the map usable
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The app `name` of a session, if open.
    pub fn get(&self, session_id: &str, name: &str) -> Option<OpenEntry> {
        self.lock()
            .open
            .get(&(session_id.to_string(), name.to_string()))
            .cloned()
    }

    /// Records an open app; when one was recorded meanwhile (two opens at
    /// once), that one stays and is returned instead.
    pub fn insert(&self, session_id: &str, name: &str, entry: OpenEntry) -> Result<(), OpenEntry> {
        let mut inner = self.lock();
        let key = (session_id.to_string(), name.to_string());
        if let Some(existing) = inner.open.get(&key) {
            return Err(existing.clone());
        }
        inner.open.insert(key, entry);
        Ok(())
    }

    /// Whether a proxy port is taken by an open app.
    pub fn port_taken(&self, port: u16) -> bool {
        self.lock().open.values().any(|e| e.port == port)
    }

    /// Closes every app of a session (their ports return to the pool).
    pub fn close_session(&self, session_id: &str) {
        let mut inner = self.lock();
        inner.open.retain(|(sid, _), e| {
            if sid == session_id {
                e.cancel.cancel();
                false
            } else {
                true
            }
        });
        inner.traffic.remove(session_id);
    }

    /// The session's traffic counter (made on first use).
    pub fn traffic(&self, session_id: &str) -> Arc<TrafficCounter> {
        self.lock()
            .traffic
            .entry(session_id.to_string())
            .or_default()
            .clone()
    }

    /// Closes everything (server shutdown).
    pub fn close_all(&self) {
        let mut inner = self.lock();
        for e in inner.open.values() {
            e.cancel.cancel();
        }
        inner.open.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(port: u16) -> OpenEntry {
        OpenEntry {
            port,
            public: false,
            cancel: CancellationToken::new(),
        }
    }

    #[test]
    fn the_first_open_wins_and_closing_frees_ports() {
        let r = Registry::default();
        assert!(r.insert("s1", "jupyter", entry(30000)).is_ok());
        assert_eq!(
            r.insert("s1", "jupyter", entry(30001)).unwrap_err().port,
            30000
        );
        assert!(r.insert("s2", "jupyter", entry(30001)).is_ok());
        assert!(r.port_taken(30000));
        let token = r.get("s1", "jupyter").unwrap().cancel;
        r.traffic("s1").add(10);
        assert_eq!(r.traffic("s1").read().bytes, 10);
        r.close_session("s1");
        assert!(token.is_cancelled());
        assert!(!r.port_taken(30000) && r.port_taken(30001));
        assert_eq!(r.traffic("s1").read(), Traffic::default());
    }
}

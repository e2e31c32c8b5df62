//! What each user holds open at once (event streams, terminals, uploads),
//! counted so nobody holds more than the server allows: a slot is taken
//! before the work starts and given back when it ends, however it ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// What is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `GET /events`.
    Stream,
    /// A terminal's WebSocket.
    Terminal,
    /// An upload into a folder.
    Upload,
}

impl Kind {
    /// How the refusal names it.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Stream => "event streams",
            Kind::Terminal => "terminals",
            Kind::Upload => "uploads",
        }
    }
}

type Counts = HashMap<(Kind, String), u32>;

/// The counts, per kind and user.
#[derive(Debug, Default, Clone)]
pub struct Held(Arc<Mutex<Counts>>);

/// One held thing; its place is given back when dropped.
#[derive(Debug)]
pub struct Slot {
    counts: Arc<Mutex<Counts>>,
    key: (Kind, String),
}

impl Held {
    /// A slot of `kind` for `user`, unless they already hold `max`.
    pub fn take(&self, kind: Kind, user: &str, max: u32) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (kind, user.to_string());
        if counts.get(&key).copied().unwrap_or(0) >= max {
            return None;
        }
        *counts.entry(key.clone()).or_insert(0) += 1;
        Some(Slot {
            counts: self.0.clone(),
            key,
        })
    }

    /// How many of `kind` `user` holds.
    pub fn count(&self, kind: Kind, user: &str) -> u32 {
        let counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(&(kind, user.to_string())).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_per_user_and_kind_and_come_back() {
        let held = Held::default();
        let a = held.take(Kind::Terminal, "u1", 2).unwrap();
        let _b = held.take(Kind::Terminal, "u1", 2).unwrap();
        assert!(held.take(Kind::Terminal, "u1", 2).is_none());
        assert!(held.take(Kind::Terminal, "u2", 2).is_some());
        assert!(held.take(Kind::Upload, "u1", 2).is_some());
        drop(a);
        assert_eq!(held.count(Kind::Terminal, "u1"), 1);
        assert!(held.take(Kind::Terminal, "u1", 2).is_some());
        assert!(held.take(Kind::Stream, "u1", 0).is_none());
        assert!(held.0.lock().unwrap().len() <= 3, "nothing kept at zero");
    }
}

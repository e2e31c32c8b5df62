//! What each user holds open at once (event streams, terminals, uploads),
//! counted so nobody holds more than the server allows: a slot is taken
//! before the work starts and given back when it ends, however it ends.
//! Replicas tell each other their counts (on each change, and all of them
//! every [`RETELL_EVERY`]), and a cap counts what the user holds on every
//! replica; a replica's counts not heard again within `FORGET_AFTER` (it
//! died) are forgotten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How often a replica tells the others every count it holds.
pub const RETELL_EVERY: Duration = Duration::from_secs(10);
/// How long another replica's count stands without being told again.
const FORGET_AFTER: Duration = Duration::from_secs(35);

/// What is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// Other replicas' counts: by replica, kind and user, with when told.
type Elsewhere = HashMap<(String, Kind, String), (u32, Instant)>;

#[derive(Default)]
struct Inner {
    /// This process's.
    here: Mutex<Counts>,
    /// Other replicas': by replica, kind and user, with when it was told.
    elsewhere: Mutex<Elsewhere>,
    /// Where changes are told (`replicas` sends them to the others).
    others: OnceLock<Teller>,
}

/// Tells the other replicas a count: what, whose, how many now.
pub type Teller = Box<dyn Fn(Kind, &str, u32) + Send + Sync>;

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held").field("here", &self.here).finish()
    }
}

/// The counts, per kind and user.
#[derive(Debug, Default, Clone)]
pub struct Held(Arc<Inner>);

/// One held thing; its place is given back when dropped.
#[derive(Debug)]
pub struct Slot {
    held: Held,
    key: (Kind, String),
}

impl Held {
    /// A slot of `kind` for `user`, unless they already hold `max` (here
    /// and on the other replicas).
    pub fn take(&self, kind: Kind, user: &str, max: u32) -> Option<Slot> {
        let key = (kind, user.to_string());
        let elsewhere = self.elsewhere(kind, user);
        let count = {
            let mut counts = self.0.here.lock().unwrap_or_else(PoisonError::into_inner);
            let n = counts.get(&key).copied().unwrap_or(0);
            if n.saturating_add(elsewhere) >= max {
                return None;
            }
            let n = counts.entry(key.clone()).or_insert(0);
            *n += 1;
            *n
        };
        self.tell(kind, user, count);
        Some(Slot {
            held: self.clone(),
            key,
        })
    }

    /// How many of `kind` `user` holds (here and elsewhere).
    pub fn count(&self, kind: Kind, user: &str) -> u32 {
        let counts = self.0.here.lock().unwrap_or_else(PoisonError::into_inner);
        let here = counts.get(&(kind, user.to_string())).copied().unwrap_or(0);
        drop(counts);
        here + self.elsewhere(kind, user)
    }

    /// What the other replicas hold of `kind` for `user` (forgetting the
    /// counts of replicas that went quiet).
    fn elsewhere(&self, kind: Kind, user: &str) -> u32 {
        let mut e = self
            .0
            .elsewhere
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        e.retain(|_, (_, at)| at.elapsed() < FORGET_AFTER);
        e.iter()
            .filter(|((_, k, u), _)| *k == kind && u == user)
            .map(|(_, (n, _))| *n)
            .sum()
    }

    /// Tells every change from now on through `teller` (set once).
    pub fn tell_others_through(&self, teller: Teller) {
        let _ = self.0.others.set(teller);
    }

    fn tell(&self, kind: Kind, user: &str, count: u32) {
        if let Some(teller) = self.0.others.get() {
            teller(kind, user, count);
        }
    }

    /// Tells the other replicas every count held here (so they keep
    /// them).
    pub fn retell(&self) {
        let all: Vec<_> = self
            .0
            .here
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|((k, u), n)| (*k, u.clone(), *n))
            .collect();
        for (kind, user, count) in all {
            self.tell(kind, &user, count);
        }
    }

    /// Takes another replica's count.
    pub fn heard(&self, replica: String, kind: Kind, user: String, count: u32) {
        let mut e = self
            .0
            .elsewhere
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if count == 0 {
            e.remove(&(replica, kind, user));
        } else {
            e.insert((replica, kind, user), (count, Instant::now()));
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let left = {
            let mut counts = self
                .held
                .0
                .here
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match counts.get_mut(&self.key) {
                Some(n) => {
                    *n = n.saturating_sub(1);
                    let left = *n;
                    if left == 0 {
                        counts.remove(&self.key);
                    }
                    left
                }
                None => 0,
            }
        };
        self.held.tell(self.key.0, &self.key.1, left);
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
        assert!(
            held.0.here.lock().unwrap().len() <= 3,
            "nothing kept at zero"
        );
        // another replica's count counts, until it says it is down to 0
        held.heard("r2".into(), Kind::Upload, "u3".into(), 2);
        assert!(held.take(Kind::Upload, "u3", 2).is_none());
        assert_eq!(held.count(Kind::Upload, "u3"), 2);
        held.heard("r2".into(), Kind::Upload, "u3".into(), 0);
        assert!(held.take(Kind::Upload, "u3", 2).is_some());
    }
}
